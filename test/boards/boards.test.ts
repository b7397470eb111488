/**
 * `axctl boards` against real agents on loopback (each its own process): boards that answer
 * with a token from a token-file, an inline token, or this host's copy written by
 * `axctl agent install`; boards that do not (nothing listening, a wrong token, a silent
 * server, an agent of another protocol) each show their error in one line while the others
 * are still listed. Exit 0 / 1 / 2 for all answered / some did not / a bad inventory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTokenFile } from '../../host/agent-install/host-token';
import type { BoardsReport } from '../../host/boards/ping';
import { mountTmpfs } from '../agent/tmpfs';
import { freePort } from '../ssh/sshd';
import { BUNDLE, CLI, SIM_RUN_JOINT, requireBuild } from '../agent-install/helpers';

interface Agent {
  url: string;
  token: string;
  tokenFile: string;
  stop(): Promise<void>;
}

/** An agent from `agentFile` listening on loopback, with its own store and token. */
async function startAgent(dir: string, name: string, agentFile = BUNDLE): Promise<Agent> {
  const home = path.join(dir, name);
  await fsp.mkdir(home, { recursive: true });
  const token = randomBytes(32).toString('hex');
  const tokenFile = path.join(home, 'token');
  await fsp.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const child = spawn(process.execPath, [agentFile, '--listen', '127.0.0.1:0', '--store', path.join(home, 'store'), '--run-joint', SIM_RUN_JOINT, '--token-file', tokenFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent ${name} did not start: ${stderr}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`agent ${name} exited: ${stderr}`)));
  });
  return {
    url,
    token,
    tokenFile,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function boards(cwd: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'boards', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('axctl boards', () => {
  let dir: string;
  let project: string;
  let env: NodeJS.ProcessEnv;
  const agents: Agent[] = [];
  let silent: net.Server;
  let fileAgent: Agent, inlineAgent: Agent, installedAgent: Agent, oldAgent: Agent;

  beforeAll(async () => {
    requireBuild();
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-boards-'));
    project = path.join(dir, 'project');
    await fsp.mkdir(path.join(project, 'sub'), { recursive: true });
    env = { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config') };
    delete env.AXCTL_TOKEN;
    fileAgent = await startAgent(dir, 'file');
    inlineAgent = await startAgent(dir, 'inline');
    installedAgent = await startAgent(dir, 'installed');
    // An agent an older axctl release left on a board: it announces protocol 0.
    const old = path.join(dir, 'old-axagent.js');
    await fsp.writeFile(old, (await fsp.readFile(BUNDLE, 'utf8')).replace(/(PROTOCOL_MAJOR = )1;/, '$10;'));
    oldAgent = await startAgent(dir, 'old', old);
    agents.push(fileAgent, inlineAgent, installedAgent, oldAgent);
    // The host's copy of a token, where `axctl agent install` leaves it.
    const copy = hostTokenFile(installedAgent.url, env);
    await fsp.mkdir(path.dirname(copy), { recursive: true });
    await fsp.writeFile(copy, `${installedAgent.token}\n`, { mode: 0o600 });
    // Accepts TCP connections and never says a word.
    silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    silent?.close();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  async function writeInventory(file: string, boardsYaml: string): Promise<void> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, `boards:\n${boardsYaml}`);
  }

  it('lists every board; those that do not answer show why in one line; exit 1', async () => {
    const deadPort = await freePort();
    await writeInventory(path.join(project, 'axctl.yaml'), [
      `  evb-file:\n    url: ${fileAgent.url}\n    token-file: ${fileAgent.tokenFile}`,
      `  evb-inline:\n    url: ${inlineAgent.url}\n    token: ${inlineAgent.token}`,
      `  evb-installed: ${installedAgent.url}`,
      `  evb-dead: ws://127.0.0.1:${deadPort}`,
      `  evb-wrong-token:\n    url: ${fileAgent.url}\n    token: ${'ab'.repeat(32)}`,
      `  evb-silent:\n    url: ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}\n    token: ${'cd'.repeat(32)}`,
      `  evb-old:\n    url: ${oldAgent.url}\n    token-file: ${oldAgent.tokenFile}`,
    ].join('\n') + '\n');
    // The user's inventory adds a board; the project's entries win on equal names.
    await writeInventory(path.join(dir, 'config/axctl/axctl.yaml'), `  evb-file: ws://127.0.0.1:1\n  user-board:\n    url: ${inlineAgent.url}\n    token: ${inlineAgent.token}\n`);

    const r = await boards(path.join(project, 'sub'), env, ['--json', '--timeout', '3']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as BoardsReport;
    expect(report.sources).toEqual([path.join(dir, 'config/axctl/axctl.yaml'), path.join(project, 'axctl.yaml')]);
    const byName = new Map(report.boards.map((b) => [b.name, b]));
    expect([...byName.keys()].sort()).toEqual(['evb-dead', 'evb-file', 'evb-inline', 'evb-installed', 'evb-old', 'evb-silent', 'evb-wrong-token', 'user-board']);
    for (const name of ['evb-file', 'evb-inline', 'evb-installed', 'user-board']) {
      const b = byName.get(name)!;
      expect(b, name).toMatchObject({ ok: true, mode: 'agent', agentVersion: expect.stringMatching(/^\d+\.\d+\.\d+/), hostname: os.hostname() });
      expect(b.freeBytes, name).toBeGreaterThan(0);
      expect(b.latencyMs, name).toBeGreaterThanOrEqual(0);
    }
    expect(byName.get('evb-file')!.url).toBe(fileAgent.url);
    expect(byName.get('evb-dead')).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
    expect(byName.get('evb-wrong-token')).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    expect(byName.get('evb-silent')).toMatchObject({ ok: false });
    expect(['CONNECT_TIMEOUT', 'PING_TIMEOUT']).toContain(byName.get('evb-silent')!.code);
    expect(byName.get('evb-old')).toMatchObject({ ok: false, code: 'PROTOCOL_MISMATCH' });
    expect(byName.get('evb-old')!.error).toContain('upgrade the agent: axctl agent install --board ssh://USER@127.0.0.1');
    expect(report.answered).toBe(4);

    const text = await boards(project, env, ['--timeout', '3']);
    expect(text.code).toBe(1);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+URL\s+AGENT\s+RUN_JOINT\s+FREE\s+LATENCY$/);
    expect(lines).toHaveLength(1 + 8 + 1);
    expect(lines.find((l) => l.startsWith('evb-dead '))).toMatch(/CONNECT_REFUSED: .*connection refused/);
    expect(lines.find((l) => l.startsWith('evb-file '))).toMatch(/\d+\.\d+\.\d+\s+-\s+[\d.]+ \w?i?B\s+\d+ ms$/);
    expect(lines.at(-1)).toMatch(/^4 of 8 boards answered/);
  });

  it('exit 0 when every board answers', async () => {
    await fsp.rm(path.join(dir, 'config/axctl/axctl.yaml'));
    await writeInventory(path.join(project, 'axctl.yaml'), `  a:\n    url: ${fileAgent.url}\n    token-file: ${fileAgent.tokenFile}\n  b: ${installedAgent.url}\n`);
    const r = await boards(project, env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^2 of 2 boards answered/m);
  });

  it("a board whose agent answers but cannot write its store is not counted as answered (STORE_UNUSABLE)", async () => {
    const disk = path.join(dir, 'ro-disk');
    const unmount = await mountTmpfs(disk, 'size=4m');
    const roAgent = await startAgent(disk, 'ro');
    try {
      execFileSync('mount', ['-o', 'remount,ro', disk]);
      await writeInventory(path.join(project, 'axctl.yaml'), `  ro:\n    url: ${roAgent.url}\n    token-file: ${roAgent.tokenFile}\n  a:\n    url: ${fileAgent.url}\n    token-file: ${fileAgent.tokenFile}\n`);
      const r = await boards(project, env, ['--json']);
      expect(r.code, r.stderr).toBe(1);
      const byName = new Map((JSON.parse(r.stdout) as BoardsReport).boards.map((b) => [b.name, b]));
      expect(byName.get('ro')).toMatchObject({ ok: false, code: 'STORE_UNUSABLE', hostname: os.hostname() });
      expect(byName.get('ro')!.error).toMatch(/its store cannot be written: the store folder .*ro\/store cannot be written \(the filesystem is read-only\)/);
      expect(byName.get('a')).toMatchObject({ ok: true });
    } finally {
      await roAgent.stop();
      unmount();
    }
  });

  it('a CI job cancelled (SIGTERM) while it waits for a board: exit 130 and, with --json, the INTERRUPTED answer', async () => {
    const hanging = net.createServer();
    const reached = new Promise<void>((resolve) => hanging.on('connection', () => resolve()));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      await writeInventory(path.join(project, 'axctl.yaml'), `  evb-hangs:\n    url: ws://127.0.0.1:${(hanging.address() as net.AddressInfo).port}\n    token: ${'ef'.repeat(32)}\n`);
      const child = spawn(process.execPath, [CLI, 'boards', '--json'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await reached; // axctl is up and waiting for the board: boards has no handler of its own
      child.kill('SIGTERM');
      expect(await exited).toBe(130);
      expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'INTERRUPTED', exitCode: 130 } });
    } finally {
      hanging.close();
    }
  });

  it('a ws:// board without a token whose host has a copy from install over another SSH port: the answer names that file, and it is not used', async () => {
    const other = path.join(dir, 'config/axctl/tokens/gw.invalid_2222.token');
    await fsp.writeFile(other, `${fileAgent.token}\n`, { mode: 0o600 });
    try {
      const inventory = path.join(project, 'axctl.yaml');
      await writeInventory(inventory, `  behind-gw: ws://gw.invalid:8700\n`);
      const r = await boards(project, env, ['--json']);
      expect(r.code, r.stderr).toBe(1);
      const [answer] = (JSON.parse(r.stdout) as BoardsReport).boards;
      expect(answer).toMatchObject({ name: 'behind-gw', ok: false, code: 'TOKEN_MISSING' });
      expect(answer!.error).toContain(`SSH port 2222: add token-file: ${other} to it in ${inventory}`);
    } finally {
      await fsp.rm(other);
    }
  });

  it('exit 2, naming the file, for a malformed inventory; and when there is none', async () => {
    await writeInventory(path.join(project, 'axctl.yaml'), `  a:\n    url: ${fileAgent.url}\n    tokenfile: x\n`);
    const bad = await boards(project, env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${path.join(project, 'axctl.yaml')}: board "a": unknown key "tokenfile"`);
    const nowhere = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-boards-empty-'));
    try {
      const none = await boards(nowhere, env);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/axctl: no axctl\.yaml here/);
    } finally {
      await fsp.rm(nowhere, { recursive: true, force: true });
    }
  });
});
