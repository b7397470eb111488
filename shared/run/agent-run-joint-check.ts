/**
 * What axagent says about a --run-joint it cannot run. Today's agent starts anyway: it logs one
 * warning line (agent/main.ts), reports the problem at every handshake (BoardFacts
 * .runJointProblem, agent/session/facts.ts) and fails runs until run_joint is back, so an
 * installed service outlives a firmware update that removed run_joint. Agents installed by
 * earlier releases refuse to start instead, with the last line of their stderr
 * `axagent: <path>: <problem> (<hint>)`; over ssh:// the host starts the installed agent for each
 * connection, so that refusal is how it learns of the problem from them
 * (runJointProblemInAgentLog). Those words are read back, so they must not change; the warning
 * of an agent that goes on serving is a timestamped log line the reader never takes for one.
 */
import { constants as fsc, promises as fsp } from 'node:fs';

export type RunJointProblemCode = 'RUN_JOINT_NOT_FOUND' | 'RUN_JOINT_NOT_EXECUTABLE';

/** Whether `code` says the agent's run_joint cannot be started (from facts, an error or a run's problem). */
export function isRunJointProblemCode(code: string): code is RunJointProblemCode {
  return code === 'RUN_JOINT_NOT_FOUND' || code === 'RUN_JOINT_NOT_EXECUTABLE';
}

/**
 * What axagent says about its --run-joint, and what to do: `axagent: <path>: <problem> (<hint>)`
 * as earlier releases refuse to start; in today's warning (runJointWarning) after "run_joint".
 */
export const AGENT_RUN_JOINT_PROBLEMS = {
  missing: { code: 'RUN_JOINT_NOT_FOUND', problem: 'no such file', hint: 'give the path of run_joint with --run-joint' },
  notExecutable: { code: 'RUN_JOINT_NOT_EXECUTABLE', problem: 'is not executable', hint: (file: string) => `chmod +x ${file}` },
  notAFile: { code: 'RUN_JOINT_NOT_EXECUTABLE', problem: 'is not a file', hint: 'give the path of the run_joint program itself' },
} as const;

/**
 * The one line a starting agent logs (after agent/log.ts's timestamp) for a run_joint it cannot
 * run; it serves anyway. It does not end in the refusal's `(<hint>)`, and, being a log line, is
 * never read as one (runJointProblemInAgentLog).
 */
export function runJointWarning(file: string, kind: keyof typeof AGENT_RUN_JOINT_PROBLEMS): string {
  const problem = AGENT_RUN_JOINT_PROBLEMS[kind];
  const hint = typeof problem.hint === 'function' ? problem.hint(file) : problem.hint;
  return `warning: run_joint ${file}: ${problem.problem} (${hint}); serving anyway, runs fail with ${problem.code} until it is there`;
}

/** How every line of agent/log.ts begins: `axagent: 2026-01-31T12:00:00.000Z `. */
const AGENT_LOG_LINE = /^axagent: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /;

export interface AgentRunJointProblem {
  code: RunJointProblemCode;
  /** run_joint's path as the agent was given it. */
  path: string;
  /** How to reinstall the agent, when the host knows how it reached the board (runJointMissingWords). */
  reinstall?: AgentReinstall;
}

/** The command that reinstalls an agent (host/agent-install/install-command.ts reinstallOf). */
export interface AgentReinstall {
  /** `axctl agent install --board ...` with the --prefix and --via it needs, without --run-joint. */
  command: string;
  /** The board was reached over ssh:// (the command reinstalls that very agent); else ws:// or serial://. */
  overSsh: boolean;
}

/**
 * The run_joint problem an agent of an earlier release gave as its reason to stop, from the tail
 * of its stderr; null for any other reason, and for the warning of an agent that went on serving.
 */
export function runJointProblemInAgentLog(log: string): AgentRunJointProblem | null {
  const { missing, notExecutable, notAFile } = AGENT_RUN_JOINT_PROBLEMS;
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  // The refusal is the agent's last word; an earlier line is a log of a run that went on.
  const last = lines[lines.length - 1] ?? '';
  // A log line of a running agent (agent/log.ts: a timestamp first), such as today's warning about
  // run_joint, is never the refusal, which names the --run-joint path (absolute) right away.
  if (AGENT_LOG_LINE.test(last)) return null;
  const m = /^axagent: (.+): (.+) \((.+)\)$/.exec(last);
  if (!m) return null;
  const [, file, problem, hint] = m as unknown as [string, string, string, string];
  if (problem === missing.problem && hint === missing.hint) return { code: missing.code, path: file };
  if (problem === notExecutable.problem && hint === notExecutable.hint(file)) return { code: notExecutable.code, path: file };
  if (problem === notAFile.problem && hint === notAFile.hint) return { code: notAFile.code, path: file };
  return null;
}

/**
 * One wording for "the agent's run_joint is gone", whoever finds it: the host when the agent's
 * handshake reports it or an agent of an earlier release refuses to start
 * (host/board/run-joint-missing.ts), or the agent when a run cannot start it
 * (agent/run/runner.ts), which does not know how the host reached it. `axctl agent install`
 * works over SSH only: for a board reached another way (or unknown) the hint says to restart the
 * agent with the right --run-joint, or reinstall its service over SSH.
 */
export function runJointMissingWords(problem: AgentRunJointProblem): { message: string; hint: string } {
  const notFound = problem.code === 'RUN_JOINT_NOT_FOUND';
  const fix = notFound ? 'put run_joint back at that path' : `make it executable on the board (chmod +x ${problem.path})`;
  const install = `${problem.reinstall?.command ?? 'axctl agent install --board ssh://USER@HOST'} --run-joint PATH`;
  const other = problem.reinstall?.overSsh
    ? `reinstall the agent with the right one: ${install}`
    : `restart the agent with the right --run-joint (for a service: reinstall it over SSH with ${install})`;
  return {
    message: `the agent's run_joint ${problem.path} ${notFound ? 'does not exist' : 'is not an executable file'} on the board`,
    hint: `${fix}, or ${other}`,
  };
}

/** Which of AGENT_RUN_JOINT_PROBLEMS `file` has; null when it is an executable file. */
export async function runJointProblemAt(file: string): Promise<keyof typeof AGENT_RUN_JOINT_PROBLEMS | null> {
  try {
    if (!(await fsp.stat(file)).isFile()) return 'notAFile';
    await fsp.access(file, fsc.X_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'notExecutable';
  }
}
