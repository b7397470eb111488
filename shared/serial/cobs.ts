/**
 * COBS (Consistent Overhead Byte Stuffing) with 0x00 as the frame delimiter.
 *
 * Why COBS and not SLIP: the overhead is bounded (one byte per 254, i.e. 0.4% worst case,
 * versus up to 100% for SLIP on unlucky data) and 0x00 can never appear inside a frame, so a
 * receiver that starts listening mid-frame, or after line noise or a cut, re-synchronises at
 * the next 0x00. Each frame is written as 0x00 <cobs bytes> 0x00: the leading delimiter
 * flushes whatever garbage preceded it, the trailing one ends the frame without waiting for
 * the next.
 */

/** Largest encoded size of `n` raw bytes (without delimiters). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil((n + 1) / 254);
}

/** `0x00 cobs(raw) 0x00`, ready to write to the line. */
export function cobsFrame(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(raw.length) + 2);
  let codeAt = 1;
  let write = 2;
  let code = 1;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte !== 0) {
      out[write++] = byte;
      code++;
    }
    if (byte === 0 || code === 0xff) {
      out[codeAt] = code;
      code = 1;
      codeAt = write++;
    }
  }
  out[codeAt] = code;
  out[write++] = 0;
  return out.subarray(0, write);
}

/** Decodes one frame's COBS bytes (no delimiters); undefined when they are not valid COBS. */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(encoded.length);
  let read = 0;
  let write = 0;
  while (read < encoded.length) {
    const code = encoded[read++]!;
    if (code === 0 || read + code - 1 > encoded.length) return undefined;
    for (let k = 1; k < code; k++) out[write++] = encoded[read++]!;
    if (code !== 0xff && read < encoded.length) out[write++] = 0;
  }
  return out.subarray(0, write);
}

/**
 * Splits a byte stream at 0x00 delimiters. Anything longer than `maxEncoded` between two
 * delimiters is line noise or a merged cut frame: it is dropped (counted in `oversized`) and
 * the deframer waits for the next delimiter, so memory stays bounded whatever arrives.
 */
export class CobsDeframer {
  private readonly buffer: Uint8Array;
  private length = 0;
  private discarding = false;
  oversized = 0;

  constructor(private readonly maxEncoded: number) {
    this.buffer = new Uint8Array(maxEncoded);
  }

  /** Feeds bytes; calls `onFrame` with each complete frame's still-encoded bytes. */
  push(chunk: Uint8Array, onFrame: (encoded: Uint8Array) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const zero = chunk.indexOf(0, start);
      const end = zero === -1 ? chunk.length : zero;
      this.append(chunk, start, end);
      if (zero === -1) return;
      if (!this.discarding && this.length > 0) onFrame(this.buffer.slice(0, this.length));
      this.length = 0;
      this.discarding = false;
      start = zero + 1;
    }
  }

  /** Forgets a partial frame (the line was reopened: what came before cannot continue). */
  reset(): void {
    this.length = 0;
    this.discarding = false;
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    if (this.discarding || start === end) return;
    if (this.length + end - start > this.maxEncoded) {
      this.oversized++;
      this.discarding = true;
      this.length = 0;
      return;
    }
    this.buffer.set(chunk.subarray(start, end), this.length);
    this.length += end - start;
  }
}
