/**
 * The thin runner: starts run_joint (argv array, no shell, stdin closed), streams and captures
 * its output, stops it on timeout or cancel, and reports what happened. It decides nothing
 * about what a run means; run-service.ts does.
 *
 * The child gets its own process group, so a run_joint wrapped in a script (or anything it
 * starts) is stopped as a whole: SIGTERM to the group, SIGKILL after the grace period. Once
 * run_joint has exited, whatever is left of its group is killed: nothing outlives a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { RunFailedError } from '../../shared/errors';
import { runJointMissingWords } from '../../shared/run/agent-run-joint-check';
import type { RunOutcome } from '../../shared/run/outcome';
import { DEFAULT_CAPTURE_CHARS, LineSplitter, OutputCapture } from '../../shared/run/output-capture';
import { runJointEnv } from './child-env';

export interface RunnerSpec {
  /** Absolute path of the run_joint executable (or a stand-in). */
  runJoint: string;
  args: string[];
  cwd: string;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** The child's environment. Default: the agent's, less what the wrapper set for the agent alone (child-env.ts). */
  env?: NodeJS.ProcessEnv;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  signal?: AbortSignal;
  /** Characters kept per stream (head and tail halves). Default 1 Mi. */
  maxCaptureChars?: number;
  /** Called synchronously once the process exists, with its pid (= its process group). */
  onSpawn?: (pid: number) => void;
}

/** What one run_joint process did (shared with agentless SSH, which runs it remotely). */
export type RunnerOutcome = RunOutcome;

export const DEFAULT_KILL_GRACE_MS = 2000;
/** setTimeout fires at once for delays beyond this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves when the child has exited and its output is drained. Rejects only when it cannot be
 * started (RunFailedError RUN_JOINT_NOT_FOUND / RUN_JOINT_NOT_EXECUTABLE / RUN_JOINT_SPAWN_FAILED).
 */
export function spawnRunJoint(spec: RunnerSpec): Promise<RunnerOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (spec.signal?.aborted) {
    return Promise.resolve({ exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, cancelled: true, durationMs: 0 });
  }
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.runJoint, spec.args, {
        cwd: spec.cwd,
        env: spec.env ?? runJointEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
        detached: true,
      });
    } catch (err) {
      reject(spawnError(spec.runJoint, err));
      return;
    }
    if (child.pid !== undefined) spec.onSpawn?.(child.pid);
    const grace = spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const captures = { stdout: new OutputCapture(spec.maxCaptureChars ?? DEFAULT_CAPTURE_CHARS), stderr: new OutputCapture(spec.maxCaptureChars ?? DEFAULT_CAPTURE_CHARS) };
    const splitters = {
      stdout: new LineSplitter((line) => deliver(spec, 'stdout', line)),
      stderr: new LineSplitter((line) => deliver(spec, 'stderr', line)),
    };
    let timedOut = false;
    let cancelled = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is gone or was never made: signal the child itself (unless it has exited).
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      }
    };
    const stop = (reason: 'timeout' | 'cancel') => {
      if (timedOut || cancelled || settled) return;
      if (reason === 'timeout') timedOut = true;
      else cancelled = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), grace);
    };
    const onAbort = () => stop('cancel');
    const timeoutTimer = setTimeout(() => stop('timeout'), Math.min(Math.max(spec.timeoutMs, 1), MAX_TIMER_MS));
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      spec.signal?.removeEventListener('abort', onAbort);
    };

    for (const name of ['stdout', 'stderr'] as const) {
      child[name]!.on('data', (bytes: Buffer) => captures[name].push(splitters[name].write(bytes)));
    }
    child.on('error', (err) => {
      if (settled || child.pid !== undefined) return; // a failed kill() also lands here; ignore it
      cleanup();
      reject(spawnError(spec.runJoint, err));
    });
    // Whatever run_joint started must not outlive the run (a wrapper's background child would
    // hold the NPU or the pipes): once run_joint itself is gone, SIGKILL what is left of its
    // group. The pipes then close as soon as the kernel has buried those; only a descendant that
    // left the group (setsid) could still hold them, and the grace period bounds that wait.
    child.once('exit', () => {
      signalGroup('SIGKILL');
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, grace);
    });
    child.once('close', (exitCode, signal) => {
      if (settled) return;
      cleanup();
      for (const name of ['stdout', 'stderr'] as const) captures[name].push(splitters[name].end());
      resolve({
        exitCode,
        signal,
        stdout: captures.stdout.text(),
        stderr: captures.stderr.text(),
        timedOut,
        cancelled,
        durationMs: elapsed(),
      });
    });
  });
}

/** A listener that throws must not take the agent down from inside a stream event. */
function deliver(spec: RunnerSpec, stream: 'stdout' | 'stderr', line: string): void {
  try {
    spec.onLine?.(stream, line);
  } catch {
    // The line is still captured; only this listener missed it.
  }
}

function spawnError(runJoint: string, err: unknown): RunFailedError {
  const errno = (err as NodeJS.ErrnoException)?.code;
  // run_joint removed after the agent started (a firmware update): say so, not a bare ENOENT.
  if (errno === 'ENOENT' && !existsSync(runJoint)) {
    const { message, hint } = runJointMissingWords({ code: 'RUN_JOINT_NOT_FOUND', path: runJoint });
    return new RunFailedError('RUN_JOINT_NOT_FOUND', message, { hint, cause: err });
  }
  if (errno === 'ENOENT') {
    return new RunFailedError('RUN_JOINT_NOT_FOUND', `${runJoint}: no such program (or the run's folder is gone)`, { hint: 'check the agent\'s run_joint path', cause: err });
  }
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new RunFailedError('RUN_JOINT_NOT_EXECUTABLE', `${runJoint}: not executable`, { hint: `chmod +x ${runJoint}`, cause: err });
  }
  return new RunFailedError('RUN_JOINT_SPAWN_FAILED', `${runJoint}: cannot be started (${(err as Error)?.message ?? String(err)})`, { cause: err });
}
