/**
 * Blob requests: Has (one answer), Put (an upload in chunks, acknowledged as they are stored)
 * and Get (a download in chunks, sent no further ahead than the host's acknowledgements allow).
 */
import { ConnectError, UsageError } from '../../shared/errors';
import { checkBlobHash } from '../../shared/protocol/names';
import { ProtocolError } from '../../shared/protocol/errors';
import type { Envelope, GetRequest, HasRequest, PutBegin, PutChunk } from '../../shared/protocol/envelope';
import { ChunkBatch } from '../store/chunk-batch';
import type { Operation, OperationHost } from './session';

export async function answerHas(host: OperationHost, id: number, req: HasRequest): Promise<void> {
  const blobs = [];
  for (const query of req.blobs) {
    checkBlobHash(query.hash);
    const stat = await host.ctx.store.has(query.hash);
    // A host asks before it uses what it asked for (a deploy's or verify's blobs): a present blob
    // counts as used, so the uploads that follow evict other blobs before it. A partial upload is
    // only known by hash and size; asking about it changes nothing.
    if (stat) await host.ctx.store.markUsed(query.hash);
    const partialOffset = stat ? 0 : await host.ctx.store.partialOffset(query.hash, query.size);
    blobs.push({ hash: query.hash, present: stat !== null, size: stat?.size ?? 0, partialOffset });
  }
  await host.send({ id, body: 'hasResult', hasResult: { blobs } });
}

function cancelled(what: string): UsageError {
  return new UsageError('CANCELLED', `${what} was cancelled`);
}

/**
 * A timer that ends a transfer whose host has gone quiet (SessionOptions.transferIdleTimeoutMs):
 * restarted by every sign of progress; when it fires while the agent itself is busy (a store
 * write the host is rightly waiting for), it starts again instead.
 */
class IdleTimer {
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(private readonly ms: number, private readonly busy: () => boolean, private readonly expired: () => void) {}

  restart(): void {
    if (this.ended) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.busy() ? this.restart() : this.expired()), this.ms);
    this.timer.unref();
  }

  /** The transfer is over: no restart arms it again. */
  stop(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function transferTimeout(what: string, waitedFor: string, ms: number, hint: string): ConnectError {
  return new ConnectError('TRANSFER_TIMEOUT', `${what}: no ${waitedFor} from the host for ${ms} ms`, { hint });
}

/**
 * An upload. Chunks must arrive in order from the offset PutReady named. They are queued and
 * written in batches: while one write (and its fsync) runs, the next chunks pile up and go to
 * the store as one write, so a slow disk costs fewer syncs instead of less throughput. A batch
 * is acknowledged only once the store has fsync'd all of it. Its chunks go to the store as a
 * ChunkBatch (one writev), never joined into a new buffer.
 */
export class PutOperation implements Operation {
  /** Offset the next chunk must have; -1 until PutReady is out. */
  private expected = -1;
  private queue: PutChunk[] = [];
  private queuedBytes = 0;
  private writing = false;
  private done = false;
  /** Tells the store this upload no longer expects its remaining bytes (set once begun). */
  private endClaim: () => void = () => undefined;
  /** Runs from PutReady on: a host that sends nothing must not hold its reservation for ever. */
  private readonly idle: IdleTimer;

  constructor(private readonly host: OperationHost, private readonly id: number, private readonly req: PutBegin) {
    host.ctx.transferMemory.uploadStarted(); // paired with uploadEnded() in finish(), which every end passes
    const ms = host.opts.transferIdleTimeoutMs;
    this.idle = new IdleTimer(ms, () => this.writing, () => {
      this.finish(transferTimeout(`upload ${id}`, 'chunk', ms, 'the upload resumes from what the agent stored; send it again'));
    });
  }

  async start(): Promise<void> {
    try {
      const { hash, size } = this.req;
      checkBlobHash(hash);
      // A full-length partial left by a crash is not a blob yet (offset = size, not complete):
      // an empty chunk finishes it.
      const { offset, complete, end } = await this.host.ctx.store.beginUpload(hash, size);
      this.endClaim = end;
      if (this.done) {
        end(); // cancelled while it began
        return;
      }
      await this.host.send({ id: this.id, body: 'putReady', putReady: { offset, complete } });
      if (complete) this.finish();
      else if (!this.done) {
        this.expected = offset;
        this.idle.restart();
      }
    } catch (err) {
      this.finish(err);
    }
  }

  onMessage(env: Envelope): void {
    if (this.done) return;
    if (env.body !== 'putChunk' || this.expected < 0) {
      this.finish(new ProtocolError('PROTO_UNEXPECTED', `${env.body} for upload ${this.id} ${this.expected < 0 ? 'before PutReady' : ''}`.trim()));
      return;
    }
    const chunk = env.putChunk;
    if (chunk.offset !== this.expected) {
      this.finish(new ProtocolError('PROTO_UNEXPECTED', `upload ${this.id}: chunk at offset ${chunk.offset}, expected ${this.expected}`));
      return;
    }
    this.expected += chunk.data.length;
    this.idle.restart();
    // Into a reused slab, so the buffers it arrived in die young (transfer-memory.ts).
    this.queue.push({ ...chunk, data: this.host.ctx.transferMemory.hold(chunk.data) });
    this.queuedBytes += chunk.data.length;
    if (this.queuedBytes > this.host.opts.putWindowBytes + this.host.maxChunkBytes) {
      this.finish(new ProtocolError('PROTO_WINDOW_EXCEEDED', `upload ${this.id}: ${this.queuedBytes} bytes unacknowledged, the window is ${this.host.opts.putWindowBytes}`));
      return;
    }
    void this.pump();
  }

  cancel(): void {
    this.finish(cancelled(`upload ${this.id}`));
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.done) {
        const batch = this.takeBatch();
        const data = batch.length === 1 ? batch[0]!.data : new ChunkBatch(batch.map((c) => c.data));
        const ack = await this.host.ctx.store.writeChunk(this.req.hash, this.req.size, batch[0]!.offset, data);
        this.host.ctx.transferMemory.release(batch.map((c) => c.data));
        this.queuedBytes -= data.length;
        if (this.done) return;
        // The store reports the shared partial's length, which another host's upload of the same
        // blob may have taken past this one's chunks: acknowledge only this upload's own bytes,
        // or its host, seeing room in its window, sends past what this operation may queue.
        const own = batch[0]!.offset + data.length;
        const putAck = ack.complete ? ack : { received: Math.min(ack.received, own), complete: false };
        void this.host.send({ id: this.id, body: 'putAck', putAck });
        this.idle.restart(); // the host waited for this ack: its silence counts from here
        if (ack.complete) this.finish();
      }
    } catch (err) {
      this.finish(err);
    } finally {
      this.writing = false;
    }
  }

  private takeBatch(): PutChunk[] {
    const batch = [this.queue.shift()!];
    let bytes = batch[0]!.data.length;
    while (this.queue.length > 0 && bytes + this.queue[0]!.data.length <= this.host.opts.writeBatchBytes) {
      const next = this.queue.shift()!;
      bytes += next.data.length;
      batch.push(next);
    }
    return batch;
  }

  private finish(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.idle.stop();
    // Chunks not yet given to the store; a batch being written gives its slabs back when done.
    this.host.ctx.transferMemory.release(this.queue.map((c) => c.data));
    this.queue = [];
    this.host.ctx.transferMemory.uploadEnded();
    this.endClaim();
    if (err === undefined) this.host.end(this.id);
    else this.host.fail(this.id, err);
  }
}

/** A download: chunks go out while fewer than the window's bytes are unacknowledged. */
export class GetOperation implements Operation {
  private acked = 0;
  private wake: (() => void) | null = null;
  private done = false;
  /** A store read in progress: the agent's wait, not the host's. */
  private reading = false;
  /** A host that neither acknowledges nor reads must not hold an operation slot and its buffer for ever. */
  private readonly idle: IdleTimer;

  constructor(private readonly host: OperationHost, private readonly id: number, private readonly req: GetRequest) {
    const ms = host.opts.transferIdleTimeoutMs;
    this.idle = new IdleTimer(ms, () => this.reading, () => {
      this.finish(transferTimeout(`download ${id}`, 'acknowledgement', ms, 'download it again'));
    });
  }

  async start(): Promise<void> {
    const { store } = this.host.ctx;
    const { hash, offset } = this.req;
    try {
      checkBlobHash(hash);
      const stat = await store.has(hash);
      if (!stat) throw new UsageError('BLOB_NOT_FOUND', `blob ${hash} is not on the board`, { hint: 'upload it first' });
      const end = this.req.length > 0 ? offset + this.req.length : stat.size;
      if (offset > stat.size || end > stat.size) {
        throw new UsageError('BAD_RANGE', `blob ${hash} has ${stat.size} bytes; cannot read ${end - offset} bytes at offset ${offset}`);
      }
      const chunkBytes = Math.min(this.req.chunkBytes || this.host.maxChunkBytes, this.host.maxChunkBytes);
      const windowBytes = Math.max(chunkBytes, Math.min(this.req.windowBytes || this.host.opts.getWindowBytes, this.host.opts.getWindowBytes));
      this.acked = offset;
      // One buffer for every chunk: send() encodes (copies) a chunk before it returns.
      const readBuffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(chunkBytes, end - offset)));
      let position = offset;
      this.idle.restart();
      do {
        while (position - this.acked >= windowBytes && !this.done) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.done) return;
        const length = Math.min(chunkBytes, end - position);
        this.reading = length > 0;
        const data = length > 0 ? await store.read(hash, position, length, readBuffer).finally(() => (this.reading = false)) : new Uint8Array(0);
        if (data.length !== length) throw new UsageError('BLOB_CHANGED', `blob ${hash} ended at ${position + data.length} bytes while being read`);
        if (this.done) return;
        const last = position + length >= end;
        await this.host.send({ id: this.id, body: 'getChunk', getChunk: { offset: position, data, last, blobSize: stat.size } });
        this.host.ctx.transferMemory.moved(length);
        this.idle.restart(); // the transport took it: the host reads
        position += length;
      } while (position < end);
      this.finish();
    } catch (err) {
      this.finish(err);
    }
  }

  onMessage(env: Envelope): void {
    if (env.body !== 'getAck') {
      this.finish(new ProtocolError('PROTO_UNEXPECTED', `${env.body} for download ${this.id}`));
      return;
    }
    this.acked = Math.max(this.acked, env.getAck.received);
    this.idle.restart();
    this.wakeUp();
  }

  cancel(): void {
    this.finish(cancelled(`download ${this.id}`));
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private finish(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.idle.stop();
    this.wakeUp();
    if (err === undefined) this.host.end(this.id);
    else this.host.fail(this.id, err);
  }
}
