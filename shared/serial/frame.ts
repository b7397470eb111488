/**
 * The link's frames, before COBS (see cobs.ts). Pure: frames in, bytes out and back.
 *
 *   byte 0        type << 4 | flags
 *   DATA  (1)     seq u16, tx u16, ack u16, echo u16, [sack u32], payload    flags: SACK, FIN
 *   ACK   (2)     ack u16, echo u16, [sack u32]                              flags: SACK
 *   PING  (3)     ack u16, echo u16, [sack u32]  (answer with an ACK now)    flags: SACK
 *   HELLO (4)     version u8, session u32, peerSession u32, maxPayload u16, window u8
 *                                                                 flags: NEED_REPLY
 *   RESET (5)     session u32  (the sender's session, aborted)
 *   then          CRC-32 u32 of every byte before it (IEEE, as zlib; shared/protocol/crc32)
 *
 * Numbers are little-endian. `seq` numbers the data; `tx` numbers every transmission (a resent
 * frame keeps its seq and gets a new tx). `ack` is the first seq the receiver has not yet
 * delivered upward; bit i of `sack` says it holds frame ack+i; `echo` is the tx of the last
 * DATA frame it received. A serial line never reorders, so everything sent before the echoed
 * transmission that is neither acknowledged nor held was lost: the sender resends it at once,
 * with no timeout, and gets an exact round-trip sample (no Karn ambiguity). Every frame but
 * HELLO and RESET carries these, so acknowledgements ride on data going the other way for
 * free; the SACK word is only sent when it is not zero (4 bytes saved on the in-order path).
 */
import { crc32 } from '../protocol/crc32';

export const LINK_VERSION = 1;
/** Largest header (DATA with SACK) plus the CRC: the per-frame cost before COBS. */
export const FRAME_OVERHEAD = 1 + 2 + 2 + 2 + 2 + 4 + 4;
/** Highest payload a HELLO can announce (u16). */
export const MAX_PAYLOAD_LIMIT = 0xffff - FRAME_OVERHEAD;

const TYPE = { data: 1, ack: 2, ping: 3, hello: 4, reset: 5 } as const;
const FLAG_SACK = 0x1;
const FLAG_FIN = 0x2;
const FLAG_NEED_REPLY = 0x4;

export interface AckInfo {
  /** First sequence number not yet delivered upward (everything before it is). */
  next: number;
  /** Bit i set: frame next+i is held by the receiver. */
  sack: number;
  /** tx of the last DATA frame received (0xffff before any). */
  echo: number;
}

export type LinkFrame =
  | { type: 'data'; seq: number; tx: number; ack: AckInfo; fin: boolean; payload: Uint8Array }
  | { type: 'ack'; ack: AckInfo }
  | { type: 'ping'; ack: AckInfo }
  | { type: 'hello'; version: number; session: number; peerSession: number; needReply: boolean; maxPayload: number; window: number }
  | { type: 'reset'; session: number };

function headerLength(frame: LinkFrame): number {
  switch (frame.type) {
    case 'data':
      return 9 + (frame.ack.sack ? 4 : 0);
    case 'ack':
    case 'ping':
      return 5 + (frame.ack.sack ? 4 : 0);
    case 'hello':
      return 13;
    case 'reset':
      return 5;
  }
}

/** The raw (not yet COBS-encoded) bytes of a frame, CRC included. */
export function encodeFrame(frame: LinkFrame): Uint8Array {
  const payload = frame.type === 'data' ? frame.payload : undefined;
  const head = headerLength(frame);
  const out = new Uint8Array(head + (payload?.length ?? 0) + 4);
  const view = new DataView(out.buffer);
  let flags = 0;
  let at = 1;
  const writeAck = (ack: AckInfo): void => {
    view.setUint16(at, ack.next, true);
    view.setUint16(at + 2, ack.echo, true);
    at += 4;
    if (ack.sack) {
      flags |= FLAG_SACK;
      view.setUint32(at, ack.sack >>> 0, true);
      at += 4;
    }
  };
  switch (frame.type) {
    case 'data':
      view.setUint16(1, frame.seq, true);
      view.setUint16(3, frame.tx, true);
      at = 5;
      if (frame.fin) flags |= FLAG_FIN;
      writeAck(frame.ack);
      break;
    case 'ack':
    case 'ping':
      writeAck(frame.ack);
      break;
    case 'hello':
      if (frame.needReply) flags |= FLAG_NEED_REPLY;
      view.setUint8(1, frame.version);
      view.setUint32(2, frame.session >>> 0, true);
      view.setUint32(6, frame.peerSession >>> 0, true);
      view.setUint16(10, frame.maxPayload, true);
      view.setUint8(12, frame.window);
      at = 13;
      break;
    case 'reset':
      view.setUint32(1, frame.session >>> 0, true);
      at = 5;
      break;
  }
  out[0] = (TYPE[frame.type] << 4) | flags;
  if (payload) out.set(payload, at);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Parses raw frame bytes; undefined for a bad CRC, an unknown type or a wrong length. */
export function decodeFrame(raw: Uint8Array): LinkFrame | undefined {
  if (raw.length < 5) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bodyEnd = raw.length - 4;
  if (view.getUint32(bodyEnd, true) !== crc32(raw.subarray(0, bodyEnd))) return undefined;
  const type = raw[0]! >> 4;
  const flags = raw[0]! & 0xf;
  const readAck = (at: number): { ack: AckInfo; end: number } | undefined => {
    const sackLength = flags & FLAG_SACK ? 4 : 0;
    if (at + 4 + sackLength > bodyEnd) return undefined;
    const sack = sackLength ? view.getUint32(at + 4, true) : 0;
    return { ack: { next: view.getUint16(at, true), echo: view.getUint16(at + 2, true), sack }, end: at + 4 + sackLength };
  };
  switch (type) {
    case TYPE.data: {
      const fields = readAck(5);
      if (!fields) return undefined;
      const payload = raw.subarray(fields.end, bodyEnd);
      const seq = view.getUint16(1, true);
      return { type: 'data', seq, tx: view.getUint16(3, true), ack: fields.ack, fin: (flags & FLAG_FIN) !== 0, payload };
    }
    case TYPE.ack:
    case TYPE.ping: {
      const fields = readAck(1);
      if (!fields || fields.end !== bodyEnd) return undefined;
      return { type: type === TYPE.ack ? 'ack' : 'ping', ack: fields.ack };
    }
    case TYPE.hello:
      if (bodyEnd !== 13) return undefined;
      return {
        type: 'hello',
        version: raw[1]!,
        session: view.getUint32(2, true),
        peerSession: view.getUint32(6, true),
        needReply: (flags & FLAG_NEED_REPLY) !== 0,
        maxPayload: view.getUint16(10, true),
        window: raw[12]!,
      };
    case TYPE.reset:
      if (bodyEnd !== 5) return undefined;
      return { type: 'reset', session: view.getUint32(1, true) };
    default:
      return undefined;
  }
}
