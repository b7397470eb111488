/**
 * The JS CRC-32 (what the board's Node 18 runs) reads aligned 32-bit words: every start
 * offset within a buffer, every length around the 8-byte step, and Node's pooled Buffers must
 * give the checksum a plain bit-by-bit CRC gives.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../../shared/protocol/crc32';

/** CRC-32 one bit at a time: slow and obviously right. */
function crc32Bitwise(data: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32Js on views', () => {
  it('agrees with a bitwise CRC for every start offset and lengths around the word steps', () => {
    const data = randomBytes(300);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 40; length++) {
        const view = new Uint8Array(data.buffer, data.byteOffset + start, length);
        expect(crc32Js(view)).toBe(crc32Bitwise(view));
        expect(crc32Js(view, 0x12345678)).toBe(crc32Bitwise(view, 0x12345678));
      }
      const long = data.subarray(start, start + 257);
      expect(crc32Js(long)).toBe(crc32Bitwise(long));
    }
  });

  it('agrees with the exported crc32 on a large unaligned slice of a pooled Buffer', () => {
    const small = Buffer.from('pool'); // shares Node's 8 KiB pool, at some offset in it
    expect(crc32Js(small)).toBe(crc32Bitwise(small));
    const big = randomBytes(1024 * 1024 + 13).subarray(5);
    expect(crc32Js(big)).toBe(crc32(big));
    expect(crc32Js(big.subarray(1000), crc32Js(big.subarray(0, 1000)))).toBe(crc32(big));
  });
});
