/** What the agent tells an authenticated host about the board (BoardFacts). */
import * as os from 'node:os';
import type { BoardFacts } from '../../shared/protocol/envelope';
import { AGENT_RUN_JOINT_PROBLEMS, runJointProblemAt } from '../../shared/run/agent-run-joint-check';
import type { AgentContext } from './context';

export async function boardFacts(ctx: AgentContext): Promise<BoardFacts> {
  // Side by side: the handshake's answer waits for the slowest, not for their sum.
  const [usage, storeProblem, runJoint] = await Promise.all([
    ctx.store.usage().catch(() => ({ usedBytes: 0, capBytes: 0, freeBytes: 0 })),
    ctx.store.writeProblem().catch((err: Error) => `the store cannot be checked (${err.message})`),
    runJointFacts(ctx.runJoint),
  ]);
  return {
    hostname: os.hostname(),
    kernel: `${os.release()} ${os.version()}`.trim(),
    arch: process.arch,
    runJointVersion: ctx.board.runJointVersion,
    storeUsedBytes: usage.usedBytes,
    storeCapBytes: usage.capBytes,
    storeFreeBytes: usage.freeBytes,
    memTotalBytes: os.totalmem(),
    memFreeBytes: os.freemem(),
    nodeVersion: process.version,
    agentVersion: ctx.agentVersion,
    storeProblem,
    ...runJoint,
  };
}

/** Checked at every handshake: run_joint removed after the agent started (a firmware update) shows before any upload. */
async function runJointFacts(runJoint: string | undefined): Promise<Pick<BoardFacts, 'runJointProblem' | 'runJointPath'>> {
  if (runJoint === undefined) return { runJointProblem: '', runJointPath: '' };
  const kind = await runJointProblemAt(runJoint);
  return { runJointProblem: kind === null ? '' : AGENT_RUN_JOINT_PROBLEMS[kind].code, runJointPath: runJoint };
}
