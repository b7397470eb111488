/**
 * The agent's life on a board reached over real SSH (OpenSSH on loopback), driven through the
 * `axctl agent` CLI: install without a service, status, re-install as an init.d service
 * (token kept, upgraded in place), a model run through ssh:// on the installed agent, an old agent of another protocol refused with the command
 * that upgrades it, uninstall (nothing left running, nothing left on disk), uninstall again.
 * The steps run in order on one board.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallReport } from '../../host/agent-install/install';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import '../../host/ssh/transport';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import type { StatusReport } from '../../host/agent-install/status';
import type { UninstallReport } from '../../host/agent-install/uninstall';
import { BUNDLE, SIM_RUN_JOINT, alive, axctl, json, startFakeBoard, type FakeBoard } from './helpers';

const mode = async (file: string) => (await fsp.stat(file)).mode & 0o777;

describe('axctl agent install / status / uninstall over SSH', () => {
  let board: FakeBoard;
  let token: string;
  let hostTokenFile: string;

  beforeAll(async () => {
    board = await startFakeBoard();
  });
  afterAll(async () => {
    await board?.stop();
  });

  it('installs without a service: agent, wrapper, settings, a 600 token on both sides, and it answers over ssh stdio', async () => {
    const r = json<InstallReport>(await axctl(['agent', 'install', ...board.boardArgs, '--service', 'none', '--run-joint', SIM_RUN_JOINT, '--json'], board.env));
    expect(r).toMatchObject({ prefix: board.prefix, service: 'none', runJoint: SIM_RUN_JOINT, store: `${board.prefix}/store`, tokenKept: false, node: expect.stringMatching(/node/) });
    expect(r.previousVersion).toBeUndefined();
    expect(r.checks.stdio).toMatchObject({ ok: true, agentVersion: r.version });
    expect(r.checks.service).toBeUndefined();
    expect(r.hostTokenFile).toBe(path.join(board.configHome, 'axctl/tokens', `127.0.0.1_${board.sshd.port}.token`));
    hostTokenFile = r.hostTokenFile;
    token = (await fsp.readFile(path.join(board.prefix, 'etc/token'), 'utf8')).trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await fsp.readFile(hostTokenFile, 'utf8')).trim()).toBe(token);
    expect(await mode(path.join(board.prefix, 'etc/token'))).toBe(0o600);
    expect(await mode(hostTokenFile)).toBe(0o600);
    expect(await mode(path.join(board.prefix, 'bin/axagent'))).toBe(0o755);
    expect((await fsp.readFile(path.join(board.prefix, 'lib/axagent.js'))).equals(await fsp.readFile(BUNDLE))).toBe(true);
  });

  it('status: installed, this version, answers, free store space', async () => {
    const r = json<StatusReport>(await axctl(['agent', 'status', ...board.boardArgs, '--json'], board.env));
    expect(r).toMatchObject({ installed: true, service: 'none', hostTokenPresent: true, problems: [] });
    expect(r.version).toBe(r.thisVersion);
    expect(r.checks.stdio?.ok).toBe(true);
    expect(r.storeFreeBytes).toBeGreaterThan(0);
    const text = await axctl(['agent', 'status', ...board.boardArgs], board.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/installed at .*\n(.*\n)*\s+ssh stdio\s+answers \(axagent /);
    // --agent-prefix, as verify and deploy call the same folder, names it too.
    const aliased = board.boardArgs.map((arg) => (arg === '--prefix' ? '--agent-prefix' : arg));
    const viaAlias = json<StatusReport>(await axctl(['agent', 'status', ...aliased, '--json'], board.env));
    expect(viaAlias).toMatchObject({ installed: true, prefix: board.prefix, problems: [] });
  });

  it('re-installs as an init.d service: token kept, settings kept, service started and answering on its port', async () => {
    const r = json<InstallReport>(await axctl(['agent', 'install', ...board.boardArgs, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1', '--json'], board.env));
    expect(r).toMatchObject({ service: 'initd', serviceFile: path.join(board.initdDir, 'S99axagent'), tokenKept: true, runJoint: SIM_RUN_JOINT, listen: `127.0.0.1:${board.port}` });
    expect(r.previousVersion).toBe(r.version);
    expect(r.checks.service).toMatchObject({ ok: true, agentVersion: r.version });
    expect((await fsp.readFile(path.join(board.prefix, 'etc/token'), 'utf8')).trim()).toBe(token);
    expect((await fsp.readFile(hostTokenFile, 'utf8')).trim()).toBe(token);
    const pid = Number(await fsp.readFile(path.join(board.prefix, 'run/axagent.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    const status = json<StatusReport>(await axctl(['agent', 'status', ...board.boardArgs, '--json'], board.env));
    expect(status).toMatchObject({ service: 'initd', serviceState: 'running', problems: [] });
    expect(status.checks.service?.ok).toBe(true);
  });

  it('ssh:// reaches the installed agent through its wrapper and runs a model: outputs equal gt/joint; axctl verify --board ssh:// says match', async () => {
    const transport = await openTransport(board.sshd.url, { schemeOptions: { identity: board.sshd.clientKey.file, knownHosts: board.sshd.knownHosts, agentPrefix: board.prefix, agentSocket: null } });
    expect(transport.kind).toBe('ssh');
    const client = await AgentClient.connect(transport, { token: (await fsp.readFile(hostTokenFile, 'utf8')).trim() });
    try {
      const work = path.join(board.dir, 'host-work');
      await fsp.mkdir(work);
      makeModel('classifier', path.join(work, 'm.joint'));
      const gt = await makeGt(path.join(work, 'm.joint'), path.join(work, 'gt'), { seed: 3 });
      const upload = async (file: string) => {
        const data = await fsp.readFile(file);
        const hash = createHash('sha256').update(data).digest('hex');
        await client.putFile(file, hash, data.length);
        return hash;
      };
      const modelHash = await upload(path.join(work, 'm.joint'));
      const inputs = [];
      for (const input of gt.inputs) inputs.push({ name: input.name, hash: await upload(input.bin) });
      const result = await client.run({ modelHash, inputs });
      expect(result.status).toBe('ok');
      for (const expected of gt.joint) {
        const output = result.outputs.find((o) => o.name === expected.name)!;
        await client.getBlob(output.hash, output.size, path.join(work, 'out.bin'));
        expect((await fsp.readFile(path.join(work, 'out.bin'))).equals(await fsp.readFile(expected.bin))).toBe(true);
      }
      // The blobs went to the store the installation set up.
      expect((await fsp.readdir(path.join(board.prefix, 'store/blobs'))).length).toBeGreaterThan(1);
    } finally {
      await client.close();
    }
    // The user's way: axctl verify --board ssh://..., no token given (the board's is read over SSH).
    const verify = await axctl(['verify', '--board', board.sshd.url, '--identity', board.sshd.clientKey.file, '--known-hosts', board.sshd.knownHosts, '--agent-prefix', board.prefix, '--model', 'host-work/m.joint', '--gt', 'host-work/gt', '--json'], board.env, 120_000, board.dir);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ verdict: 'match', board: { url: board.sshd.url } });
  });

  it('axctl boards pings the ssh:// board with no token on this host (the board keeps it) and shows the run_joint version it ran', async () => {
    await fsp.writeFile(path.join(board.dir, 'axctl.yaml'), [
      'boards:',
      '  evb-ssh:',
      `    url: ${board.sshd.url}`,
      `    identity: ${board.sshd.clientKey.file}`,
      `    known-hosts: ${board.sshd.knownHosts}`,
      `    agent-prefix: ${board.prefix}`,
      '',
    ].join('\n'));
    const aside = `${hostTokenFile}.aside`;
    await fsp.rename(hostTokenFile, aside);
    try {
      const res = await axctl(['boards', '--json'], board.env, 60_000, board.dir);
      expect(res.code, res.stderr).toBe(0);
      const report = JSON.parse(res.stdout) as { boards: { name: string; ok: boolean; mode: string; runJointVersion?: string }[] };
      expect(report.boards).toEqual([expect.objectContaining({ name: 'evb-ssh', ok: true, mode: 'agent', runJointVersion: '0.5.10' })]);
    } finally {
      await fsp.rename(aside, hostTokenFile);
      await fsp.rm(path.join(board.dir, 'axctl.yaml'));
    }
  });

  it('refuses an agent of another protocol with the command that upgrades it; install upgrades it in place', async () => {
    // What an older release left on the board: the same agent announcing protocol 0, its
    // service stopped (a running service owns the store, and ssh:// would reach that instead).
    execFileSync('sh', [path.join(board.initdDir, 'S99axagent'), 'stop']);
    const old = (await fsp.readFile(BUNDLE, 'utf8')).replace(/(PROTOCOL_MAJOR = )1;/, '$10;');
    expect(old).not.toBe(await fsp.readFile(BUNDLE, 'utf8'));
    await fsp.writeFile(path.join(board.prefix, 'lib/axagent.js'), old);
    const status = await axctl(['agent', 'status', ...board.boardArgs, '--json'], board.env);
    expect(status.code).toBe(1);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.checks.stdio).toMatchObject({ ok: false, code: 'PROTOCOL_MISMATCH' });
    expect(report.checks.stdio?.error).toContain(`upgrade the agent: axctl agent install --board ${board.sshd.url}`);
    expect(report.problems.join('\n')).toContain(`axctl agent install --board ${board.sshd.url}`);

    const upgraded = json<InstallReport>(await axctl(['agent', 'install', ...board.boardArgs, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1', '--json'], board.env));
    expect(upgraded.tokenKept).toBe(true);
    expect(upgraded.checks.stdio.ok).toBe(true);
    expect((await fsp.readFile(path.join(board.prefix, 'lib/axagent.js'))).equals(await fsp.readFile(BUNDLE))).toBe(true);
  });

  it('uninstalls: service stopped and removed, no agent process left, prefix gone; the host keeps its token', async () => {
    const pid = Number(await fsp.readFile(path.join(board.prefix, 'run/axagent.pid'), 'utf8'));
    const r = json<UninstallReport>(await axctl(['agent', 'uninstall', ...board.boardArgs, '--json'], board.env));
    expect(r).toMatchObject({ wasInstalled: true, service: 'initd', serviceFile: path.join(board.initdDir, 'S99axagent') });
    expect(alive(pid)).toBe(false);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
    await expect(fsp.access(path.join(board.initdDir, 'S99axagent'))).rejects.toThrow();
    await expect(fsp.access(board.initdDir)).resolves.toBeUndefined();
    expect((await fsp.readFile(hostTokenFile, 'utf8')).trim()).toBe(token);
  });

  it('uninstalling again is fine, and status then says how to install', async () => {
    const again = await axctl(['agent', 'uninstall', ...board.boardArgs], board.env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing installed');
    const status = await axctl(['agent', 'status', ...board.boardArgs, '--json'], board.env);
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as StatusReport).problems[0]).toContain(`no agent installed at ${board.prefix}: run axctl agent install --board ${board.sshd.url} --prefix ${board.prefix}`);
  });
});
