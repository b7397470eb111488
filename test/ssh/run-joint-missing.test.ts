/**
 * An installed agent whose run_joint is gone (a firmware update removed it, or the install named
 * a wrong path), reached over ssh://: the agent refuses to start, and `axctl verify` must say
 * that the board's run_joint is missing, naming the board and the path, with what to do, as a
 * run failure (RUN_JOINT_NOT_FOUND, exit 4), not as a connection problem (exit 5) in the
 * agent's words about an option the user never typed.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, installAgent, requireBuild, ROOT, tempDir, type Fixture } from './helpers';
import { startSshd, type Sshd } from './sshd';

const CLI = path.join(ROOT, 'dist/host/cli.js');
let board: Sshd;
let dir: string;
let fx: Fixture;

beforeAll(async () => {
  requireBuild();
  dir = await tempDir();
  [board, fx] = await Promise.all([startSshd(), fixture(path.join(dir, 'data'))]);
});

afterAll(async () => {
  await board?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
});

function axctl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache-home'), XDG_CONFIG_HOME: path.join(dir, 'config-home'), SSH_AUTH_SOCK: '', NO_COLOR: '1' };
  delete env.AXCTL_TOKEN;
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

describe('verify over ssh:// against an installed agent whose run_joint is missing', () => {
  const gone = '/opt/bin/no-such-run_joint';
  let prefix: string;
  beforeAll(async () => {
    prefix = path.join(await fsp.mkdtemp(path.join(dir, 'board-')), 'opt', 'axagent');
    await installAgent(prefix, gone);
  });
  const args = () => ['verify', '--board', board.url, '--model', fx.model, '--gt', fx.gt, '--identity', board.clientKey.file, '--known-hosts', board.knownHosts, '--agent-prefix', prefix];

  it('says so in one line naming the board and the path, with what to do (exit 4, no stack)', async () => {
    const res = await axctl(args());
    expect(res.code).toBe(4);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `axctl: ${board.url}: the agent's run_joint ${gone} does not exist on the board ` +
        `(put run_joint back at that path, or reinstall the agent with the right one: axctl agent install --board ${board.url} --run-joint PATH)`,
    );
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('gives the stable code RUN_JOINT_NOT_FOUND with --json', async () => {
    const res = await axctl([...args(), '--json']);
    expect(res.code).toBe(4);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'RUN_JOINT_NOT_FOUND', exitCode: 4 } });
  });
});
