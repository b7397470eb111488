/**
 * The agent is installed and reachable but its run_joint is gone (a firmware update removed it,
 * or the install named a wrong path). Nothing can run on such a board, so it is a run failure
 * (exit 4, as for agentless --run-joint), not a connection problem (exit 5): the board was
 * reached and the agent is the right one; only the program it runs is missing.
 */
import { RunFailedError } from '../../shared/errors';
import { runJointMissingWords, runJointProblemInAgentLog, type AgentRunJointProblem } from '../../shared/run/agent-run-joint-check';

/** `board`: how messages name it (boardLabel); `given`: what the user passed as --board. */
export function runJointMissingError(board: { label: string; given: string }, problem: AgentRunJointProblem, cause?: unknown): RunFailedError {
  const { message, hint } = runJointMissingWords(problem, board.given);
  return new RunFailedError(problem.code, `${board.label}: ${message}`, { hint, ...(cause !== undefined && { cause }) });
}

/**
 * Over ssh:// the host starts the installed agent; one installed by an earlier release refuses
 * to start without its run_joint: that refusal as runJointMissingError; null when the agent
 * started (today's agent always does, and reports the problem at the handshake instead:
 * runJointProblemOf), or stopped for another reason.
 */
export function runJointMissingAtStart(transport: { readonly startFailure: unknown; agentLog(): string }, board: { label: string; given: string }): RunFailedError | null {
  if (!transport.startFailure) return null;
  const problem = runJointProblemInAgentLog(transport.agentLog());
  return problem && runJointMissingError(board, problem, transport.startFailure);
}
