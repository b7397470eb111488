/**
 * Envelope <-> bytes. The schema is proto/axctl.proto, loaded from the JSON descriptor that
 * scripts/gen-proto.ts generated (no .proto file is read at runtime: the agent ships as one
 * bundled file). Decoded messages are plain objects typed by proto/gen/axctl-types.ts: every
 * scalar present (proto3 defaults), 64-bit integers as numbers, enums by name, a oneof's
 * chosen member named by its discriminator (`env.body === 'putChunk'`).
 */
import { Root, type IConversionOptions } from 'protobufjs/light';
import { descriptor } from '../../proto/gen/axctl-descriptor';
import type { Envelope } from '../../proto/gen/axctl-types';
import { encodeGetChunkEnvelope, encodePutChunkEnvelope } from './chunk-encoding';
import { ProtocolError } from './errors';

export type * from '../../proto/gen/axctl-types';

/**
 * Protocol version. Same major: compatible (a minor only adds fields and bodies, and a peer
 * answers a body it does not know with UNSUPPORTED_REQUEST). Another major: refused.
 */
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 1;

const EnvelopeType = Root.fromJSON(descriptor).lookupType('axctl.v1.Envelope');

const AS_PLAIN_OBJECT: IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true, oneofs: true };

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  // The bulk messages skip protobufjs's copy and come with room for their frame (chunk-encoding.ts).
  if (envelope.body === 'putChunk') return encodePutChunkEnvelope(envelope.id, envelope.putChunk);
  if (envelope.body === 'getChunk') return encodeGetChunkEnvelope(envelope.id, envelope.getChunk);
  return EnvelopeType.encode(EnvelopeType.fromObject(envelope)).finish();
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  try {
    return EnvelopeType.toObject(EnvelopeType.decode(bytes), AS_PLAIN_OBJECT) as Envelope;
  } catch (err) {
    throw new ProtocolError('PROTO_BAD_MESSAGE', `a message could not be decoded: ${(err as Error).message}`, { cause: err });
  }
}

/** The body names of the protocol, e.g. 'putChunk'. */
export type BodyName = NonNullable<Envelope['body']>;
