/**
 * `axctl verify` as a child process against an sshd on loopback: the SSH options as a user
 * types them, real exit codes and the one-line errors on stderr.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprint } from '../../host/ssh/known-hosts';
import { agentOnStdio, fixture, installAgent, requireBuild, runAxctlIn, runJointAt, SIM_RUN_JOINT, startRelay, tempDir, type Fixture } from './helpers';
import { startSshd, type Sshd } from './sshd';
import { expectRunJointGoneReport, runJointGoneLine } from '../e2e/helpers';

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

function axctl(args: string[], onStart?: (child: ChildProcess) => void) {
  return runAxctlIn(dir, args, onStart);
}

const target = (identity = board.clientKey.file) => ['--board', board.url, '--model', fx.model, '--gt', fx.gt, '--identity', identity];

describe('axctl verify over ssh://', () => {
  it('refuses an unknown host with its fingerprint (exit 5), then accepts it when told to (exit 0)', async () => {
    const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')));
    const knownHosts = path.join(dir, 'fresh_known_hosts');
    const args = [...target(), '--known-hosts', knownHosts, '--agent-command', agent.command, '--token-file', agent.tokenFile];
    const refused = await axctl(['verify', ...args]);
    expect(refused.code).toBe(5);
    const key = Buffer.from(board.hostKeys[0]!.publicLine.split(' ')[1]!, 'base64');
    expect(refused.stderr).toContain(fingerprint(key));
    expect(refused.stderr).toContain('--accept-new-host-key');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    const accepted = await axctl(['verify', ...args, '--accept-new-host-key']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/^MATCH /);
    expect(await fsp.readFile(knownHosts, 'utf8')).toContain(`[127.0.0.1]:${board.port} ssh-ed25519 `);
  });

  it('verifies agentless, with run_joint and the cache at paths that need quoting (exit 0)', async () => {
    const res = await axctl(['verify', ...target(), '--known-hosts', board.knownHosts, '--agentless', '--run-joint', await runJointAt(dir), '--board-cache', path.join(dir, "board's cache"), '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ verdict: 'match' });
    expect((await fsp.readdir(path.join(dir, "board's cache", 'blobs'))).length).toBe(2);
  });

  it('deploy over SSH names its SSH options in the next step, and that verify works as written', async () => {
    const cache = path.join(dir, "deploy's cache");
    const runJoint = await runJointAt(await fsp.mkdtemp(path.join(dir, 'deploy-')));
    const res = await axctl(['deploy', ...target(), '--known-hosts', board.knownHosts, '--agentless', '--run-joint', runJoint, '--board-cache', cache]);
    expect(res.code).toBe(0);
    const next = /run `axctl verify ([^`]*)` next \(SSH options are not recorded/.exec(res.stdout);
    expect(next, res.stdout).not.toBeNull();
    const q = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);
    expect(next![1]).toBe(`--identity ${board.clientKey.file} --known-hosts ${board.knownHosts} --run-joint ${q(runJoint)} --board-cache ${q(cache)} --agentless`);
    // The words as a shell reads them: the verify they name gives a verdict.
    const words = execFileSync('sh', ['-c', `for w in ${next![1]}; do printf '%s\\0' "$w"; done`]).toString().split('\0').slice(0, -1);
    expect((await axctl(['verify', ...words, '--json'])).code).toBe(0);
  });

  it('refuses --run-joint and --board-cache without --agentless (the agent would run its own run_joint)', async () => {
    const res = await axctl(['verify', ...target(), '--known-hosts', board.knownHosts, '--run-joint', '/somewhere/run_joint', '--json']);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout).error).toMatchObject({ code: 'OPTION_NEEDS_AGENTLESS' });
    expect(res.stderr).toMatch(/--run-joint acts only with --agentless/);
  });

  it('deploy --agentless with a run_joint the board does not have still sends everything and says why (exit 0)', async () => {
    // A model this host has not seen (no cached listing): deploy asks the board to list it.
    const fresh = await fixture(path.join(dir, 'unseen'), 'multi-input', 7);
    const res = await axctl(['deploy', '--board', board.url, '--model', fresh.model, '--gt', fresh.gt, '--identity', board.clientKey.file, '--known-hosts', board.knownHosts, '--agentless', '--run-joint', '/nowhere/run_joint', '--board-cache', path.join(dir, 'missing-rj cache'), '--json']);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { listingProblem: string | null; inputs: unknown[] };
    expect(out.listingProblem).toContain(`run_joint /nowhere/run_joint does not exist on ${board.url}`);
    expect(out.inputs).toHaveLength(3);
  });

  it('verify --agentless with a run_joint the board does not have: run-failed saying to give --run-joint, not to reinstall an agent (exit 4)', async () => {
    const cache = path.join(dir, 'no-rj cache');
    const ssh = ['--identity', board.clientKey.file, '--known-hosts', board.knownHosts, '--agentless', '--board-cache', cache];
    const files = (f: Fixture) => ['--board', board.url, '--model', f.model, '--gt', f.gt];
    // One model listed before (the run is asked at once), one never seen (the board is asked to list it first).
    const seen = await fixture(path.join(dir, 'seen-by-rj'), 'multi-input', 8);
    expect((await axctl(['verify', ...files(seen), ...ssh, '--run-joint', await runJointAt(await fsp.mkdtemp(path.join(dir, 'rj-')))])).code).toBe(0);
    const unseen = await fixture(path.join(dir, 'unseen-by-rj'), 'multi-input', 9);
    for (const f of [seen, unseen]) {
      const res = await axctl(['verify', ...files(f), ...ssh, '--run-joint', '/nowhere/run_joint', '--json']);
      expect(res.code, res.stderr).toBe(4);
      const report = JSON.parse(res.stdout) as { verdict: string; summary: string; advice: string[] };
      expect(report.verdict).toBe('run-failed');
      expect(report.summary).toMatch(/run_joint \/nowhere\/run_joint does not exist on ssh:\/\//);
      expect([report.summary, ...report.advice].join('\n')).toContain('check the path given with --run-joint');
      expect(res.stdout).not.toContain('axctl agent install');
    }
  });

  it('diagnose takes the same SSH options for its board step (agentless here)', async () => {
    const res = await axctl(['diagnose', '--joint', fx.model, '--gt', fx.gt, '--board', board.url, '--identity', board.clientKey.file, '--known-hosts', board.knownHosts, '--agentless', '--run-joint', await runJointAt(await fsp.mkdtemp(path.join(dir, 'diagnose-'))), '--board-cache', path.join(dir, 'diagnose cache'), '--json']);
    expect(res.stderr).not.toMatch(/unknown (option|argument)/i);
    const report = JSON.parse(res.stdout) as { verify: { verdict: string } | null };
    expect(report.verify?.verdict).toBe('match');
    expect((await fsp.readdir(path.join(dir, 'diagnose cache', 'blobs'))).length).toBe(2);
  });

  it('says run-failed (exit 4) for a run_joint that aborts, agentless', async () => {
    const res = await axctl(['verify', ...target(), '--known-hosts', board.knownHosts, '--agentless', '--run-joint', await runJointAt(dir, 'abort'), '--board-cache', path.join(dir, 'abort cache')]);
    expect(res.code).toBe(4);
    expect(res.stdout).toMatch(/RUN.FAILED/i);
  });

  it('stops run_joint on the board when axctl is killed during an agentless run', async () => {
    const cache = path.join(dir, 'killed cache');
    // The simulated run_joint on the "board", running this test's model (axctl's own command
    // line names the cache too, and the board's cache chores name its blobs; neither is run_joint).
    const onBoard = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(SIM_RUN_JOINT) && l.includes(cache));
    let cli: ChildProcess | undefined;
    const finished = axctl(['verify', ...target(), '--known-hosts', board.knownHosts, '--agentless', '--run-joint', await runJointAt(dir, 'hang-ignore-term'), '--board-cache', cache], (child) => (cli = child));
    await vi.waitFor(() => expect(onBoard().length).toBeGreaterThan(0), { timeout: 20_000, interval: 100 });
    cli!.kill('SIGKILL'); // nothing on the host can clean up now
    expect((await finished).code).toBeNull();
    // The board's watchdog sees the connection end: TERM (ignored by this run_joint), KILL after the grace period.
    await vi.waitFor(() => expect(onBoard()).toEqual([]), { timeout: 15_000, interval: 200 });
  });

  it('exits soon after reporting a link that went silent during a run (agent over ssh://)', async () => {
    const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')), { AXSIM_FAULT: 'hang' });
    const running = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(SIM_RUN_JOINT) && l.includes(agent.store) && !l.includes('--stdio'));
    const relay = await startRelay(board.port);
    try {
      let errorAt = 0;
      const url = `ssh://${board.user}@127.0.0.1:${relay.port}`;
      const finished = axctl(['verify', '--board', url, '--model', fx.model, '--gt', fx.gt, '--identity', board.clientKey.file, '--known-hosts', path.join(dir, 'relay_known_hosts'), '--accept-new-host-key', '--agent-command', agent.command, '--token-file', agent.tokenFile], (child) => {
        child.stderr!.on('data', (d: Buffer) => {
          if (!errorAt && d.toString().includes('axctl: ')) errorAt = Date.now();
        });
      });
      await vi.waitFor(() => expect(running().length).toBeGreaterThan(0), { timeout: 20_000, interval: 100 });
      relay.blackhole(); // a cut cable: no byte and no FIN either way; only the idle timeout notices
      const res = await finished;
      expect(res.code).toBe(5);
      expect(res.stderr).toMatch(/^axctl: .*nothing heard from/m);
      // The process must not linger with its goodbye unanswered (FIN-WAIT until TCP gives up).
      expect(Date.now() - errorAt).toBeLessThan(6000);
    } finally {
      await relay.close();
    }
  }, 90_000);

  it('refuses a key the board does not accept (exit 5)', async () => {
    const res = await axctl(['verify', ...target(`${board.dir}/host_ed25519`), '--known-hosts', board.knownHosts, '--agentless']);
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/^axctl: .*login as \S+ refused/);
  });
});

// An installed agent whose run_joint is gone (a firmware update removed it, or the install named a
// wrong path): verify reports a run that could not start (run-failed, exit 4) saying so, not as a
// connection problem (exit 5) in the agent's words about --run-joint. Today's agent starts and
// says so at the handshake; one installed by an earlier release refuses to start, in words axctl
// reads from its stderr (the stand-in prints them as such an agent did).
describe.each([
  ['that starts and says so at the handshake', 'today'],
  ['of an earlier release, which refuses to start', 'earlier'],
] as const)('verify over ssh:// against an installed agent whose run_joint is missing, %s', (_what, release) => {
  const gone = '/opt/bin/no-such-run_joint';
  let prefix: string;
  let store: string;
  beforeAll(async () => {
    prefix = path.join(await fsp.mkdtemp(path.join(dir, 'board-')), 'opt', 'axagent');
    ({ store } = await installAgent(prefix, gone));
    if (release === 'earlier') {
      const refusal = `axagent: ${gone}: no such file (give the path of run_joint with --run-joint)`;
      await fsp.writeFile(path.join(prefix, 'bin', 'axagent'), `#!/bin/sh\necho '${refusal}' >&2\nexit 2\n`, { mode: 0o755 });
    }
  });
  const args = () => ['verify', '--board', board.url, '--model', fx.model, '--gt', fx.gt, '--identity', board.clientKey.file, '--known-hosts', board.knownHosts, '--agent-prefix', prefix];

  it('is a run-failed verdict (exit 4) whose report says in one line which board, which path, and what to do', async () => {
    // With the --prefix it was reached at: not a second agent under /opt/axagent.
    expectRunJointGoneReport(await axctl(args()), board.url, gone, ` --prefix ${prefix}`);
  });

  it('gives the report with the stable code RUN_JOINT_NOT_FOUND with --json and its --junit file, having uploaded nothing', async () => {
    const junit = path.join(dir, `rj-${release}.xml`);
    const res = await axctl([...args(), '--json', '--junit', junit]);
    expect(res.code, res.stderr).toBe(4);
    const report = JSON.parse(res.stdout) as { verdict: string; advice: string[] };
    expect(report.verdict).toBe('run-failed');
    expect(report.advice).toContain(`RUN_JOINT_NOT_FOUND: ${runJointGoneLine(board.url, gone, ` --prefix ${prefix}`)}`);
    expect(await fsp.readFile(junit, 'utf8')).toMatch(/<failure type="run-failed" message="The run failed, so nothing could be compared: [^"]*does not exist on the board/);
    expect(await fsp.readdir(path.join(store, 'blobs')).catch(() => [] as string[])).toEqual([]);
  });
});
