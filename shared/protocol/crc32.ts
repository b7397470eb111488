/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320; the zlib/PNG/Ethernet checksum).
 *
 * Every frame is checksummed on both sides, so this runs over every byte of an upload. Node
 * >= 20.15 has zlib.crc32 in C (~0.25-0.45 ms/MB on the development machine), used when
 * present. The board's Node 18 gets the JS version: "slicing-by-8" (8 bytes per step through
 * 8 lookup tables), reading the 8 bytes as two 32-bit words from an aligned Int32Array view
 * where the machine is little-endian (~1.3 ms/MB here, against ~2.1 ms/MB reading bytes one
 * by one, and ~6 for one table). All give the same numbers (tested).
 */
import * as zlib from 'node:zlib';

const TABLES = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** Word loads give the bytes in little-endian order only on a little-endian machine. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it; 0 to start). */
export function crc32Js(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous;
  let i = 0;
  if (LITTLE_ENDIAN) {
    // Bytes one by one up to a 4-byte boundary, then 8 bytes per step as two aligned words.
    for (; i < data.length && ((data.byteOffset + i) & 3) !== 0; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    const steps = (data.length - i) >>> 3;
    if (steps > 0) {
      const words = new Int32Array(data.buffer, data.byteOffset + i, steps * 2);
      for (let w = 0; w < words.length; w += 2) {
        const a = words[w]! ^ crc;
        const b = words[w + 1]!;
        crc =
          t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
          t[768 + (b & 0xff)]! ^ t[512 + ((b >>> 8) & 0xff)]! ^ t[256 + ((b >>> 16) & 0xff)]! ^ t[b >>> 24]!;
      }
      i += steps * 8;
    }
  } else {
    const whole = data.length - (data.length % 8);
    for (; i < whole; i += 8) {
      const a = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ crc;
      crc =
        t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
        t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
    }
  }
  for (; i < data.length; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

type NativeCrc32 = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: NativeCrc32 }).crc32;

/** CRC-32 of `data`, continuing from `previous`; native when this Node has it. */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof native === 'function' ? (data, previous = 0) => native(data, previous) : crc32Js;
