/** The fault-injecting relay over in-memory streams: faults are real and reproducible. */
import { PassThrough, Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { relayLine, type LineRelay, type RelayOptions } from '../../scripts/serial-relay';
import { cobsFrame } from '../../shared/serial/cobs';
import { pattern } from './sim';

/** One end of the relay: what we write goes in, what the relay writes comes out. */
function end(): { side: Duplex; write(b: Uint8Array): void; received: () => Buffer } {
  const toRelay = new PassThrough();
  const fromRelay = new PassThrough();
  const chunks: Buffer[] = [];
  fromRelay.on('data', (c: Buffer) => chunks.push(c));
  return { side: Duplex.from({ readable: toRelay, writable: fromRelay }), write: (b) => toRelay.write(b), received: () => Buffer.concat(chunks) };
}

const relays: LineRelay[] = [];
afterEach(() => relays.splice(0).forEach((r) => r.close()));

function start(options: RelayOptions) {
  const a = end();
  const b = end();
  const relay = relayLine(a.side, b.side, options);
  relays.push(relay);
  return { a, b, relay };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (polling, no fixed delay) until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !done(); await sleep(10)) {
    if (Date.now() - started > 10_000) throw new Error(`relay test: timed out waiting for ${what}`);
  }
}

/** Everything written into `relay` a→b went through it (or was dropped) and came out. */
const carried = (relay: LineRelay, b: { received: () => Buffer }, written: number) => () =>
  relay.stats.ab.bytesIn === written && relay.stats.ab.bytesQueued === 0 && b.received().length === relay.stats.ab.bytesOut;
const frames = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => cobsFrame(pattern(40, i))));

describe('serial relay', () => {
  it('carries bytes unchanged both ways when no fault is set', async () => {
    const { a, b, relay } = start({});
    a.write(pattern(5000, 1));
    b.write(pattern(3000, 2));
    await until(() => b.received().length === 5000 && a.received().length === 3000, 'both directions');
    expect(b.received().equals(Buffer.from(pattern(5000, 1)))).toBe(true);
    expect(a.received().equals(Buffer.from(pattern(3000, 2)))).toBe(true);
    expect(relay.stats.ab).toMatchObject({ bytesIn: 5000, bytesOut: 5000, bytesLost: 0 });
  });

  it('corrupts and drops whole frames at the given rates, the same way for the same seed', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const { a, b, relay } = start({ corruptFrames: 0.2, dropFrames: 0.1, seed: 42 });
      a.write(frames(500));
      await until(carried(relay, b, frames(500).length), 'the frames');
      runs.push({ out: b.received(), stats: { ...relay.stats.ab } });
    }
    expect(runs[0]!.out.equals(runs[1]!.out)).toBe(true);
    const { framesCorrupted, framesDropped } = runs[0]!.stats;
    expect(framesCorrupted).toBeGreaterThan(60);
    expect(framesCorrupted).toBeLessThan(140);
    expect(framesDropped).toBeGreaterThan(20);
    expect(framesDropped).toBeLessThan(80);
    expect(runs[0]!.out.length).toBeLessThan(frames(500).length);
  });

  it('loses everything in flight and sent during a cut, then carries on', async () => {
    const { a, b, relay } = start({ baud: 100_000 });
    a.write(pattern(20_000));
    await until(() => relay.stats.ab.bytesIn === 20_000, 'the first bytes');
    relay.cut(400);
    a.write(pattern(1000, 9));
    await sleep(500); // the cable is back
    a.write(pattern(700, 3));
    await until(() => b.received().subarray(-700).equals(Buffer.from(pattern(700, 3))), 'the bytes after the cut');
    const got = b.received();
    expect(got.length).toBeLessThan(20_000);
    expect(got.subarray(got.length - 700).equals(Buffer.from(pattern(700, 3)))).toBe(true);
    expect(relay.stats.ab.bytesLost).toBeGreaterThan(1000);
  });

  it('flips and drops single bytes at the given rates', async () => {
    const { a, b, relay } = start({ flipBytes: 0.01, dropBytes: 0.01, seed: 3 });
    a.write(new Uint8Array(20_000));
    await until(carried(relay, b, 20_000), 'the bytes');
    const got = b.received();
    expect(20_000 - got.length).toBeGreaterThan(100);
    expect(got.filter((x) => x !== 0).length).toBeGreaterThan(100);
    expect(relay.stats.ab.bytesIn).toBe(20_000);
  });
});
