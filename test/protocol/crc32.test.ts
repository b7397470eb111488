import fc from 'fast-check';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../../shared/protocol/crc32';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('gives the standard check values (the JS version the board runs, and the exported one)', () => {
    for (const f of [crc32Js, crc32]) {
      expect(f(ascii('123456789'))).toBe(0xcbf43926);
      expect(f(new Uint8Array(0))).toBe(0);
      expect(f(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    }
  });

  it('continues from a previous value exactly like one pass (any split)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), (data, cut) => {
        const at = cut % (data.length + 1);
        expect(crc32Js(data.subarray(at), crc32Js(data.subarray(0, at)))).toBe(crc32Js(data));
      }),
    );
  });

  it('agrees with zlib for lengths around the 8-byte stride', () => {
    const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    const reference = native ?? ((d: Uint8Array) => crc32(d));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (data) => {
        expect(crc32Js(data)).toBe(reference(data));
      }),
    );
  });
});
