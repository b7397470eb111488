/**
 * A run's result as the agent sends it and the host reads it — one definition for the agent
 * (agent/run/run-service.ts), the host client (host/client/run.ts) and agentless SSH runs.
 */
import { parseRunJointLog, type RunJointLog } from '../parsers/run-joint-log';
import type { RunProblem, RunStatus } from './classify';
import type { RunOutcome } from './outcome';

export interface RunResult {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** run_joint's stdout (head and tail if huge). */
  log: string;
  stderr: string;
  /** The parse of run_joint's output: I/O listing, timings, fallbacks, dumps, assertions. */
  parsed: RunJointLog;
  /**
   * Stored outputs in the model's output order; only when status is 'ok'. `bytes`: the agent's
   * copy of a small output, read as it was stored, for sending it inline.
   */
  outputs: { name: string; hash: string; size: number; bytes?: Uint8Array }[];
  problems: RunProblem[];
  /** run_joint's wall time (0 if it never ran). */
  durationMs: number;
}

/** A run that failed before (or without) producing outputs, carrying what the process did. */
export function failedResult(outcome: RunOutcome, problem?: RunProblem, parsed: RunJointLog = parseRunJointLog(outcome.stdout)): RunResult {
  return {
    status: 'failed',
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    timedOut: outcome.timedOut,
    cancelled: outcome.cancelled,
    log: outcome.stdout,
    stderr: outcome.stderr,
    parsed,
    outputs: [],
    problems: problem ? [problem] : [],
    durationMs: outcome.durationMs,
  };
}
