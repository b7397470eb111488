/**
 * Large frames assembled in lent memory (shared/protocol/receive-buffers.ts) over a byte
 * stream: FrameDecoder takes the memory, StreamTransport settles it after each read's frames
 * are handled, and a message kept for a listener not there yet is a copy. The lender here
 * scribbles over what it gets back, as a reused slab would be.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, encodeFrame } from '../../shared/protocol/frame';
import { StreamTransport } from '../../shared/transport/stream';
import { ScribblingBuffers } from './lending-buffers';

const KB = 1024;

/** `bytes` in pieces of `size`. */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('FrameDecoder with lent memory', () => {
  it('assembles a large frame that spans several slices in lent memory, and nothing else', () => {
    const lender = new ScribblingBuffers();
    const decoder = new FrameDecoder({ receiveBuffers: lender });
    const large = randomBytes(KB * KB);
    const small = randomBytes(10 * KB);
    const whole = randomBytes(100 * KB);
    const frames = [];
    for (const piece of pieces(encodeFrame(FrameType.Message, large), 64 * KB)) frames.push(...decoder.push(piece));
    for (const piece of pieces(encodeFrame(FrameType.Message, small), 4 * KB)) frames.push(...decoder.push(piece));
    frames.push(...decoder.push(encodeFrame(FrameType.Message, whole))); // one slice: a view, no copy at all
    expect(frames.map((f) => f.payload.length)).toEqual([large.length, small.length, whole.length]);
    expect(Buffer.from(frames[0]!.payload).equals(large)).toBe(true);
    expect(Buffer.from(frames[1]!.payload).equals(small)).toBe(true);
    expect(Buffer.from(frames[2]!.payload).equals(whole)).toBe(true);
    expect(lender.asked).toEqual([large.length + 12]);
    expect(lender.keep(frames[0]!.payload)).toBe(true);
  });

  it('assembles in fresh memory when the lender has none', () => {
    const lender = new ScribblingBuffers(() => false);
    const decoder = new FrameDecoder({ receiveBuffers: lender });
    const payload = randomBytes(300 * KB);
    const frames = pieces(encodeFrame(FrameType.Message, payload), 64 * KB).flatMap((p) => decoder.push(p));
    lender.settle();
    expect(lender.asked).toEqual([payload.length + 12]);
    expect(Buffer.from(frames[0]!.payload).equals(payload)).toBe(true);
  });
});

describe('StreamTransport with lent memory', () => {
  function pair(lender: ScribblingBuffers) {
    const input = new PassThrough();
    const output = new PassThrough();
    const transport = new StreamTransport(input, output, { peer: 'test', idleTimeoutMs: 0, receiveBuffers: lender });
    return { input, transport };
  }

  it('delivers each large message intact while its handler runs, and settles after every read', async () => {
    const lender = new ScribblingBuffers();
    const { input, transport } = pair(lender);
    const sizes = [KB * KB, 70 * KB, 3, KB * KB + 5, 200 * KB];
    const sent = sizes.map((size) => randomBytes(size));
    const checked: boolean[] = [];
    const done = new Promise<void>((resolve) => {
      transport.on('message', (m) => {
        checked.push(Buffer.from(m).equals(sent[checked.length]!));
        expect(lender.outstanding).toBeLessThanOrEqual(2); // two frames may end in one read, no more here
        if (checked.length === sent.length) resolve();
      });
    });
    await new Promise((r) => setImmediate(r)); // the listener is wired: no inbox
    // Slices that end frames mid-way, so some reads complete one frame and begin the next.
    const stream = Buffer.concat(sent.map((s) => encodeFrame(FrameType.Message, s)));
    for (const piece of pieces(stream, 48 * KB + 7)) input.write(piece);
    await done;
    expect(checked).toEqual(sizes.map(() => true));
    expect(lender.lentCount).toBe(4);
    expect(lender.outstanding).toBe(0);
    transport.destroy();
  });

  it('keeps a copy of a message that arrives before anyone listens', async () => {
    const lender = new ScribblingBuffers();
    const { input, transport } = pair(lender);
    const payload = randomBytes(KB * KB);
    for (const piece of pieces(encodeFrame(FrameType.Message, payload), 64 * KB)) input.write(piece);
    await new Promise((r) => setTimeout(r, 20));
    expect(lender.lentCount).toBe(1);
    expect(lender.settledCount).toBe(1); // scribbled over: only a copy can be intact
    const got = await new Promise<Uint8Array>((resolve) => transport.once('message', resolve));
    expect(Buffer.from(got).equals(payload)).toBe(true);
    transport.destroy();
  });
});
