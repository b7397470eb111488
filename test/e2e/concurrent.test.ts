/**
 * Two hosts verifying on one board at once: the board runs one run_joint at a time, the second
 * waits in the agent's queue (and is told so), and both get their own correct verdict. Also
 * Ctrl-C during a run: the CLI cancels the run on the board and exits 130, and records no verdict.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../host/report/model';
import { Cleanup, makeFixture, parseJson, requireBuild, runCli, startAgent, targetArgs, tempDir } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

/** Resolves once `text` has appeared on the child's stderr. */
function stderrShows(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) resolve();
    });
  });
}

describe('one board, several hosts', () => {
  it('queues the second of two verifies and gives both their correct verdict', async () => {
    // Every inference round takes 2.5 s more (5 s a run): the first run is certainly busy when the
    // second arrives, also when the second CLI takes seconds to start, hash and connect under load.
    const agent = await startAgent(cleanup, { fault: 'slow=2500' });
    const hostA = await tempDir(cleanup);
    const hostB = await tempDir(cleanup);
    const fxA = await makeFixture(path.join(hostA, 'data'), 'classifier', 11);
    const fxB = await makeFixture(path.join(hostB, 'data'), 'multi-input', 12);

    let started!: Promise<void>;
    const a = runCli(['verify', ...targetArgs(agent, fxA), '--json', '--progress'], {
      cwd: hostA,
      // The run itself, not the model's description that comes first on a fresh host.
      onSpawn: (child) => (started = stderrShows(child, /running run_joint on the board\n/)),
    });
    await started;
    const b = runCli(['verify', ...targetArgs(agent, fxB), '--json', '--progress'], { cwd: hostB });
    const [resA, resB] = await Promise.all([a, b]);

    expect(resA.code).toBe(0);
    expect(resB.code).toBe(0);
    const [repA, repB] = [parseJson<VerifyReport>(resA), parseJson<VerifyReport>(resB)];
    expect(repA.outputs.map((o) => [o.name, o.exact])).toEqual([['resnetv15_dense0_fwd', true]]);
    expect(repB.outputs.map((o) => [o.name, o.exact])).toEqual([
      ['head/cls_score', true],
      ['head/bbox/pred', true],
    ]);
    expect(resB.stderr).toMatch(/queued on the board: 1 run ahead/);
    expect(resA.stderr).not.toMatch(/queued on the board/);
  });

  it('Ctrl-C during a run cancels it on the board and exits 130', async () => {
    const agent = await startAgent(cleanup, { fault: 'hang' });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--progress'], {
      cwd: dir,
      onSpawn: (child) => void stderrShows(child, /running run_joint on the board/).then(() => setTimeout(() => child.kill('SIGINT'), 300)),
    });
    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(/the run on the board was cancelled/);
    expect(res.stdout).toBe('');
    // Had the hung run_joint been left running (the agent's limit is 600 s), the next run would queue behind it.
    const next = await runCli(['verify', ...targetArgs(agent, fx), '--progress', '--timeout', '1', '--json'], { cwd: dir });
    expect(next.code).toBe(4);
    expect(next.stderr).not.toMatch(/queued on the board/);
    expect(parseJson<VerifyReport>(next).run.timedOut).toBe(true);
  });

  it('SIGTERM of a --json verify (a CI job cancelled) still prints the error JSON, code INTERRUPTED', async () => {
    const agent = await startAgent(cleanup, { fault: 'hang' });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json', '--progress'], {
      cwd: dir,
      onSpawn: (child) => void stderrShows(child, /running run_joint on the board/).then(() => setTimeout(() => child.kill('SIGTERM'), 300)),
    });
    expect(res.code).toBe(130);
    expect(JSON.parse(res.stdout)).toEqual({ error: expect.objectContaining({ code: 'INTERRUPTED', exitCode: 130 }) });
  });

  it('Ctrl-C during the run of a deployed target leaves the recorded last verdict as it was', async () => {
    // Slow inference, not a hang: deploy lists the model's inputs through run_joint first.
    const agent = await startAgent(cleanup, { fault: 'slow=3000' });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    expect((await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    const recorded = () => JSON.parse(readFileSync(path.join(dir, '.axctl', 'state.json'), 'utf8')) as { lastVerify?: unknown };
    expect(recorded().lastVerify).toBeUndefined();
    const res = await runCli(['verify', '--progress'], {
      cwd: dir,
      onSpawn: (child) => void stderrShows(child, /running run_joint on the board/).then(() => setTimeout(() => child.kill('SIGINT'), 300)),
    });
    expect(res.code).toBe(130);
    // An interrupted run is not a verdict on the board (it used to be recorded as run-failed).
    expect(recorded().lastVerify).toBeUndefined();
  });

  it('Ctrl-C during an upload stops it at once (it resumes next time) and exits 130', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const size = 512 * 1024 * 1024; // zeros after the model: an upload that takes a while
    truncateSync(fx.model, size);
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--progress'], {
      cwd: dir,
      onSpawn: (child) => void stderrShows(child, /uploading /).then(() => child.kill('SIGINT')),
    });
    expect(res.code).toBe(130);
    expect(res.stderr).not.toMatch(/uploaded 512 MiB/);
    // It used to go on for up to 5 s (the grace a run gets to be cancelled), here to the end.
    const blobs = path.join(agent.storeDir, 'blobs');
    const whole = readdirSync(blobs, { recursive: true }).filter((f) => statSync(path.join(blobs, String(f))).size === size);
    expect(whole).toEqual([]);
  });
});
