/**
 * What one run_joint process did, as the thin runner reports it: the agent's local runner
 * (agent/run/runner.ts) and the host's remote run over SSH (host/ssh/agentless) both produce
 * this, and classification (classify.ts) and model probing (model-io.ts) read it.
 */
export interface RunOutcome {
  exitCode: number | null;
  /** The signal that ended it, Node style ('SIGABRT'); null after a normal exit. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}
