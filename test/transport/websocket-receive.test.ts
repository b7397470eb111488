/**
 * WebSocketTransport assembling large incoming frames in lent memory (assembleInLentMemory,
 * which wraps ws's Receiver.consume): active with the installed ws, so a ws whose internals
 * changed fails here instead of silently losing the speed; messages intact whether they came
 * as one frame or as fragments; and a real agent session on loopback that adopts the slabs
 * its upload chunks were assembled in and stores the blobs right.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { RunService } from '../../agent/run/run-service';
import type { AgentContext } from '../../agent/session/context';
import { AgentSession } from '../../agent/session/session';
import { TransferMemory } from '../../agent/session/transfer-memory';
import { BlobStore } from '../../agent/store/blob-store';
import { AgentClient } from '../../host/client/agent-client';
import { FrameType, encodeFrame } from '../../shared/protocol/frame';
import { CollectionPacer } from '../../shared/young-collection';
import { connectWebSocket, listenWebSocket, type WebSocketTransport } from '../../shared/transport/websocket';
import { ScribblingBuffers } from './lending-buffers';

const KB = 1024;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A listener whose connections assemble in `lender`'s memory; resolves each accepted transport. */
async function lendingListener(lender: () => ScribblingBuffers) {
  const accepted: WebSocketTransport[] = [];
  const active: boolean[] = [];
  let notify = () => undefined as void;
  const listener = await listenWebSocket({ host: '127.0.0.1', port: 0, idleTimeoutMs: 0 }, (t) => {
    cleanups.push(() => t.destroy());
    active.push(t.assembleInLentMemory(lender()));
    accepted.push(t);
    notify();
  });
  cleanups.push(() => listener.close());
  const next = (i: number) =>
    new Promise<WebSocketTransport>((resolve) => {
      const check = () => accepted[i] && resolve(accepted[i]!);
      notify = check;
      check();
    });
  return { listener, active, next };
}

describe('WebSocket receive into lent memory', () => {
  it('wraps the installed ws and delivers large messages intact, settling after each', async () => {
    const lender = new ScribblingBuffers();
    const { listener, active, next } = await lendingListener(() => lender);
    const client = await connectWebSocket(listener.url, { idleTimeoutMs: 0 });
    cleanups.push(() => client.destroy());
    const server = await next(0);
    expect(active).toEqual([true]); // ws's Receiver still has consume/_buffers/_bufferedBytes
    const sizes = [KB * KB, 3, 100 * KB, KB * KB + 1, 60 * KB, 2 * KB * KB];
    const sent = sizes.map((size) => randomBytes(size));
    const checked: boolean[] = [];
    const done = new Promise<void>((resolve) => {
      server.on('message', (m) => {
        checked.push(Buffer.from(m).equals(sent[checked.length]!));
        if (checked.length === sent.length) resolve();
      });
    });
    await new Promise((r) => setImmediate(r));
    for (const s of sent) await client.send(s);
    await done;
    expect(checked).toEqual(sizes.map(() => true));
    // The frames over 64 KiB that spanned several socket reads; the 60 KiB one never asks.
    expect(lender.lentCount).toBeGreaterThanOrEqual(3);
    expect(lender.asked.every((n) => n >= 64 * KB)).toBe(true);
    expect(lender.outstanding).toBe(0);
  });

  it('delivers a message sent as several fragments intact: ws joins them into fresh memory before the settle', async () => {
    const lender = new ScribblingBuffers();
    const { listener, next } = await lendingListener(() => lender);
    const raw = new WebSocket(listener.url, { perMessageDeflate: false });
    cleanups.push(() => raw.terminate());
    await new Promise((r) => raw.once('open', r));
    const server = await next(0);
    const payload = randomBytes(KB * KB);
    const frame = encodeFrame(FrameType.Message, payload);
    const got = new Promise<boolean>((resolve) => server.once('message', (m) => resolve(Buffer.from(m).equals(payload))));
    const cuts = [0, 300 * KB, 301 * KB, 700 * KB, frame.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const part = frame.subarray(cuts[i], cuts[i + 1]);
      await new Promise<void>((resolve, reject) => raw.send(part, { binary: true, fin: i + 2 === cuts.length }, (err) => (err ? reject(err) : resolve())));
      await new Promise((r) => setTimeout(r, 5)); // each fragment its own socket reads
    }
    expect(await got).toBe(true);
    expect(lender.lentCount).toBeGreaterThanOrEqual(2); // the large fragments, each in its own buffer
    expect(lender.outstanding).toBe(0);
  });

  it('gives back what a connection that closes mid-message had borrowed', async () => {
    const lender = new ScribblingBuffers();
    const { listener, next } = await lendingListener(() => lender);
    const raw = new WebSocket(listener.url, { perMessageDeflate: false });
    await new Promise((r) => raw.once('open', r));
    const server = await next(0);
    const closed = new Promise((r) => server.once('close', r));
    raw.send(randomBytes(512 * KB), { binary: true, fin: false });
    await new Promise((r) => setTimeout(r, 30));
    expect(lender.outstanding).toBe(1);
    raw.terminate();
    await closed;
    expect(lender.outstanding).toBe(0);
  });
});

describe('an agent session over WebSocket, chunks assembled in its slabs', () => {
  it('adopts the slabs of upload chunks and stores the blobs intact, two uploads at once', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-ws-receive-'));
    cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
    const store = await BlobStore.open(path.join(dir, 'store'), { capBytes: 1e9 });
    const secret = randomBytes(32);
    const memory = TransferMemory.forSessions(new CollectionPacer(null));
    let adopted = 0;
    let held = 0;
    const hold = memory.hold.bind(memory);
    memory.hold = (data) => {
      const kept = hold(data);
      held++;
      if (kept === data) adopted++;
      return kept;
    };
    const ctx: AgentContext = {
      store,
      runs: new RunService({ store, runJoint: '/bin/false' }),
      secret,
      agentVersion: 'test',
      defaultRunTimeoutMs: 5000,
      board: { runJointVersion: '', learn: async () => undefined },
      transferMemory: memory,
      log: () => undefined,
    };
    const active: boolean[] = [];
    const listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (connection) => {
      active.push(connection.assembleInLentMemory(memory.forConnection()));
      const session = new AgentSession(connection, ctx);
      cleanups.push(() => session.close());
    });
    cleanups.push(() => listener.close());

    const files = await Promise.all(
      [9 * KB * KB + 123, 5 * KB * KB].map(async (size, i) => {
        const data = randomBytes(size);
        const file = path.join(dir, `blob-${i}`);
        await fsp.writeFile(file, data);
        return { file, size, hash: sha256(data) };
      }),
    );
    const clients = await Promise.all(files.map(async () => AgentClient.connect(await connectWebSocket(listener.url), { token: secret })));
    for (const c of clients) cleanups.push(() => c.close());
    expect(active).toEqual([true, true]);
    await Promise.all(files.map((f, i) => clients[i]!.putFile(f.file, f.hash, f.size)));

    for (const f of files) expect(sha256(await fsp.readFile(await store.pathOf(f.hash)))).toBe(f.hash);
    expect(held).toBe(15);
    // Nearly every chunk lands in a slab as assembled (a few may have found none free).
    expect(adopted).toBeGreaterThanOrEqual(10);
  });
});
