/**
 * The blob chunk over a serial line: small enough that the line carries one in about 10 s, since
 * both the host's request timer and the agent's transfer timer (60 s) wait for whole chunks.
 */
import { describe, expect, it } from 'vitest';
import { SERIAL_CHUNK_BYTES, serialChunkBytes } from '../../shared/serial/serial-transport';

describe('serialChunkBytes', () => {
  it('is a quarter MiB on a fast or unpaced line', () => {
    expect(serialChunkBytes(921_600)).toBe(SERIAL_CHUNK_BYTES);
    expect(serialChunkBytes(3_000_000)).toBe(SERIAL_CHUNK_BYTES);
    expect(serialChunkBytes(0)).toBe(SERIAL_CHUNK_BYTES);
  });

  it('on a slow line, what it carries in about 10 s, in whole 4 KiB, never under 4 KiB', () => {
    for (const baud of [115_200, 57_600, 38_400, 9600]) {
      const bytes = serialChunkBytes(baud);
      expect(bytes % 4096, String(baud)).toBe(0);
      expect((bytes * 10) / baud, String(baud)).toBeLessThanOrEqual(10);
      expect(((bytes + 4096) * 10) / baud, String(baud)).toBeGreaterThan(10);
    }
    expect(serialChunkBytes(38_400)).toBe(36 * 1024); // 9.6 s a chunk, where a quarter MiB took 68 s
    expect(serialChunkBytes(300)).toBe(4096);
  });
});
