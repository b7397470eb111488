/**
 * A run as its requester states it: the same on the host (AgentClient, agentless SSH) and in
 * the agent's run service, which check it the same way (shared/run/args.ts).
 */
export interface RunRequest {
  modelHash: string;
  /** Every model input exactly once, by the name run_joint prints for it. */
  inputs: { name: string; hash: string }[];
  /** Timed inferences (default 1). */
  repeat?: number;
  /** Untimed inferences before them (default 0). */
  warmup?: number;
  /** run_joint's wall-clock limit on the board (default: the agent's, Limits.defaultRunTimeoutMs). */
  timeoutMs?: number;
  /** Extra run_joint options from the allow-list (shared/run/args.ts), e.g. ['--mode', '1_1']. */
  extraArgs?: string[];
}
