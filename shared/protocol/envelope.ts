/**
 * Envelope <-> bytes. The schema is proto/axctl.proto; its encoders and decoders are static
 * code that every build makes (scripts/proto-static.js writes proto/gen/axctl-static.ts:
 * protobufjs builds nothing at run time, which cost every start of the agent and of axctl
 * ~0.6 s more under qemu-arm), and the outline below reads field numbers from the JSON
 * descriptor that scripts/gen-proto.ts generated. No .proto file is read at runtime: the agent ships as one bundled file. Decoded
 * messages are plain objects typed by proto/gen/axctl-types.ts: every scalar present (proto3
 * defaults), 64-bit integers as numbers, enums by name, a oneof's chosen member named by its
 * discriminator (`env.body === 'putChunk'`).
 */
import { Reader, type IConversionOptions, type Writer } from 'protobufjs/minimal';
import { descriptor } from '../../proto/gen/axctl-descriptor';
import staticRoot from '../../proto/gen/axctl-static';
import type { Envelope } from '../../proto/gen/axctl-types';
import { encodeGetChunkEnvelope, encodePutChunkEnvelope } from './chunk-encoding';
import { ProtocolError } from './errors';

export type * from '../../proto/gen/axctl-types';

/**
 * Protocol version. Same major: compatible (a minor only adds fields and bodies, and a peer
 * answers a body it does not know with UNSUPPORTED_REQUEST). Another major: refused.
 */
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 2;

/** What envelope.ts uses of the generated static Envelope class (its code is not type-checked). */
interface StaticMessageType {
  encode(message: object): Writer;
  decode(bytes: Uint8Array): object;
  fromObject(object: object): object;
  toObject(message: object, options: IConversionOptions): object;
}

const EnvelopeType = (staticRoot as unknown as { axctl: { v1: { Envelope: StaticMessageType } } }).axctl.v1.Envelope;

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

/** An encoded Envelope as outlineEnvelope() reads it, without decoding it. */
export interface EnvelopeOutline {
  id: number;
  /** The body it carries; undefined: none, or one this side does not know (a later minor's). */
  body: BodyName | undefined;
  /** Entries of each repeated field of the body, by field name ('blobs' of a has): a field not listed has none. */
  entries: Map<string, number>;
}

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/**
 * What `bytes` hold, read field by field with protobufjs's Reader: no object is made per
 * entry and a bytes field is skipped, not copied. protobufjs decodes a message whole, one
 * object per repeated entry, so a receiver looks first and decodes only what it accepts:
 * 16 MiB of empty `has` queries (2 bytes each) decoded into 8 million objects, over 1 GiB.
 * Two bodies in one Envelope (protobufjs would decode both) are refused: our encoders write one.
 */
export function outlineEnvelope(bytes: Uint8Array): EnvelopeOutline {
  const outline: EnvelopeOutline = { id: 0, body: undefined, entries: new Map() };
  try {
    const reader = Reader.create(bytes);
    let bodies = 0;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === ID_FIELD) {
        if (wireType !== WIRE_VARINT) throw new Error('the id is not a varint');
        outline.id = reader.uint32();
        continue;
      }
      const member = fieldsOf('Envelope').get(field);
      if (member === undefined || !BODY_MEMBERS.has(member.name)) {
        reader.skipType(wireType); // a later minor's field: protobufjs skips it too
        continue;
      }
      // protobufjs does not check wire types: it would read a body tagged as a varint as a
      // message all the same, one this outline had skipped (and so neither counted nor limited).
      if (wireType !== WIRE_LENGTH_DELIMITED) throw new Error(`body ${member.name} is not length-delimited`);
      if (++bodies > 1) throw new Error('more than one body');
      outline.body = member.name as BodyName;
      const end = reader.uint32() + reader.pos;
      if (end > reader.len) throw new Error('a body runs past the end of the message');
      countEntries(reader, end, member.type, outline.entries);
    }
  } catch (err) {
    throw new ProtocolError('PROTO_BAD_MESSAGE', `a message could not be decoded: ${(err as Error).message}`, { cause: err });
  }
  return outline;
}

const ID_FIELD = 1;

/** A field as the outline needs it: its name, whether it repeats, whether it is length-delimited. */
interface OutlineField {
  name: string;
  repeated: boolean;
  /** A message, string or bytes field: protobufjs decodes it as one whatever its wire type says. */
  lengthDelimited: boolean;
  /** For a message field, its type's name (in the axctl.v1 namespace, where every type is). */
  type: string;
}

/** A type of the descriptor: a message has fields (an enum has values instead). */
interface DescriptorType {
  fields?: Record<string, { type: string; id: number; rule?: string }>;
  oneofs?: Record<string, { oneof: string[] }>;
}

const TYPES = (descriptor as { nested: { axctl: { nested: { v1: { nested: Record<string, DescriptorType> } } } } }).nested.axctl.nested.v1.nested;

/** Each message type's fields by number, built once from the descriptor. */
const fieldTables = new Map<string, Map<number, OutlineField>>();
function fieldsOf(typeName: string): Map<number, OutlineField> {
  let table = fieldTables.get(typeName);
  if (!table) {
    table = new Map();
    for (const [name, field] of Object.entries(TYPES[typeName]?.fields ?? {})) {
      const isMessage = TYPES[field.type]?.fields !== undefined; // a scalar or an enum is not in TYPES with fields
      table.set(field.id, { name, repeated: field.rule === 'repeated', lengthDelimited: isMessage || field.type === 'string' || field.type === 'bytes', type: field.type });
    }
    fieldTables.set(typeName, table);
  }
  return table;
}

const BODY_MEMBERS = new Set(TYPES['Envelope']?.oneofs?.['body']?.oneof ?? []);

/** Counts the entries of `typeName`'s repeated fields between the reader's position and `end`. */
function countEntries(reader: Reader, end: number, typeName: string, entries: Map<string, number>): void {
  const fields = fieldsOf(typeName);
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = fields.get(tag >>> 3);
    // A message, string or bytes field under another wire type is decoded by protobufjs as if
    // it were one, whatever this outline skipped: refused, so what is counted is what is decoded.
    if (field?.lengthDelimited && (tag & 7) !== WIRE_LENGTH_DELIMITED) {
      throw new Error(`${typeName}.${field.name} is not length-delimited`);
    }
    if (field?.repeated) entries.set(field.name, (entries.get(field.name) ?? 0) + 1);
    reader.skipType(tag & 7);
  }
  if (reader.pos !== end) throw new Error('a body ends inside a field');
}
