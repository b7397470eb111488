/**
 * How large a request to the agent may be. Only upload data is bulk: a PutChunk carries up to
 * a chunk (1 MiB by default, never more than the transport's 16 MiB message limit) and is read
 * without an object per byte. Every other message is a few hundred bytes, yet protobufjs makes
 * an object for each repeated entry: 16 MiB of empty `has` queries (2 bytes each) became 8
 * million objects, 1.1 GiB of agent memory and an 11 s stall of every connection. So the agent
 * outlines a message before decoding it (envelope.ts, outlineEnvelope) and refuses
 *
 * - any message but a putChunk over MAX_REQUEST_BYTES: it hangs up (PROTO_MESSAGE_TOO_LARGE);
 * - a request with more repeated entries than ENTRY_LIMITS allow: that request fails
 *   (TOO_MANY_ENTRIES), the connection goes on.
 *
 * 512 KiB holds the largest request axctl makes, a `has` of MAX_HAS_QUERIES blobs (at most 81
 * bytes each on the wire: 324 KiB), and bounds what one message costs to decode to a few tens of MiB.
 */
import { UsageError } from '../errors';
import type { BodyName, EnvelopeOutline } from './envelope';
import { ProtocolError } from './errors';

export const MAX_REQUEST_BYTES = 512 * 1024;
/** Blobs one `has` may ask about; axctl asks in batches of this many. */
export const MAX_HAS_QUERIES = 4096;
/** A model has a handful of inputs; run_joint's allowed options (shared/run/args.ts) are seven. */
export const MAX_RUN_INPUTS = 256;
export const MAX_RUN_EXTRA_ARGS = 256;

/** Most entries of each repeated field of a request body, by body and field name. */
export const ENTRY_LIMITS: Partial<Record<BodyName, Record<string, number>>> = {
  has: { blobs: MAX_HAS_QUERIES },
  run: { inputs: MAX_RUN_INPUTS, extraArgs: MAX_RUN_EXTRA_ARGS },
};

/** Bodies that may be larger than MAX_REQUEST_BYTES (up to the transport's message limit). */
const BULK: ReadonlySet<BodyName | undefined> = new Set<BodyName | undefined>(['putChunk']);

/** Why the agent does not decode the request `outline` of `bytes` bytes, or null: it may. */
export function requestSizeProblem(outline: EnvelopeOutline, bytes: number): ProtocolError | null {
  if (bytes <= MAX_REQUEST_BYTES || BULK.has(outline.body)) return null;
  return new ProtocolError('PROTO_MESSAGE_TOO_LARGE', `a ${outline.body ?? 'unknown'} message of ${bytes} bytes (only upload chunks may be over ${MAX_REQUEST_BYTES} bytes)`);
}

/** The request's first repeated field over its limit, as the error it fails with; null: none. */
export function requestEntriesProblem(outline: EnvelopeOutline): UsageError | null {
  const limits = outline.body ? ENTRY_LIMITS[outline.body] : undefined;
  if (!limits) return null;
  for (const [field, count] of outline.entries) {
    const most = limits[field];
    if (most !== undefined && count > most) {
      return new UsageError('TOO_MANY_ENTRIES', `${outline.body} request ${outline.id} has ${count} ${field}, the agent takes at most ${most} in one request`);
    }
  }
  return null;
}
