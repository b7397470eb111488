/**
 * Property: whatever the line does (drops, flipped bits, duplicated frames, noise, cuts that
 * heal), every byte written arrives exactly once and in order on the other side, both ways,
 * and an orderly close completes on both ends. Runs in virtual time (sim.ts), so each case
 * is deterministic and replayable from fast-check's seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimLine, concat, pattern, type FaultPlan } from './sim';

const rate = fc.double({ min: 0, max: 0.15, noNaN: true });
const cuts = fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 8_000 })), { maxLength: 3 }).map((list) => list.map(([from, len]) => [from, from + len] as [number, number]));
const faults: fc.Arbitrary<FaultPlan> = fc.record({ drop: rate, flip: rate, duplicate: rate, garbage: rate, cuts });
const messages = fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 6 });

describe('ReliableLink property', () => {
  it('delivers every byte exactly once and in order under any healing fault schedule', () => {
    fc.assert(
      fc.property(faults, faults, messages, messages, fc.integer({ min: 1, max: 2 ** 31 }), fc.constantFrom(115_200, 921_600, 3_000_000), (ab, ba, up, down, seed, baud) => {
        // Longer than any run of cuts (3 per direction, 8 s each), so the link must resume
        // rather than give up, even when a cut falls on the closing handshake.
        const line = new SimLine({ ab, ba, seed, baud, options: { giveUpAfterMs: 60_000, closeTimeoutMs: 50_000, connectTimeoutMs: 60_000 } });
        const sentUp = up.map((n, i) => pattern(n, i));
        const sentDown = down.map((n, i) => pattern(n, i + 50));
        line.start();
        line.clock.run(() => line.a.link.established && line.b.link.established, 60_000);
        expect(line.a.link.established && line.b.link.established).toBe(true);
        for (const m of sentUp) line.a.link.write(m);
        for (const m of sentDown) line.b.link.write(m);
        line.a.link.end();
        line.clock.run(() => line.a.closed && line.b.closed, 3_600_000);
        expect(Buffer.from(concat(line.b.received)).equals(Buffer.from(concat(sentUp)))).toBe(true);
        expect(Buffer.from(concat(line.a.received)).equals(Buffer.from(concat(sentDown)))).toBe(true);
        expect([line.a.closeError, line.b.closeError]).toEqual([undefined, undefined]);
      }),
      { numRuns: 60 },
    );
  });

  it('fails both ends with a typed error, never a hang, when the line stays dead', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 2 ** 31 }), (deadFrom, seed) => {
        const dead: FaultPlan = { cuts: [[deadFrom, Infinity]] };
        const line = new SimLine({ ab: dead, ba: dead, seed, options: { giveUpAfterMs: 10_000, connectTimeoutMs: 5_000 } });
        line.start();
        line.a.link.on('established', () => line.a.link.write(pattern(500_000)));
        line.clock.run(() => line.a.closed && (line.b.closed || !line.b.link.established), 120_000);
        expect(line.a.closed).toBe(true);
        expect(['SERIAL_LINK_LOST', 'SERIAL_NO_PEER']).toContain((line.a.closeError as { code: string }).code);
      }),
      { numRuns: 40 },
    );
  });
});
