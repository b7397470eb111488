/** What the agent tells an authenticated host about the board (BoardFacts). */
import * as os from 'node:os';
import type { BoardFacts } from '../../shared/protocol/envelope';
import type { AgentContext } from './context';

export async function boardFacts(ctx: AgentContext): Promise<BoardFacts> {
  const usage = await ctx.store.usage().catch(() => ({ usedBytes: 0, capBytes: 0, freeBytes: 0 }));
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
    storeProblem: await ctx.store.writeProblem().catch((err: Error) => `the store cannot be checked (${err.message})`),
  };
}
