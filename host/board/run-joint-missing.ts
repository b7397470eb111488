/**
 * The agent is installed and reachable but its run_joint is gone (a firmware update removed it,
 * or the install named a wrong path). Nothing can run on such a board, so it is a run failure
 * (exit 4, as for agentless --run-joint), not a connection problem (exit 5): the board was
 * reached and the agent is the right one; only the program it runs is missing.
 */
import { RunFailedError } from '../../shared/errors';
import { runJointMissingWords, runJointProblemInAgentLog, type AgentReinstall, type AgentRunJointProblem } from '../../shared/run/agent-run-joint-check';
import { reinstallOf } from '../agent-install/install-command';

/**
 * `board`: how messages name it (boardLabel); `given`: what the user passed as --board, for the
 * command that reinstalls the agent when `problem` does not say how (its `reinstall`).
 */
export function runJointMissingError(board: { label: string; given: string }, problem: AgentRunJointProblem, cause?: unknown): RunFailedError {
  const { message, hint } = runJointMissingWords({ reinstall: reinstallOf({ given: board.given, url: board.given }), ...problem });
  return new RunFailedError(problem.code, `${board.label}: ${message}`, { hint, ...(cause !== undefined && { cause }) });
}

/**
 * Over ssh:// the host starts the installed agent; one installed by an earlier release refuses
 * to start without its run_joint: that refusal as runJointMissingError; null when the agent
 * started (today's agent always does, and reports the problem at the handshake instead:
 * runJointProblemOf), or stopped for another reason.
 */
export function runJointMissingAtStart(
  transport: { readonly startFailure: unknown; agentLog(): string },
  board: { label: string; given: string },
  reinstall?: AgentReinstall,
): RunFailedError | null {
  if (!transport.startFailure) return null;
  const problem = runJointProblemInAgentLog(transport.agentLog());
  return problem && runJointMissingError(board, { ...problem, ...(reinstall && { reinstall }) }, transport.startFailure);
}
