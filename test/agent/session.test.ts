/**
 * AgentSession in-process over a real loopback socket, with the real BlobStore behind a gate
 * that can hold writes: what only a controlled store can show deterministically — batching of
 * queued chunks, the upload window, the download window, cancel, unknown requests.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../agent/session/context';
import { AgentSession } from '../../agent/session/session';
import { RunService } from '../../agent/run/run-service';
import { BlobStore } from '../../agent/store/blob-store';
import { AgentClient } from '../../host/client/agent-client';
import { Channel, UNVERIFIED_MAX_BYTES } from '../../host/client/channel';
import { handshake } from '../../host/client/handshake';
import { encodeEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { StreamTransport } from '../../shared/transport/stream';
import { SIM_RUN_JOINT, sha256 } from './helpers';
import { TransferMemory } from '../../agent/session/transfer-memory';
import { CollectionPacer, youngCollector } from '../../shared/young-collection';

const KB = 1024;

/** The real store, whose writes can be held until release(). */
class GatedStore implements SessionStore {
  readonly writes: number[] = [];
  private held: { promise: Promise<void>; release: () => void } | null = null;
  constructor(readonly inner: BlobStore) {}
  hold(): void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.held = { promise, release };
  }
  release(): void {
    this.held?.release();
    this.held = null;
  }
  has = (hash: string) => this.inner.has(hash);
  markUsed = (hash: string) => this.inner.markUsed(hash);
  beginUpload = (hash: string, size: number) => this.inner.beginUpload(hash, size);
  partialOffset = (hash: string, size: number) => this.inner.partialOffset(hash, size);
  read = (hash: string, offset: number, length: number, into?: Uint8Array) => this.inner.read(hash, offset, length, into);
  usage = () => this.inner.usage();
  writeProblem = () => this.inner.writeProblem();
  async writeChunk(hash: string, size: number, offset: number, data: Uint8Array) {
    this.writes.push(data.length);
    await this.held?.promise;
    return this.inner.writeChunk(hash, size, offset, data);
  }
}

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(options: ConstructorParameters<typeof AgentSession>[2] = {}, capBytes = 1e9) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-session-'));
  cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
  const inner = await BlobStore.open(path.join(dir, 'store'), { capBytes });
  const store = new GatedStore(inner);
  const secret = randomBytes(32);
  const logs: string[] = [];
  const ctx = {
    store,
    runs: new RunService({ store: inner, runJoint: SIM_RUN_JOINT }),
    secret,
    agentVersion: 'test',
    defaultRunTimeoutMs: 5000,
    board: { runJointVersion: '', learn: async () => undefined },
    transferMemory: TransferMemory.forSessions(new CollectionPacer(youngCollector())),
    log: (line: string) => logs.push(line),
  };
  const server = net.createServer((socket) => {
    const session = new AgentSession(StreamTransport.overDuplex(socket, { peer: 'host' }), ctx, options);
    cleanups.push(() => session.close());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const channel = new Channel(StreamTransport.overDuplex(socket, { peer: 'agent' }), 10_000);
  cleanups.push(() => channel.transport.destroy());
  const hello = await handshake(channel, { secret, clientVersion: 'test', timeoutMs: 5000 });
  /** Another host, through axctl's own client. */
  const client = async () => {
    const other = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => other.once('connect', r));
    const c = await AgentClient.connect(StreamTransport.overDuplex(other, { peer: 'agent' }), { token: secret });
    cleanups.push(() => c.transport.destroy());
    return c;
  };
  return { store, channel, hello, logs, dir, client };
}

/** Opens a call and records everything that arrives for it. */
function record(channel: Channel) {
  const got: Envelope[] = [];
  const errors: string[] = [];
  let notify = () => undefined as void;
  const call = channel.open('test call', {
    onEnvelope: (env) => {
      got.push(env);
      notify();
    },
    onError: (err) => {
      errors.push(err.code);
      notify();
    },
  });
  const until = (test: () => boolean) =>
    new Promise<void>((resolve) => {
      // Re-checked on every arrival and every few ms (some conditions are about the store).
      const timer = setInterval(() => check(), 5);
      const check = () => {
        if (!test()) return;
        clearInterval(timer);
        resolve();
      };
      notify = check;
      check();
    });
  return { id: call.id, got, errors, until, close: () => call.close() };
}

describe('AgentSession uploads', () => {
  it('writes chunks that queued up during a slow write as one batch, and acks them together', async () => {
    const { store, channel } = await harness({ putWindowBytes: 1024 * KB });
    const data = randomBytes(8 * 64 * KB);
    const hash = sha256(data);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'putBegin', putBegin: { hash, size: data.length } });
    await call.until(() => call.got.some((e) => e.body === 'putReady'));
    store.hold();
    await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: 0, data: data.subarray(0, 64 * KB) } });
    await call.until(() => store.writes.length === 1);
    for (let i = 1; i < 8; i++) await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: i * 64 * KB, data: data.subarray(i * 64 * KB, (i + 1) * 64 * KB) } });
    await new Promise((r) => setTimeout(r, 50));
    store.release();
    await call.until(() => call.got.some((e) => e.body === 'putAck' && e.putAck.complete));
    expect(store.writes).toEqual([64 * KB, 7 * 64 * KB]);
    const acks = call.got.filter((e) => e.body === 'putAck').map((e) => (e.body === 'putAck' ? e.putAck : null));
    expect(acks).toEqual([{ received: 64 * KB, complete: false }, { received: data.length, complete: true }]);
    expect(await store.inner.has(hash)).toEqual({ hash, size: data.length });
  });

  it('refuses more unacknowledged data than the window with PROTO_WINDOW_EXCEEDED', async () => {
    const { store, channel, hello } = await harness({ putWindowBytes: 128 * KB, chunkBytes: 64 * KB });
    expect(hello.limits).toMatchObject({ putWindowBytes: 128 * KB, chunkBytes: 64 * KB });
    const data = randomBytes(512 * KB);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'putBegin', putBegin: { hash: sha256(data), size: data.length } });
    await call.until(() => call.got.length === 1);
    store.hold();
    for (let offset = 0; offset < data.length; offset += 64 * KB) {
      await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset, data: data.subarray(offset, offset + 64 * KB) } });
    }
    await call.until(() => call.errors.length > 0);
    store.release();
    expect(call.errors).toEqual(['PROTO_WINDOW_EXCEEDED']);
  });

  it('refuses a chunk at the wrong offset', async () => {
    const { channel } = await harness();
    const data = randomBytes(100);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'putBegin', putBegin: { hash: sha256(data), size: 100 } });
    await call.until(() => call.got.length === 1);
    await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: 50, data: data.subarray(50) } });
    await call.until(() => call.errors.length > 0);
    expect(call.errors).toEqual(['PROTO_UNEXPECTED']);
  });

  it('reuses a cancelled upload\'s waiting chunks for another upload but not the one being written: both blobs intact', async () => {
    const { store, channel } = await harness();
    const MiB = 1024 * KB;
    const a = randomBytes(3 * MiB);
    const b = randomBytes(3 * MiB);
    const send = (id: number, data: Buffer, from: number) =>
      channel.send({ id, body: 'putChunk', putChunk: { offset: from * MiB, data: data.subarray(from * MiB, (from + 1) * MiB) } });
    const first = record(channel);
    await channel.send({ id: first.id, body: 'putBegin', putBegin: { hash: sha256(a), size: a.length } });
    await first.until(() => first.got.length === 1);
    store.hold();
    await send(first.id, a, 0);
    await first.until(() => store.writes.length === 1); // chunk 0 is at the store, held there
    await send(first.id, a, 1);
    await send(first.id, a, 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(await channel.cancel(first.id)).toBe(true);
    await first.until(() => first.errors.length > 0);

    const second = record(channel);
    await channel.send({ id: second.id, body: 'putBegin', putBegin: { hash: sha256(b), size: b.length } });
    await second.until(() => second.got.length === 1);
    for (let i = 0; i < 3; i++) await send(second.id, b, i); // takes the cancelled chunks' slabs
    await new Promise((r) => setTimeout(r, 50));
    store.release();
    await second.until(() => second.got.some((e) => e.body === 'putAck' && e.putAck.complete) || second.errors.length > 0);
    expect(second.errors).toEqual([]);
    expect(await store.inner.has(sha256(b))).toEqual({ hash: sha256(b), size: b.length });

    // The first upload's chunk 0 reached the disk intact: finishing it passes the hash check.
    await new Promise((r) => setTimeout(r, 50));
    const again = record(channel);
    await channel.send({ id: again.id, body: 'putBegin', putBegin: { hash: sha256(a), size: a.length } });
    await again.until(() => again.got.length === 1);
    expect(again.got[0]).toMatchObject({ body: 'putReady', putReady: { offset: MiB } });
    await send(again.id, a, 1);
    await send(again.id, a, 2);
    await again.until(() => again.got.some((e) => e.body === 'putAck' && e.putAck.complete) || again.errors.length > 0);
    expect(again.errors).toEqual([]);
    expect(await store.inner.has(sha256(a))).toEqual({ hash: sha256(a), size: a.length });
  });

  it('cancels an upload in flight: CANCELLED for it, found for the cancel', async () => {
    const { channel } = await harness();
    const data = randomBytes(100);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'putBegin', putBegin: { hash: sha256(data), size: 100 } });
    await call.until(() => call.got.length === 1);
    expect(await channel.cancel(call.id)).toBe(true);
    await call.until(() => call.errors.length > 0);
    expect(call.errors).toEqual(['CANCELLED']);
    expect(await channel.cancel(call.id)).toBe(false);
  });
});

describe('AgentSession downloads', () => {
  it('sends no further ahead than the window until acknowledged', async () => {
    const { store, channel } = await harness();
    const data = randomBytes(64 * KB * 10);
    const hash = sha256(data);
    await store.inner.writeChunk(hash, data.length, 0, data);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'get', get: { hash, offset: 0, length: 0, chunkBytes: 64 * KB, windowBytes: 3 * 64 * KB } });
    await call.until(() => call.got.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(call.got).toHaveLength(3);
    await channel.send({ id: call.id, body: 'getAck', getAck: { received: 2 * 64 * KB } });
    await call.until(() => call.got.length === 5);
    await channel.send({ id: call.id, body: 'getAck', getAck: { received: 10 * 64 * KB } });
    await call.until(() => call.got.length === 10);
    const chunks = call.got.map((e) => (e.body === 'getChunk' ? e.getChunk : null))!;
    expect(chunks.map((c) => c!.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i * 64 * KB));
    expect(chunks.map((c) => c!.last)).toEqual([...Array(9).fill(false), true]);
    expect(Buffer.concat(chunks.map((c) => c!.data)).equals(data)).toBe(true);
  });

  it('serves a byte range and refuses one past the end (BAD_RANGE)', async () => {
    const { store, channel } = await harness();
    const data = randomBytes(1000);
    const hash = sha256(data);
    await store.inner.writeChunk(hash, data.length, 0, data);
    const range = await channel.request('range', (id) => ({ id, body: 'get', get: { hash, offset: 100, length: 50, chunkBytes: 0, windowBytes: 0 } }), 'getChunk');
    expect(range.getChunk).toMatchObject({ offset: 100, last: true, blobSize: 1000 });
    expect(Buffer.from(range.getChunk.data).equals(data.subarray(100, 150))).toBe(true);
    await expect(channel.request('past', (id) => ({ id, body: 'get', get: { hash, offset: 990, length: 20, chunkBytes: 0, windowBytes: 0 } }), 'getChunk')).rejects.toMatchObject({ code: 'BAD_RANGE' });
  });
});

describe('AgentSession requests', () => {
  it('answers a body it does not know with UNSUPPORTED_REQUEST and keeps the connection', async () => {
    const { channel } = await harness();
    const unknown = record(channel);
    // Field 99 (unknown to this agent) with an empty message, request id as field 1.
    await channel.transport.send(Uint8Array.of(0x08, unknown.id, 0x9a, 0x06, 0x00));
    await unknown.until(() => unknown.errors.length > 0);
    expect(unknown.errors).toEqual(['UNSUPPORTED_REQUEST']);
    const facts = await channel.request('facts', (id) => ({ id, body: 'facts', facts: {} }), 'factsResult');
    expect(facts.factsResult.agentVersion).toBe('test');
  });

  it('refuses request id 0 and bodies only the agent sends', async () => {
    const { channel, logs } = await harness();
    const answer = await channel
      .request('hello again', (id) => ({ id, body: 'putReady', putReady: { offset: 0, complete: false } }), 'putReady')
      .catch((err) => err.code);
    expect(answer).toBe('PROTO_UNEXPECTED');
    expect(logs.some((l) => l.includes('authenticated'))).toBe(true);
  });
});

/** An Envelope of request `id` whose body is field `field` holding `body` (built by hand, as a hostile host would). */
function rawEnvelope(id: number, field: number, body: Uint8Array): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n = Math.floor(n / 128)) out.push((n & 127) | 128);
    out.push(n);
    return out;
  };
  return Buffer.concat([Buffer.from([0x08, ...varint(id), ...varint(field * 8 + 2), ...varint(body.length)]), body]);
}

/** Resolves with the Error (id 0) the agent hangs up with, once the connection has closed. */
async function hangUp(channel: Channel): Promise<string> {
  await channel.closed;
  return channel.failure?.code ?? 'none';
}

describe('AgentSession request limits', () => {
  it('hangs up on a 600 KB has of empty queries without decoding it (PROTO_MESSAGE_TOO_LARGE)', async () => {
    const { channel, logs } = await harness();
    const emptyQueries = Buffer.alloc(300_000 * 2);
    for (let i = 0; i < emptyQueries.length; i += 2) emptyQueries[i] = 0x0a; // BlobQuery, 0 bytes
    await channel.transport.send(rawEnvelope(7, 10, emptyQueries));
    expect(await hangUp(channel)).toBe('PROTO_MESSAGE_TOO_LARGE');
    expect(logs.some((l) => /PROTO_MESSAGE_TOO_LARGE: a has message of 600006 bytes \(only upload chunks may be over 524288 bytes\)/.test(l))).toBe(true);
  });

  it('refuses a has of more than 4096 blobs for that request only; axctl asks in batches', async () => {
    const { channel, client } = await harness();
    const hashes = Array.from({ length: 5000 }, (_, i) => sha256(Buffer.from(String(i))));
    const answer = await channel
      .request('has', (id) => ({ id, body: 'has', has: { blobs: hashes.map((hash) => ({ hash, size: 1 })) } }), 'hasResult')
      .catch((err) => `${err.code}: ${err.message}`);
    expect(answer).toMatch(/^TOO_MANY_ENTRIES: agent: has request \d+ has 5000 blobs, the agent takes at most 4096 in one request$/);
    const facts = await channel.request('facts', (id) => ({ id, body: 'facts', facts: {} }), 'factsResult');
    expect(facts.factsResult.agentVersion).toBe('test');
    const presence = await (await client()).has(hashes);
    expect(presence.map((p) => p.hash)).toEqual(hashes);
  });

  it('refuses a run with more than 256 inputs or extra arguments', async () => {
    const { channel } = await harness();
    const hash = sha256(Buffer.from('model'));
    const run = (inputs: number, extraArgs: number) =>
      channel
        .request('run', (id) => ({ id, body: 'run', run: { modelHash: hash, inputs: Array.from({ length: inputs }, (_, i) => ({ name: `in${i}`, hash })), repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: Array.from({ length: extraArgs }, () => '--mode'), inlineOutputBytes: 0 } }), 'runResult')
        .catch((err) => `${err.code}: ${err.message}`);
    expect(await run(257, 0)).toMatch(/^TOO_MANY_ENTRIES: agent: run request \d+ has 257 inputs/);
    expect(await run(0, 300)).toMatch(/^TOO_MANY_ENTRIES: agent: run request \d+ has 300 extraArgs/);
  });

  it('takes an upload chunk larger than other messages may be', async () => {
    const { channel } = await harness({ chunkBytes: 1024 * KB });
    const data = randomBytes(1024 * KB);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'putBegin', putBegin: { hash: sha256(data), size: data.length } });
    await call.until(() => call.got.length === 1);
    await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: 0, data } });
    await call.until(() => call.got.some((e) => e.body === 'putAck' && e.putAck.complete) || call.errors.length > 0);
    expect(call.errors).toEqual([]);
  });

  it('hangs up on an Envelope with two bodies (PROTO_BAD_MESSAGE)', async () => {
    const { channel } = await harness();
    const facts = rawEnvelope(3, 25, new Uint8Array(0));
    await channel.transport.send(Buffer.concat([facts, rawEnvelope(3, 10, new Uint8Array(0)).subarray(2)]));
    expect(await hangUp(channel)).toBe('PROTO_BAD_MESSAGE');
  });
});

describe('host handshake limits', () => {
  it('reads no large message from a peer that has not proven it is the agent', async () => {
    // A fake agent that answers ClientHello with an AgentHello padded to 100 KB.
    const server = net.createServer((socket) => {
      const fake = StreamTransport.overDuplex(socket, { peer: 'host' });
      fake.on('message', () => {
        const hello = encodeEnvelope({ id: 0, body: 'agentHello', agentHello: { protocolMajor: 1, protocolMinor: 1, agentVersion: 'x'.repeat(100 * KB), nonce: randomBytes(32) } });
        void fake.send(hello);
      });
      cleanups.push(() => fake.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const channel = new Channel(StreamTransport.overDuplex(socket, { peer: 'fake agent' }), 10_000);
    const failed = await handshake(channel, { secret: randomBytes(32), clientVersion: 'test', timeoutMs: 3000 }).catch((err) => `${err.code}: ${err.message}`);
    expect(failed).toMatch(/^PROTO_MESSAGE_TOO_LARGE: fake agent sent a \d+-byte message before proving it is the agent/);
  });

  it('over a byte stream with the pre-proof limit (as ssh:// and serial:// use it), refuses such a frame from its header', async () => {
    const server = net.createServer((socket) => {
      const fake = StreamTransport.overDuplex(socket, { peer: 'host' });
      fake.on('message', () => void fake.send(encodeEnvelope({ id: 0, body: 'agentHello', agentHello: { protocolMajor: 1, protocolMinor: 1, agentVersion: 'x'.repeat(100 * KB), nonce: randomBytes(32) } })));
      cleanups.push(() => fake.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const transport = StreamTransport.overDuplex(socket, { peer: 'fake agent', unauthenticatedMaxMessageBytes: UNVERIFIED_MAX_BYTES });
    const failed = await handshake(new Channel(transport, 10_000), { secret: randomBytes(32), clientVersion: 'test', timeoutMs: 3000 }).catch((err) => `${err.code}: ${err.message}`);
    expect(failed).toMatch(/^PROTO_PREAUTH_TOO_LARGE: /);
  });
});

/** `promise`, or `late` if it has not settled within `ms` (a bound on a hang, not a timing). */
function within<T>(promise: Promise<T>, ms: number, late: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((r) => setTimeout(() => r(late), ms).unref())]);
}

describe('AgentSession transfer timeouts', () => {
  it('ends an upload that gets no chunk (TRANSFER_TIMEOUT): its reservation is freed, its stored bytes resume', async () => {
    const MiB = 1024 * KB;
    const { channel } = await harness({ transferIdleTimeoutMs: 300 }, 2 * MiB);
    const data = randomBytes(1536 * KB);
    const hash = sha256(data);
    const held = record(channel);
    await channel.send({ id: held.id, body: 'putBegin', putBegin: { hash, size: data.length } });
    await held.until(() => held.got.length === 1);
    await channel.send({ id: held.id, body: 'putChunk', putChunk: { offset: 0, data: data.subarray(0, 64 * KB) } });
    await held.until(() => held.got.some((e) => e.body === 'putAck'));
    // Meanwhile the reservation leaves no room for another 1 MiB upload.
    const other = randomBytes(MiB);
    const refused = await channel.request('put', (id) => ({ id, body: 'putBegin', putBegin: { hash: sha256(other), size: other.length } }), 'putReady').catch((err) => err.code);
    expect(refused).toBe('STORE_FULL');
    await within(held.until(() => held.errors.length > 0), 5000, undefined);
    expect(held.errors).toEqual(['TRANSFER_TIMEOUT']);
    const next = record(channel);
    await channel.send({ id: next.id, body: 'putBegin', putBegin: { hash: sha256(other), size: other.length } });
    await next.until(() => next.got.length + next.errors.length > 0);
    expect(next.errors).toEqual([]);
    await channel.request('cancel', (id) => ({ id, body: 'cancel', cancel: { targetId: next.id } }), 'cancelResult');
    const resumed = await channel.request('put', (id) => ({ id, body: 'putBegin', putBegin: { hash, size: data.length } }), 'putReady').catch((err) => err.code);
    expect(resumed).toMatchObject({ putReady: { offset: 64 * KB } });
  });

  it('does not time out an upload while the store is slow to write what the host sent', async () => {
    const { store, channel } = await harness({ transferIdleTimeoutMs: 100 });
    const data = randomBytes(64 * KB);
    const call = record(channel);
    await channel.send({ id: call.id, body: 'putBegin', putBegin: { hash: sha256(data), size: data.length } });
    await call.until(() => call.got.length === 1);
    store.hold();
    await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: 0, data } });
    await call.until(() => store.writes.length === 1);
    await new Promise((r) => setTimeout(r, 400));
    store.release();
    await call.until(() => call.got.some((e) => e.body === 'putAck' && e.putAck.complete) || call.errors.length > 0);
    expect(call.errors).toEqual([]);
  });

  it('ends a download the host does not acknowledge (TRANSFER_TIMEOUT): its slot is freed', async () => {
    const { channel } = await harness({ transferIdleTimeoutMs: 300 });
    const data = randomBytes(1000);
    const hash = sha256(data);
    const put = record(channel);
    await channel.send({ id: put.id, body: 'putBegin', putBegin: { hash, size: data.length } });
    await put.until(() => put.got.length === 1);
    await channel.send({ id: put.id, body: 'putChunk', putChunk: { offset: 0, data } });
    await put.until(() => put.got.some((e) => e.body === 'putAck' && e.putAck.complete));
    const get = record(channel);
    await channel.send({ id: get.id, body: 'get', get: { hash, offset: 0, length: 0, chunkBytes: 100, windowBytes: 100 } });
    await get.until(() => get.got.length === 1);
    await within(get.until(() => get.errors.length > 0), 5000, undefined);
    expect(get.errors).toEqual(['TRANSFER_TIMEOUT']);
    expect(get.got.length).toBe(1); // nothing past the window
    const cancel = await channel.request('cancel', (id) => ({ id, body: 'cancel', cancel: { targetId: get.id } }), 'cancelResult');
    expect(cancel.cancelResult.found).toBe(false);
  });
});
