import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnRunJoint, type RunnerSpec } from '../../agent/run/runner';
import { RunFailedError } from '../../shared/errors';

const CHILD = path.resolve(__dirname, '../fixtures/agent-core/child.js');
let cwd: string;

beforeAll(async () => {
  cwd = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-runner-'));
});
afterAll(async () => {
  await fsp.rm(cwd, { recursive: true, force: true });
});

/** Runs the test child with node as the "run_joint". */
function runChild(args: string[], extra: Partial<RunnerSpec> = {}) {
  return spawnRunJoint({ runJoint: process.execPath, args: [CHILD, ...args], cwd, timeoutMs: 30_000, ...extra });
}

/** Running, not merely a zombie waiting for whoever adopted it to reap it. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('spawnRunJoint', () => {
  it('reports exit code, output and lines of a child that exits by itself', async () => {
    const lines: [string, string][] = [];
    const outcome = await runChild(['lines', '3'], { onLine: (stream, line) => lines.push([stream, line]) });
    expect(outcome).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(outcome.stdout).toBe('out line 1\nout line 2\n');
    expect(outcome.stderr).toBe('err line without newline');
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    expect(lines).toEqual(expect.arrayContaining([['stdout', 'out line 1'], ['stdout', 'out line 2'], ['stderr', 'err line without newline']]));
    expect(lines).toHaveLength(3);
  });

  it('runs in the given folder with the given environment and no stdin', async () => {
    const outcome = await runChild(['where'], { env: { ...process.env, RUNNER_TEST_VAR: 'from-spec' } });
    expect(outcome.stdout).toContain(`cwd ${cwd}\n`);
    expect(outcome.stdout).toContain('var from-spec\n');
    expect(outcome.stdout).toContain('stdin null-device\n');
  });

  it('on timeout sends SIGTERM, then SIGKILL to a child that ignores it', async () => {
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    // The timeout leaves the child ample time to start and install its SIGTERM handler.
    const outcome = await runChild(['ignore-term'], {
      timeoutMs: 2000,
      killGraceMs: 300,
      onLine: (_s, line) => line === 'ready' && ready(),
    });
    await started;
    expect(outcome).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: 'SIGKILL' });
    expect(outcome.stdout).toContain('got SIGTERM, ignoring it');
  });

  it('on timeout stops a child that obeys SIGTERM with SIGTERM alone', async () => {
    const outcome = await runChild(['obey-term'], { timeoutMs: 200, killGraceMs: 20_000 });
    expect(outcome).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
  });

  it('stops the child and what it started (its process group)', async () => {
    let grandchild = 0;
    const controller = new AbortController();
    const outcome = await runChild(['grandchild'], {
      killGraceMs: 500,
      signal: controller.signal,
      onLine: (_s, line) => {
        const match = /^grandchild (\d+)$/.exec(line);
        if (match) grandchild = Number(match[1]);
        controller.abort();
      },
    });
    expect(outcome.cancelled).toBe(true);
    expect(grandchild).toBeGreaterThan(0);
    // The group got the signal together; the grandchild's own exit may land a moment later.
    await vi.waitFor(() => expect(isRunning(grandchild)).toBe(false), { timeout: 5000 });
  });

  it('kills what run_joint left running once it exits, without waiting the grace for its pipes', async () => {
    const outcome = await runChild(['leave-grandchild'], { killGraceMs: 10_000 });
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    const grandchild = Number(/^grandchild (\d+)$/m.exec(outcome.stdout)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    // The grandchild held stdout open: before, the run ended only when the grace ran out.
    expect(outcome.durationMs).toBeLessThan(5000);
    await vi.waitFor(() => expect(isRunning(grandchild)).toBe(false), { timeout: 5000 });
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    const outcome = await runChild(['ignore-term'], {
      killGraceMs: 200,
      signal: controller.signal,
      onLine: (_s, line) => line === 'ready' && controller.abort(),
    });
    expect(outcome).toMatchObject({ cancelled: true, timedOut: false, signal: 'SIGKILL' });
  });

  it('does not start at all when already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const lines: string[] = [];
    const outcome = await runChild(['lines', '0'], { signal: controller.signal, onLine: (_s, l) => lines.push(l) });
    expect(outcome).toMatchObject({ cancelled: true, exitCode: null, stdout: '' });
    expect(lines).toEqual([]);
  });

  it('keeps head and tail of huge output, but hands on every line', async () => {
    let count = 0;
    const outcome = await runChild(['flood', '50000'], { maxCaptureChars: 10_000, onLine: () => count++ });
    expect(count).toBe(50_000);
    expect(outcome.stdout.length).toBeLessThan(10_200);
    expect(outcome.stdout.startsWith('line 0 ')).toBe(true);
    expect(outcome.stdout).toContain('line 49999 ');
    expect(outcome.stdout).toMatch(/\[\.\.\. \d+ characters of output omitted \.\.\.\]/);
  });

  it("starts run_joint without what the installed wrapper set for the agent's memory alone", async () => {
    vi.stubEnv('MALLOC_MMAP_THRESHOLD_', '131072');
    vi.stubEnv('AXAGENT_UNSET_FOR_RUNS', 'MALLOC_MMAP_THRESHOLD_');
    vi.stubEnv('AXCTL_TEST_KEPT', 'yes');
    try {
      const outcome = await spawnRunJoint({ runJoint: '/bin/sh', args: ['-c', 'echo "[$MALLOC_MMAP_THRESHOLD_][$AXAGENT_UNSET_FOR_RUNS][$AXCTL_TEST_KEPT]"'], cwd, timeoutMs: 10_000 });
      expect(outcome.stdout).toBe('[][][yes]\n');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('rejects with a typed error when the program is missing or not executable', async () => {
    const missing = await spawnRunJoint({ runJoint: path.join(cwd, 'no-such-run-joint'), args: [], cwd, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RunFailedError);
    expect((missing as RunFailedError).code).toBe('RUN_JOINT_NOT_FOUND');
    const plain = path.join(cwd, 'not-executable');
    await fsp.writeFile(plain, '#!/bin/sh\n', { mode: 0o644 });
    const denied = await spawnRunJoint({ runJoint: plain, args: [], cwd, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect((denied as RunFailedError).code).toBe('RUN_JOINT_NOT_EXECUTABLE');
  });
});
