/**
 * Chunk frames come from a small pool and are reused only when a transport says it is done
 * with them: over a socket (the bytes are in the kernel when the write calls back) many
 * chunks arrive intact while the pool recycles; over an in-memory stream (which hands the very
 * buffer to its reader) nothing is recycled by default, so chunks a reader keeps stay intact
 * (this test fails if that stream recycles).
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../shared/protocol/envelope';
import { allocFramePayload, encodeFrameParts, FrameType, releaseFrame } from '../../shared/protocol/frame';
import { StreamTransport } from '../../shared/transport/stream';
import type { Transport } from '../../shared/transport/transport';

const CHUNK = 1024 * 1024;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('frame pool', () => {
  it('reuses a released chunk frame for the next chunk, and never one still in use', () => {
    const first = allocFramePayload(CHUNK);
    const parts = encodeFrameParts(FrameType.Message, first);
    const inUse = allocFramePayload(CHUNK);
    expect(inUse.buffer).not.toBe(first.buffer);
    releaseFrame(parts);
    releaseFrame(parts); // twice: still one entry in the free list
    expect(allocFramePayload(CHUNK).buffer).toBe(first.buffer);
    expect(allocFramePayload(CHUNK).buffer).not.toBe(first.buffer);
  });

  it('does not pool frames larger than a chunk, nor three-part frames', () => {
    const big = allocFramePayload(4 * CHUNK);
    releaseFrame(encodeFrameParts(FrameType.Message, big));
    expect(allocFramePayload(4 * CHUNK).buffer).not.toBe(big.buffer);
    const plain = new Uint8Array(10);
    const parts = encodeFrameParts(FrameType.Message, plain);
    expect(parts).toHaveLength(3);
    releaseFrame(parts); // a no-op
  });
});

async function sendChunks(a: Transport, b: Transport, count: number): Promise<void> {
  const sent = Array.from({ length: count }, () => randomBytes(CHUNK));
  const received: Buffer[] = [];
  const all = new Promise<void>((resolve) =>
    b.on('message', (bytes) => {
      const env = decodeEnvelope(bytes);
      if (env.body === 'putChunk') received.push(Buffer.from(env.putChunk.data));
      if (received.length === count) resolve();
    }),
  );
  for (const [i, data] of sent.entries()) await a.send(encodeEnvelope({ id: 1, body: 'putChunk', putChunk: { offset: i * CHUNK, data } }));
  await all;
  expect(received.map((r, i) => r.equals(sent[i]!))).toEqual(sent.map(() => true));
}

describe('chunks through transports while frames are recycled', () => {
  it('a socket pair, frames recycled: every chunk intact', async () => {
    let accept: (t: Transport) => void = () => undefined;
    const accepted = new Promise<Transport>((resolve) => (accept = resolve));
    const server = net.createServer((socket) => accept(StreamTransport.overDuplex(socket, { outputCopies: true })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    await new Promise((r) => socket.once('connect', r));
    const a = StreamTransport.overDuplex(socket, { outputCopies: true, highWaterMarkBytes: 3 * CHUNK });
    const b = await accepted;
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())), () => a.destroy(), () => b.destroy());
    await sendChunks(a, b, 24);
  });

  it('an in-memory stream (no recycling by default): a reader that keeps the chunks it got finds them intact', async () => {
    const aToB = new PassThrough();
    const bToA = new PassThrough();
    const a = new StreamTransport(bToA, aToB);
    const b = new StreamTransport(aToB, bToA);
    cleanups.push(() => a.destroy(), () => b.destroy());
    // A PassThrough hands the written buffer itself to the reader, and the agent keeps chunk
    // data as views until it writes a batch: a recycled frame would rewrite a kept chunk.
    const sent = Array.from({ length: 8 }, () => randomBytes(CHUNK));
    const kept: Uint8Array[] = [];
    const all = new Promise<void>((resolve) =>
      b.on('message', (bytes) => {
        const env = decodeEnvelope(bytes);
        if (env.body === 'putChunk') kept.push(env.putChunk.data); // a view, not a copy
        if (kept.length === sent.length) resolve();
      }),
    );
    for (const [i, data] of sent.entries()) await a.send(encodeEnvelope({ id: 1, body: 'putChunk', putChunk: { offset: i * CHUNK, data } }));
    await all;
    expect(kept.map((k, i) => Buffer.from(k).equals(sent[i]!))).toEqual(sent.map(() => true));
  });
});
