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

/** Tag of Envelope.id (field 1, varint): both encoders above write it first, 0 included. */
const ID_TAG = 0x08;

/**
 * True when `bytes`, an Envelope as encodeEnvelope() writes it, is for id 0: the connection
 * itself (hello, authentication, the Error that says why a peer hangs up). Read from its first
 * two bytes, so a watcher can pick these few out of a stream of chunks without decoding any.
 */
export function isConnectionEnvelope(bytes: Uint8Array): boolean {
  return bytes[0] !== ID_TAG || bytes[1] === 0;
}

/** The body names of the protocol, e.g. 'putChunk'. */
export type BodyName = NonNullable<Envelope['body']>;
