/**
 * axagent checks its --run-joint as it starts and refuses to start without one it can run
 * (agent/main.ts). Over ssh:// the host starts the installed agent for each connection, so that
 * refusal is how the host learns that the board's run_joint is gone (a firmware update removed
 * it, or the install named a wrong path). The agent's words live here so that the host reads
 * them back (runJointProblemInAgentLog); agents installed by earlier releases print the same
 * words, so they must not change.
 */
import { constants as fsc, promises as fsp } from 'node:fs';

export type RunJointProblemCode = 'RUN_JOINT_NOT_FOUND' | 'RUN_JOINT_NOT_EXECUTABLE';

/** What axagent says about its --run-joint, and what to do, as `axagent: <path>: <problem> (<hint>)`. */
export const AGENT_RUN_JOINT_PROBLEMS = {
  missing: { code: 'RUN_JOINT_NOT_FOUND', problem: 'no such file', hint: 'give the path of run_joint with --run-joint' },
  notExecutable: { code: 'RUN_JOINT_NOT_EXECUTABLE', problem: 'is not executable', hint: (file: string) => `chmod +x ${file}` },
  notAFile: { code: 'RUN_JOINT_NOT_EXECUTABLE', problem: 'is not a file', hint: 'give the path of the run_joint program itself' },
} as const;

export interface AgentRunJointProblem {
  code: RunJointProblemCode;
  /** run_joint's path as the agent was given it. */
  path: string;
}

/** The run_joint problem axagent gave as its reason to stop, from the tail of its stderr; null for any other reason. */
export function runJointProblemInAgentLog(log: string): AgentRunJointProblem | null {
  const { missing, notExecutable, notAFile } = AGENT_RUN_JOINT_PROBLEMS;
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  // The refusal is the agent's last word; an earlier line is a log of a run that went on.
  const last = lines[lines.length - 1] ?? '';
  const m = /^axagent: (.+): (.+) \((.+)\)$/.exec(last);
  if (!m) return null;
  const [, file, problem, hint] = m as unknown as [string, string, string, string];
  if (problem === missing.problem && hint === missing.hint) return { code: missing.code, path: file };
  if (problem === notExecutable.problem && hint === notExecutable.hint(file)) return { code: notExecutable.code, path: file };
  if (problem === notAFile.problem && hint === notAFile.hint) return { code: notAFile.code, path: file };
  return null;
}

/**
 * One wording for "the agent's run_joint is gone", whoever finds it: the host when the installed
 * agent refuses to start (host/board/run-joint-missing.ts), or a running agent whose run_joint
 * was removed under it (agent/run/runner.ts), which does not know what the host calls the board.
 */
export function runJointMissingWords(problem: AgentRunJointProblem, board = '<this board>'): { message: string; hint: string } {
  const what = problem.code === 'RUN_JOINT_NOT_FOUND' ? 'does not exist' : 'is not an executable file';
  return {
    message: `the agent's run_joint ${problem.path} ${what} on the board`,
    hint: `put run_joint back at that path, or reinstall the agent with the right one: axctl agent install --board ${board} --run-joint PATH`,
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
