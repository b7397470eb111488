/**
 * The agent is installed and reachable but its run_joint is gone (a firmware update removed it,
 * or the install named a wrong path). Nothing can run on such a board, so it is a run failure
 * (exit 4, as for agentless --run-joint), not a connection problem (exit 5): the board was
 * reached and the agent is the right one; only the program it runs is missing.
 */
import { isAxError, RunFailedError } from '../../shared/errors';
import { isRunJointProblemCode, runJointMissingWords, runJointProblemInAgentLog, type AgentReinstall, type AgentRunJointProblem, type RunJointProblemCode } from '../../shared/run/agent-run-joint-check';
import type { RunProblem } from '../../shared/run/classify';
import { reinstallOf } from '../agent-install/install-command';
import { boardLabel, type BoardIdentity, type RunResult } from './session';

/** The problem with its one line (the board named) and what to do: `hint` always set. */
export type RunJointMissing = RunProblem & { hint: string };

/**
 * `board`: how messages name it (boardLabel); `given`: what the user passed as --board, for the
 * command that reinstalls the agent when `problem` does not say how (its `reinstall`).
 */
export function runJointMissingError(board: { label: string; given: string }, problem: AgentRunJointProblem, cause?: unknown): RunFailedError {
  const { code, message, hint } = runJointMissingProblem(board, problem);
  return new RunFailedError(code, message, { hint, ...(cause !== undefined && { cause }) });
}

function runJointMissingProblem(board: { label: string; given: string }, problem: AgentRunJointProblem): RunJointMissing {
  const { message, hint } = runJointMissingWords({ reinstall: reinstallOf({ given: board.given, url: board.given }), ...problem });
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
 * as a problem of a run that never started, its hint naming `board` as given; null for any
 * other error.
 */
export function runJointProblemIn(err: unknown, board?: BoardIdentity, reinstall?: AgentReinstall): RunJointMissing | null {
  if (!isAxError(err) || !isRunJointProblemCode(err.code)) return null;
  return { code: err.code, message: err.message, hint: hintFor(err.code, err.hint, board, reinstall) };
}

/**
 * A run result from the agent whose run_joint could not be started (removed after the
 * handshake): its RUN_JOINT_* problem gets what to do (the agent sends only the code and message).
 * Agentless runs already say what to do (--run-joint) and have no agent to reinstall: as they are.
 */
export function withRunJointHints(result: RunResult, board: BoardIdentity, reinstall?: AgentReinstall): RunResult {
  if (board.mode !== 'agent' || !result.problems.some((p) => isRunJointProblemCode(p.code) && !p.hint)) return result;
  return { ...result, problems: result.problems.map((p) => (isRunJointProblemCode(p.code) && !p.hint ? { ...p, hint: hintFor(p.code, undefined, board, reinstall) } : p)) };
}

/**
 * What to do, for a board known here: reinstall as the handshake's problem says, else as the
 * session reached it (`reinstall`: its --prefix and --via), else as its URL allows. Without a
 * board, the agent's own hint (it cannot know how the host reached it).
 */
function hintFor(code: RunJointProblemCode, given: string | undefined, board: BoardIdentity | undefined, reinstall?: AgentReinstall): string {
  if (!board) return given ?? runJointMissingWords({ code, path: 'PATH' }).hint;
  const how = board.runJointProblem?.reinstall ?? reinstall ?? reinstallOf({ given: board.name ?? board.url, url: board.url });
  return runJointMissingWords({ code, path: board.runJointProblem?.path ?? 'PATH', reinstall: how }).hint;
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
export function runJointMissingAtStart(
  transport: { readonly startFailure: unknown; agentLog(): string },
  board: { label: string; given: string },
  reinstall?: AgentReinstall,
): RunFailedError | null {
  if (!transport.startFailure) return null;
  const problem = runJointProblemInAgentLog(transport.agentLog());
  return problem && runJointMissingError(board, { ...problem, ...(reinstall && { reinstall }) }, transport.startFailure);
}
