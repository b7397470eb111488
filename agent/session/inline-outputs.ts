/**
 * Small run outputs go back inside the RunResult (protocol 1.2, RunRequest.inline_output_bytes):
 * a verify of a small model then needs no Get round trip per output, which on a board reached
 * through a gateway costs a network round trip each. What does not fit the host's budget, or
 * the one message the result must stay, is fetched with Get as before.
 */
import { encodeEnvelope, type RunResult as WireRunResult } from '../../shared/protocol/envelope';

/** Per inlined output: its bytes field's tag and length prefix, with room to spare. */
const FIELD_SLACK_BYTES = 16;

export interface InlineBudget {
  /** What the host asked for (0: none). */
  requested: number;
  /** The largest message this connection carries, less the envelope's own slack. */
  maxMessageBytes: number;
}

/** Fills `data` of the outputs that fit, in order; reads each from the store. */
export async function inlineOutputs(wire: WireRunResult, budget: InlineBudget, read: (hash: string, size: number) => Promise<Uint8Array>): Promise<void> {
  if (budget.requested <= 0 || wire.outputs.length === 0) return;
  const resultBytes = encodeEnvelope({ id: 0, body: 'runResult', runResult: wire }).length;
  let left = Math.min(budget.requested, budget.maxMessageBytes - resultBytes);
  for (const output of wire.outputs) {
    const cost = output.size + FIELD_SLACK_BYTES;
    if (output.size === 0 || cost > left) continue;
    const data = await read(output.hash, output.size);
    // A blob whose size changed under us is not sent inline: the host's Get will say what is wrong.
    if (data.length !== output.size) continue;
    output.data = data;
    left -= cost;
  }
}
