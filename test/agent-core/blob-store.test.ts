import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlobStore } from '../../agent/store/blob-store';
import { checkStoreFolder } from '../../agent/store-folder';
import { storeError } from './helpers';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
let dir: string;

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-store-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Uploads `data` in `chunk`-byte pieces from wherever the store says to continue. */
async function put(store: BlobStore, data: Uint8Array, chunk = 1024): Promise<string> {
  const hash = sha(data);
  let offset = await store.uploadOffset(hash, data.length);
  if (data.length === 0) await store.writeChunk(hash, 0, 0, data);
  while (offset < data.length) {
    const piece = data.subarray(offset, Math.min(offset + chunk, data.length));
    offset = (await store.writeChunk(hash, data.length, offset, piece)).received;
  }
  return hash;
}

describe('uploads', () => {
  it('stores a blob sent in chunks and reads it back', async () => {
    const store = await BlobStore.open(dir, { capBytes: 10_000_000 });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const hash = sha(data);
    const chunk = 1024 * 1024;
    const received: number[] = [];
    for (let offset = 0; offset < data.length; offset += chunk) {
      const reply = await store.writeChunk(hash, data.length, offset, data.subarray(offset, offset + chunk));
      received.push(reply.received);
      expect(reply.complete).toBe(offset + chunk >= data.length);
    }
    expect(received).toEqual([chunk, 2 * chunk, 3 * chunk, data.length]);
    expect(await store.has(hash)).toEqual({ hash, size: data.length });
    const back = Buffer.concat([await store.read(hash, 0, 2 * chunk), await store.read(hash, 2 * chunk, 2 * chunk)]);
    expect(back.equals(data)).toBe(true);
    expect((await fsp.readFile(await store.pathOf(hash))).equals(data)).toBe(true);
    expect(await fsp.readdir(path.join(dir, 'partial'))).toEqual([]);
    expect(await store.uploadOffset(hash, data.length)).toBe(data.length);
  });

  it('keeps what it holds private to its user: folders 0700, blobs readable by the owner only', async () => {
    const root = path.join(dir, 'new-store');
    await checkStoreFolder(root);
    const store = await BlobStore.open(root, { capBytes: 10_000_000 });
    const hash = await put(store, randomBytes(5000));
    const mode = async (p: string) => (await fsp.stat(p)).mode & 0o777;
    expect(await mode(root)).toBe(0o700);
    for (const folder of await fsp.readdir(root)) {
      if ((await fsp.stat(path.join(root, folder))).isDirectory()) expect(await mode(path.join(root, folder)), folder).toBe(0o700);
    }
    expect(await mode(await store.pathOf(hash))).toBe(0o400);
  });

  it('reads into a buffer it is given (a download reuses one), clipped at the end; a too small one is not used', async () => {
    const store = await BlobStore.open(dir, { capBytes: 10_000_000 });
    const data = randomBytes(2500);
    const hash = await put(store, data);
    const into = Buffer.alloc(1000);
    const first = await store.read(hash, 0, 1000, into);
    expect(first.buffer).toBe(into.buffer);
    expect(Buffer.from(first).equals(data.subarray(0, 1000))).toBe(true);
    const last = await store.read(hash, 2000, 1000, into);
    expect(last.buffer).toBe(into.buffer);
    expect(Buffer.from(last).equals(data.subarray(2000))).toBe(true);
    const small = Buffer.alloc(10);
    const fresh = await store.read(hash, 0, 1000, small);
    expect(fresh.buffer).not.toBe(small.buffer);
    expect(Buffer.from(fresh).equals(data.subarray(0, 1000))).toBe(true);
  });

  it('resumes after an interruption from the partial, without any byte sent twice', async () => {
    const data = randomBytes(10_000);
    const hash = sha(data);
    const first = await BlobStore.open(dir, { capBytes: 1_000_000 });
    await first.writeChunk(hash, data.length, 0, data.subarray(0, 4000));
    await first.writeChunk(hash, data.length, 4000, data.subarray(4000, 6500));
    // The agent restarts: a new instance on the same folder, no hash state in memory.
    const second = await BlobStore.open(dir, { capBytes: 1_000_000 });
    expect(await second.has(hash)).toBeNull();
    expect(await second.uploadOffset(hash, data.length)).toBe(6500);
    // A chunk of bytes stored already changes nothing; one past the stored end is refused.
    expect(await second.writeChunk(hash, data.length, 0, data.subarray(0, 100))).toEqual({ received: 6500, complete: false });
    const gap = await storeError(second.writeChunk(hash, data.length, 7000, data.subarray(7000, 7100)));
    expect(gap.code).toBe('OFFSET_MISMATCH');
    expect(gap.details.expectedOffset).toBe(6500);
    expect(await second.writeChunk(hash, data.length, 6500, data.subarray(6500))).toEqual({ received: data.length, complete: true });
    expect(await second.has(hash)).toEqual({ hash, size: data.length });
    expect((await second.read(hash, 0, data.length)).length).toBe(data.length);
    expect(Buffer.from(await second.read(hash, 0, data.length)).equals(data)).toBe(true);
  });

  it('rejects bytes whose sha256 is not the name, and keeps nothing of them', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const data = randomBytes(3000);
    const claimed = sha(randomBytes(3000));
    await store.writeChunk(claimed, data.length, 0, data.subarray(0, 1000));
    const err = await storeError(store.writeChunk(claimed, data.length, 1000, data.subarray(1000)));
    expect(err.code).toBe('HASH_MISMATCH');
    expect(err.details.actualHash).toBe(sha(data));
    expect(await store.has(claimed)).toBeNull();
    expect(await fsp.readdir(path.join(dir, 'partial'))).toEqual([]);
    expect(await fsp.readdir(path.join(dir, 'blobs'))).toEqual([]);
    expect(await store.uploadOffset(claimed, data.length)).toBe(0);
    expect((await store.usage()).usedBytes).toBe(0);
  });

  it('refuses chunks at the wrong offset or past the end', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const data = randomBytes(100);
    const hash = sha(data);
    const early = await storeError(store.writeChunk(hash, 100, 5, data.subarray(5, 10)));
    expect(early.code).toBe('OFFSET_MISMATCH');
    expect(early.details.expectedOffset).toBe(0);
    await store.writeChunk(hash, 100, 0, data.subarray(0, 60));
    expect((await storeError(store.writeChunk(hash, 100, 70, data.subarray(70, 80)))).details.expectedOffset).toBe(60);
    expect((await storeError(store.writeChunk(hash, 100, 60, randomBytes(41)))).code).toBe('CHUNK_PAST_END');
    expect((await storeError(store.writeChunk(hash, -1, 0, data))).code).toBe('BAD_SIZE');
    expect(await store.uploadOffset(hash, 100)).toBe(60);
  });

  it('stores two identical chunks sent at once (two hosts uploading one blob) once', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const data = randomBytes(2000);
    const hash = sha(data);
    const results = await Promise.all([
      store.writeChunk(hash, 2000, 0, data.subarray(0, 1000)),
      store.writeChunk(hash, 2000, 0, data.subarray(0, 1000)),
    ]);
    expect(results).toEqual([{ received: 1000, complete: false }, { received: 1000, complete: false }]);
    expect(await store.uploadOffset(hash, 2000)).toBe(1000);
    expect(await store.writeChunk(hash, 2000, 1000, data.subarray(1000))).toEqual({ received: 2000, complete: true });
    expect(Buffer.from(await store.read(hash, 0, 2000)).equals(data)).toBe(true);
  });

  it('lets two uploads of one blob interleave, each writing only what the other has not, into one correct blob', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const data = randomBytes(10_000);
    const hash = sha(data);
    const a = (from: number, to: number) => store.writeChunk(hash, data.length, from, data.subarray(from, to));
    expect(await a(0, 4000)).toEqual({ received: 4000, complete: false }); // host A
    expect(await a(0, 3000)).toEqual({ received: 4000, complete: false }); // host B, behind: nothing new
    expect(await a(3000, 6000)).toEqual({ received: 6000, complete: false }); // host B: 4000-6000 new
    expect(await a(4000, 8000)).toEqual({ received: 8000, complete: false }); // host A: 6000-8000 new
    expect(await a(6000, 10_000)).toEqual({ received: 10_000, complete: true }); // host B lands it
    expect(await a(8000, 10_000)).toEqual({ received: 10_000, complete: true }); // host A: it is there
    expect(Buffer.from(await store.read(hash, 0, data.length)).equals(data)).toBe(true);
    expect(await fsp.readdir(path.join(dir, 'partial'))).toEqual([]);
  });

  it('stores an empty blob', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1000 });
    const hash = await put(store, new Uint8Array(0));
    expect(await store.has(hash)).toEqual({ hash, size: 0 });
    expect((await store.read(hash, 0, 10)).length).toBe(0);
  });

  it('answers a finished blob with complete, and refuses another size for it', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const data = randomBytes(500);
    const hash = await put(store, data);
    expect(await store.writeChunk(hash, 500, 0, data)).toEqual({ received: 500, complete: true });
    expect((await storeError(store.uploadOffset(hash, 499))).code).toBe('BAD_SIZE');
  });
});

describe('names', () => {
  const bad = ['../x', '/etc/passwd', 'A'.repeat(64), sha(Buffer.from('x')).toUpperCase(), 'abc123', sha(Buffer.from('x')) + '/..', `${'a'.repeat(63)}\n`];

  it.each(bad)('refuses %j as a blob name everywhere', async (name) => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const calls: (() => Promise<unknown>)[] = [
      () => store.has(name),
      () => store.uploadOffset(name, 10),
      () => store.writeChunk(name, 3, 0, Buffer.from('abc')),
      () => store.read(name, 0, 10),
      () => store.pathOf(name),
      async () => store.pin([name]),
    ];
    for (const call of calls) expect((await storeError(call())).code).toBe('BAD_HASH');
    for (const sub of ['blobs', 'partial', 'tmp']) expect(await fsp.readdir(path.join(dir, sub))).toEqual([]);
  });
});

describe('reading', () => {
  it('clips reads at the end and refuses offsets past it', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const data = randomBytes(100);
    const hash = await put(store, data);
    expect(Buffer.from(await store.read(hash, 90, 50)).equals(data.subarray(90))).toBe(true);
    expect((await store.read(hash, 100, 5)).length).toBe(0);
    expect((await storeError(store.read(hash, 101, 5))).code).toBe('BAD_RANGE');
    expect((await storeError(store.read(hash, 0, 64 * 1024 * 1024))).code).toBe('BAD_RANGE');
    expect((await storeError(store.read(sha(Buffer.from('absent')), 0, 5))).code).toBe('BLOB_NOT_FOUND');
    expect((await storeError(store.pathOf(sha(Buffer.from('absent'))))).code).toBe('BLOB_NOT_FOUND');
  });
});

describe('eviction', () => {
  const blob = (fill: number) => Buffer.alloc(1000, fill);

  it('evicts the least recently used blob first', async () => {
    const store = await BlobStore.open(dir, { capBytes: 3000 });
    const [a, b, c] = [await put(store, blob(1)), await put(store, blob(2)), await put(store, blob(3))];
    await store.pathOf(a); // a is now the most recently used
    const d = await put(store, blob(4));
    expect(await store.has(b)).toBeNull();
    expect((await Promise.all([a, c, d].map((h) => store.has(h)))).every(Boolean)).toBe(true);
    const e = await put(store, blob(5));
    expect(await store.has(c)).toBeNull();
    expect((await Promise.all([a, d, e].map((h) => store.has(h)))).every(Boolean)).toBe(true);
    expect((await store.usage()).usedBytes).toBe(3000);
  });

  it('keeps the use order across a restart', async () => {
    const first = await BlobStore.open(dir, { capBytes: 3000 });
    const [a, b, c] = [await put(first, blob(1)), await put(first, blob(2)), await put(first, blob(3))];
    await first.read(a, 0, 1);
    const second = await BlobStore.open(dir, { capBytes: 3000 });
    await put(second, blob(4));
    expect(await second.has(b)).toBeNull();
    expect(await second.has(a)).not.toBeNull();
    expect(await second.has(c)).not.toBeNull();
  });

  it('never evicts pinned blobs, and evicts them once unpinned', async () => {
    const store = await BlobStore.open(dir, { capBytes: 3000 });
    const [a, b, c] = [await put(store, blob(1)), await put(store, blob(2)), await put(store, blob(3))];
    const unpin = store.pin([a, b]);
    const d = await put(store, blob(4));
    expect(await store.has(c)).toBeNull();
    expect(await store.has(a)).not.toBeNull();
    expect(await store.has(b)).not.toBeNull();
    unpin();
    unpin(); // idempotent
    await put(store, blob(5));
    expect(await store.has(a)).toBeNull();
    expect(await store.has(d)).not.toBeNull();
  });

  it('says STORE_FULL with the numbers for a blob bigger than the cap', async () => {
    const store = await BlobStore.open(dir, { capBytes: 3000 });
    const big = randomBytes(3001);
    const err = await storeError(store.uploadOffset(sha(big), big.length));
    expect(err.code).toBe('STORE_FULL');
    expect(err.details).toMatchObject({ size: 3001, capBytes: 3000 });
    expect((await storeError(store.writeChunk(sha(big), big.length, 0, big.subarray(0, 10)))).code).toBe('STORE_FULL');
    expect(err.message).toContain('3001');
  });

  it('refuses at its start an upload that cannot fit under the cap beside another in progress, evicting nothing for it', async () => {
    const store = await BlobStore.open(dir, { capBytes: 3000 });
    const first = randomBytes(2000);
    const second = randomBytes(2000);
    const upload = await store.beginUpload(sha(first), first.length);
    const err = await storeError(store.uploadOffset(sha(second), second.length));
    expect(err.code).toBe('STORE_FULL');
    expect(err.message).toBe(`blob ${sha(second)}: 2000 more bytes do not fit under the store's cap of 3000: 0 in use, 2000 more promised to 1 other upload in progress, and the store could free only 0`);
    upload.end(); // its host left: nothing promised any more
    expect(await store.uploadOffset(sha(second), second.length)).toBe(0);
  });

  it('lets an upload start that fits once an old blob is evicted, and evicts it only when the bytes come', async () => {
    const store = await BlobStore.open(dir, { capBytes: 3000 });
    const old = await put(store, blob(1)); // 1000 bytes, evictable
    const first = randomBytes(1500);
    const second = randomBytes(1000);
    await store.beginUpload(sha(first), first.length);
    expect((await store.beginUpload(sha(second), second.length)).offset).toBe(0);
    expect(await store.has(old)).not.toBeNull(); // not evicted at the start
    await store.writeChunk(sha(first), first.length, 0, first);
    await store.writeChunk(sha(second), second.length, 0, second);
    expect(await store.has(old)).toBeNull(); // evicted for the bytes that came
    expect(await store.has(sha(second))).toEqual({ hash: sha(second), size: 1000 });
  });

  it('says STORE_FULL, evicting nothing, when pinned blobs leave no room', async () => {
    const store = await BlobStore.open(dir, { capBytes: 3000 });
    const hashes = [await put(store, blob(1)), await put(store, blob(2)), await put(store, blob(3))];
    store.pin(hashes);
    const next = blob(4);
    const err = await storeError(store.writeChunk(sha(next), 1000, 0, next));
    expect(err.code).toBe('STORE_FULL');
    expect(err.details).toMatchObject({ size: 1000, capBytes: 3000, pinnedBytes: 3000 });
    for (const hash of hashes) expect(await store.has(hash)).not.toBeNull();
    expect(await fsp.readdir(path.join(dir, 'partial'))).toEqual([]);
  });
});

describe('eviction of partial uploads', () => {
  it('evicts a partial upload only once it has been idle long enough', async () => {
    const stalled = randomBytes(2000);
    const next = randomBytes(2000);
    const patient = await BlobStore.open(dir, { capBytes: 3000 });
    await patient.writeChunk(sha(stalled), 2000, 0, stalled.subarray(0, 1500));
    const err = await storeError(patient.writeChunk(sha(next), 2000, 0, next));
    expect(err.code).toBe('STORE_FULL');
    expect(await patient.uploadOffset(sha(stalled), 2000)).toBe(1500);
    const hasty = await BlobStore.open(dir, { capBytes: 3000, partialIdleMs: 0 });
    await put(hasty, next);
    expect(await hasty.has(sha(next))).not.toBeNull();
    expect(await hasty.uploadOffset(sha(stalled), 2000)).toBe(0);
  });

  it('does not evict a partial as idle once its upload resumed: it completes intact beside a newcomer', async () => {
    const resumed = randomBytes(2000);
    const newcomer = randomBytes(2000);
    const before = await BlobStore.open(dir, { capBytes: 3000 });
    await before.writeChunk(sha(resumed), 2000, 0, resumed.subarray(0, 1500));
    await new Promise((r) => setTimeout(r, 80)); // idle for longer than the store below allows
    const store = await BlobStore.open(dir, { capBytes: 3000, partialIdleMs: 50 });
    expect(await store.uploadOffset(sha(resumed), 2000)).toBe(1500); // the resume
    expect((await storeError(store.writeChunk(sha(newcomer), 2000, 0, newcomer))).code).toBe('STORE_FULL');
    expect(await store.writeChunk(sha(resumed), 2000, 1500, resumed.subarray(1500))).toEqual({ received: 2000, complete: true });
    expect((await fsp.readFile(await store.pathOf(sha(resumed)))).equals(resumed)).toBe(true);
  });

  it('does not take an upload in progress for idle when the wall clock jumps decades ahead (an RTC-less board at its NTP sync)', async () => {
    const paused = randomBytes(2000);
    const newcomer = randomBytes(2000);
    const store = await BlobStore.open(dir, { capBytes: 3000, partialIdleMs: 60_000 });
    await store.writeChunk(sha(paused), 2000, 0, paused.subarray(0, 1500));
    const jump = vi.spyOn(Date, 'now').mockImplementation(() => Date.UTC(2026, 10, 27) + 56 * 365 * 86_400_000);
    try {
      expect((await storeError(store.writeChunk(sha(newcomer), 2000, 0, newcomer))).code).toBe('STORE_FULL'); // not room made from the paused one
      expect(await store.writeChunk(sha(paused), 2000, 1500, paused.subarray(1500))).toEqual({ received: 2000, complete: true });
    } finally {
      jump.mockRestore();
    }
  });

  it("lets a partial left before the board's clock was set turn idle (an RTC-less board opening its store in 1970)", async () => {
    const left = randomBytes(2000);
    const next = randomBytes(2000);
    const before = await BlobStore.open(dir, { capBytes: 3000 });
    await before.writeChunk(sha(left), 2000, 0, left.subarray(0, 1500)); // mtime: now (2026)
    const in1970 = vi.spyOn(Date, 'now').mockImplementation(() => Date.UTC(1970, 0, 1, 0, 5));
    try {
      const store = await BlobStore.open(dir, { capBytes: 3000, partialIdleMs: 50 });
      await new Promise((r) => setTimeout(r, 80)); // idle for longer than the store allows
      expect(await store.writeChunk(sha(next), 2000, 0, next)).toEqual({ received: 2000, complete: true }); // room made from it
      expect(await store.uploadOffset(sha(left), 2000)).toBe(0);
    } finally {
      in1970.mockRestore();
    }
  });

  it('refuses a chunk whose partial was evicted while it waited for room, instead of storing zeros in its place', async () => {
    const data = randomBytes(2000);
    const hash = sha(data);
    const store = await BlobStore.open(dir, { capBytes: 10_000 });
    await store.writeChunk(hash, 2000, 0, data.subarray(0, 1500));
    // The race: another upload's eviction drops this partial while this chunk waits for room.
    const internals = store as unknown as { space: { makeRoom: (...a: unknown[]) => Promise<() => void> }; dropPartial: (name: string) => Promise<void> };
    const makeRoom = internals.space.makeRoom.bind(internals.space);
    internals.space.makeRoom = async (...args: unknown[]) => {
      const release = await makeRoom(...args);
      await internals.dropPartial(`${hash}.2000.part`);
      return release;
    };
    const err = await storeError(store.writeChunk(hash, 2000, 1500, data.subarray(1500)));
    expect(err.code).toBe('OFFSET_MISMATCH');
    expect(err.details).toMatchObject({ expectedOffset: 0 });
    expect(await store.has(hash)).toBeNull();
    expect(await fsp.readdir(path.join(dir, 'partial'))).toEqual([]);
  });
});

describe('queries change nothing', () => {
  it('partialOffset reports a partial without dropping one of another size or keeping any state', async () => {
    const data = randomBytes(6000);
    const hash = sha(data);
    const store = await BlobStore.open(dir, { capBytes: 100_000 });
    await store.writeChunk(hash, 6000, 0, data.subarray(0, 1000));
    expect(await store.partialOffset(hash, 6000)).toBe(1000);
    expect(await store.partialOffset(hash, 1)).toBe(0); // another declared size: reported as none, not dropped
    expect(await store.writeChunk(hash, 6000, 1000, data.subarray(1000))).toEqual({ received: 6000, complete: true });
  });

  it('keeps no upload state for hashes only asked about', async () => {
    const store = await BlobStore.open(dir, { capBytes: 100_000 });
    for (let i = 0; i < 50; i++) expect(await store.uploadOffset(sha(randomBytes(8)), 1000)).toBe(0);
    expect((store as unknown as { uploads: Map<string, unknown> }).uploads.size).toBe(0);
    await put(store, randomBytes(3000));
    expect((store as unknown as { uploads: Map<string, unknown> }).uploads.size).toBe(0); // finished uploads leave none either
  });
});

describe('run outputs and job folders', () => {
  it('ingests a file: moved in, hashed, the source gone', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const job = await store.makeJobDir();
    expect(path.dirname(job.dir)).toBe(path.join(store.dir, 'jobs'));
    const data = randomBytes(5000);
    const file = path.join(job.dir, 'out.bin');
    await fsp.writeFile(file, data);
    expect(await store.ingestFile(file)).toEqual({ hash: sha(data), size: 5000 });
    await expect(fsp.stat(file)).rejects.toThrow();
    expect(Buffer.from(await store.read(sha(data), 0, 5000)).equals(data)).toBe(true);
    // The same content again: already stored, the new copy is dropped.
    await fsp.writeFile(file, data);
    expect(await store.ingestFile(file)).toEqual({ hash: sha(data), size: 5000 });
    await expect(fsp.stat(file)).rejects.toThrow();
    expect((await store.usage()).usedBytes).toBe(5000);
    await job.remove();
    await expect(fsp.stat(job.dir)).rejects.toThrow();
  });

  it("ingests an output keeping its bytes when keep(size) says so: read once, as stored", async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const job = await store.makeJobDir();
    const sizes: number[] = [];
    for (const [i, wanted] of [true, false, true].entries()) {
      const data = randomBytes(3000 + i); // the third is new too: kept when stored, as when present
      const file = path.join(job.dir, `out-${i}.bin`);
      await fsp.writeFile(file, data);
      const got = await store.ingestFile(file, { keep: (size) => (sizes.push(size), wanted) });
      expect(got).toMatchObject({ hash: sha(data), size: data.length });
      if (wanted) expect(Buffer.from(got.bytes!).equals(data)).toBe(true);
      else expect(got.bytes).toBeUndefined();
      expect(Buffer.from(await store.read(sha(data), 0, data.length)).equals(data)).toBe(true);
    }
    expect(sizes).toEqual([3000, 3001, 3002]);
    // Already present: dropped, still with its bytes.
    const again = randomBytes(3000);
    await fsp.writeFile(path.join(job.dir, 'a.bin'), again);
    await store.ingestFile(path.join(job.dir, 'a.bin'));
    await fsp.writeFile(path.join(job.dir, 'a.bin'), again);
    expect(Buffer.from((await store.ingestFile(path.join(job.dir, 'a.bin'), { keep: () => true })).bytes!).equals(again)).toBe(true);
    await job.remove();
  });

  it('clears job folders left by a crash when it opens', async () => {
    const store = await BlobStore.open(dir, { capBytes: 1_000_000 });
    const job = await store.makeJobDir();
    await fsp.writeFile(path.join(job.dir, 'left.bin'), 'x');
    await BlobStore.open(dir, { capBytes: 1_000_000 });
    expect(await fsp.readdir(path.join(dir, 'jobs'))).toEqual([]);
  });

  it('reports usage, the cap and the filesystem free space', async () => {
    const store = await BlobStore.open(dir, { capBytes: 123_456 });
    await put(store, randomBytes(1000));
    const usage = await store.usage();
    expect(usage.usedBytes).toBe(1000);
    expect(usage.capBytes).toBe(123_456);
    expect(usage.freeBytes).toBeGreaterThan(0);
    const byDefault = await BlobStore.open(dir);
    expect((await byDefault.usage()).capBytes).toBeGreaterThan(1000);
  });

  it('refuses a cap that is not a positive whole number', async () => {
    expect((await storeError(BlobStore.open(dir, { capBytes: 0 }))).code).toBe('BAD_CAP');
    expect((await storeError(BlobStore.open(dir, { capBytes: 1.5 }))).code).toBe('BAD_CAP');
  });
});
