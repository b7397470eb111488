/**
 * The agent is installed and reachable but its run_joint is gone (a firmware update removed it,
 * or the install named a wrong path). Nothing can run on such a board, so it is a run failure
 * (exit 4, as for agentless --run-joint), not a connection problem (exit 5): the board was
 * reached and the agent is the right one; only the program it runs is missing.
 */
import { isAxError, RunFailedError } from '../../shared/errors';
import { runJointMissingWords, runJointProblemInAgentLog, type AgentRunJointProblem } from '../../shared/run/agent-run-joint-check';
import type { RunProblem } from '../../shared/run/classify';
import { boardLabel, type BoardIdentity } from './session';

/** The problem with its one line (the board named) and what to do: `hint` always set. */
export type RunJointMissing = RunProblem & { hint: string };

/** `board`: how messages name it (boardLabel); `given`: what the user passed as --board. */
export function runJointMissingError(board: { label: string; given: string }, problem: AgentRunJointProblem, cause?: unknown): RunFailedError {
  const { code, message, hint } = runJointMissingProblem(board, problem);
  return new RunFailedError(code, message, { hint, ...(cause !== undefined && { cause }) });
}

function runJointMissingProblem(board: { label: string; given: string }, problem: AgentRunJointProblem): RunJointMissing {
  const { message, hint } = runJointMissingWords(problem, board.given);
  return { code: problem.code, message: `${board.label}: ${message}`, hint };
}

/**
 * The run_joint problem the agent reported at the handshake (BoardFacts.runJointProblem), in
 * the words verify's report, diagnose and deploy's warning all give it; null when it has none.
 */
export function runJointProblemOf(identity: BoardIdentity): RunJointMissing | null {
  const problem = identity.runJointProblem;
  return problem ? runJointMissingProblem({ label: boardLabel(identity), given: identity.name ?? identity.url }, problem) : null;
}

/**
 * An error that says the board's run_joint cannot be started (RUN_JOINT_NOT_FOUND /
 * RUN_JOINT_NOT_EXECUTABLE): the agent's answer to a request made after its handshake
 * (AgentError), or an agent of an earlier release refusing to start (runJointMissingAtStart),
 * as a problem of a run that never started; null for any other error.
 */
export function runJointProblemIn(err: unknown): RunJointMissing | null {
  if (!isAxError(err) || (err.code !== 'RUN_JOINT_NOT_FOUND' && err.code !== 'RUN_JOINT_NOT_EXECUTABLE')) return null;
  return { code: err.code, message: err.message, hint: err.hint ?? "put the agent's run_joint back, or reinstall the agent with the right one (axctl agent install --run-joint PATH)" };
}

/** The one warning line deploy gives when the board's run_joint is gone: what verify will say, and what to do. */
export function runJointMissingWarning(problem: RunJointMissing): string {
  return `${problem.message}; axctl verify fails (run-failed) until it is back (${problem.hint})`;
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
