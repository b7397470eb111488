/**
 * PutChunk and GetChunk envelopes — every byte of every upload and download — encoded by hand
 * straight into a buffer that has room for the frame around them (frame.ts, allocFramePayload):
 * the chunk's data is copied once, from the file's read buffer into the frame that goes to the
 * socket. Through protobufjs it was copied twice (into the encoded message, then into the
 * frame) and a fresh message buffer allocated per chunk. Measured: encoding and framing a 1 MiB
 * chunk 0.95 → 0.40–0.45 ms (CRC included); the host's CPU per uploaded MB in the transport
 * bench 1.57 → 1.29–1.36 ms.
 *
 * The bytes are exactly protobufjs's for an envelope with every field set, as the protocol code
 * builds them (fields in number order, zeros written too), which
 * test/protocol/chunk-encoding.test.ts checks against it; decoding stays protobufjs's.
 */
import { allocFramePayload } from './frame';

/** Envelope field numbers (proto/axctl.proto). */
const ENVELOPE_ID = 1;
const ENVELOPE_PUT_CHUNK = 14;
const ENVELOPE_GET_CHUNK = 17;
/** PutChunk and GetChunk share these; GetChunk adds last = 3 and blob_size = 4. */
const CHUNK_OFFSET = 1;
const CHUNK_DATA = 2;
const CHUNK_LAST = 3;
const CHUNK_BLOB_SIZE = 4;

const VARINT = 0;
const LENGTH_DELIMITED = 2;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes `value` (a whole number below 2^53) as a varint at `at`; returns the next offset. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

const tag = (field: number, wireType: number) => field * 8 + wireType;

/** Scalar (varint) fields of a chunk message, in field order. */
type Scalars = [field: number, value: number][];

function scalarsSize(scalars: Scalars): number {
  let size = 0;
  for (const [field, value] of scalars) size += varintSize(tag(field, VARINT)) + varintSize(value);
  return size;
}

function writeScalars(out: Uint8Array, at: number, scalars: Scalars): number {
  for (const [field, value] of scalars) {
    at = writeVarint(out, at, tag(field, VARINT));
    at = writeVarint(out, at, value);
  }
  return at;
}

function encodeChunkEnvelope(id: number, bodyField: number, before: Scalars, data: Uint8Array, after: Scalars): Uint8Array {
  const dataField = varintSize(tag(CHUNK_DATA, LENGTH_DELIMITED)) + varintSize(data.length) + data.length;
  const body = scalarsSize(before) + dataField + scalarsSize(after);
  const head: Scalars = [[ENVELOPE_ID, id]];
  const size = scalarsSize(head) + varintSize(tag(bodyField, LENGTH_DELIMITED)) + varintSize(body) + body;
  const out = allocFramePayload(size);
  let at = writeScalars(out, 0, head);
  at = writeVarint(out, at, tag(bodyField, LENGTH_DELIMITED));
  at = writeVarint(out, at, body);
  at = writeScalars(out, at, before);
  at = writeVarint(out, at, tag(CHUNK_DATA, LENGTH_DELIMITED));
  at = writeVarint(out, at, data.length);
  out.set(data, at);
  at += data.length;
  at = writeScalars(out, at, after);
  if (at !== size) throw new Error(`chunk encoding wrote ${at} of ${size} bytes`); // a bug here, never the peer's
  return out;
}

function checkWhole(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of bytes, got ${value}`);
}

export function encodePutChunkEnvelope(id: number, chunk: { offset: number; data: Uint8Array }): Uint8Array {
  checkWhole('offset', chunk.offset);
  return encodeChunkEnvelope(id, ENVELOPE_PUT_CHUNK, [[CHUNK_OFFSET, chunk.offset]], chunk.data, []);
}

export function encodeGetChunkEnvelope(id: number, chunk: { offset: number; data: Uint8Array; last: boolean; blobSize: number }): Uint8Array {
  checkWhole('offset', chunk.offset);
  checkWhole('blobSize', chunk.blobSize);
  return encodeChunkEnvelope(id, ENVELOPE_GET_CHUNK, [[CHUNK_OFFSET, chunk.offset]], chunk.data, [[CHUNK_LAST, chunk.last ? 1 : 0], [CHUNK_BLOB_SIZE, chunk.blobSize]]);
}
