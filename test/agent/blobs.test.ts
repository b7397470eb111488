/**
 * Blob operations end to end: round trips, resuming an upload cut off mid-way (no verified
 * byte sent twice), flow control with several operations in flight, and hostile names.
 */
import { closeSync, openSync, promises as fsp, writeSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxError } from '../../shared/errors';
import type { Envelope } from '../../shared/protocol/envelope';
import { watchSends, randomFile, rawSession, sha256, startAgent, type AgentProcess } from './helpers';

const MB = 1024 * 1024;
let agent: AgentProcess;
beforeAll(async () => {
  agent = await startAgent();
});
afterAll(async () => {
  await agent?.stop();
});

describe('put and get', () => {
  it('round-trips a file through the store byte for byte, and knows it has it', async () => {
    const client = await agent.connect();
    const { file, hash, data } = await randomFile(agent.dir, 'round.bin', 5 * MB + 123);
    expect(await client.has([hash])).toEqual([{ hash, present: false, size: 0, partialOffset: 0 }]);
    const progress: number[] = [];
    const put = await client.putFile(file, hash, data.length, { onProgress: (p) => progress.push(p.stored) });
    expect(put).toEqual({ hash, size: data.length, resumedFrom: 0, sentBytes: data.length, alreadyPresent: false });
    expect(progress.at(-1)).toBe(data.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await client.has([hash])).toEqual([{ hash, present: true, size: data.length, partialOffset: 0 }]);
    const back = path.join(agent.dir, 'out', 'round.bin');
    await client.getBlob(hash, data.length, back);
    expect((await fsp.readFile(back)).equals(data)).toBe(true);
    await client.close();
  });

  it('sends nothing for a blob the agent already has', async () => {
    const client = await agent.connect();
    const counter = watchSends(client.transport);
    const { file, hash, data } = await randomFile(agent.dir, 'twice.bin', 300_000);
    await client.putFile(file, hash, data.length);
    const before = counter.bytes();
    expect(await client.putFile(file, hash, data.length)).toMatchObject({ alreadyPresent: true, sentBytes: 0, resumedFrom: data.length });
    expect(counter.bytes()).toBe(before);
    await client.close();
  });

  it('handles empty blobs and blobs held in memory', async () => {
    const client = await agent.connect();
    const empty = new Uint8Array(0);
    expect(await client.putBytes(empty, sha256(empty))).toMatchObject({ size: 0, alreadyPresent: false });
    await client.getBlob(sha256(empty), 0, path.join(agent.dir, 'out', 'empty.bin'));
    expect((await fsp.stat(path.join(agent.dir, 'out', 'empty.bin'))).size).toBe(0);
    await client.close();
  });

  // Two CI jobs deploying one new model to one board: both write its one partial. The second
  // may start with the first (joinAt 0) or when the first is many MiB in (past a window ahead
  // of it): the partial's length then runs ahead of the second upload's own chunks.
  it.each([
    ['at once', 'shared.bin', 24 * MB + 5, 0],
    ['the second well under way', 'staggered.bin', 48 * MB + 7, 16 * MB],
  ])('lets two hosts upload the same new blob (%s): both succeed with one intact blob', async (_when, name, size, joinAt) => {
    const [first, second] = [await agent.connect(), await agent.connect()];
    const { file, hash, data } = await randomFile(agent.dir, name, size);
    let startSecond!: () => void;
    const secondMayStart = new Promise<void>((resolve) => (startSecond = resolve));
    if (joinAt === 0) startSecond();
    const a = first.putFile(file, hash, data.length, { onProgress: (p) => p.stored >= joinAt && startSecond() });
    await secondMayStart;
    const results = await Promise.all([a, second.putFile(file, hash, data.length)]);
    for (const result of results) expect(result).toMatchObject({ hash, size: data.length });
    const back = path.join(agent.dir, 'out', name);
    await second.getBlob(hash, data.length, back);
    expect((await fsp.readFile(back)).equals(data)).toBe(true);
    await Promise.all([first.close(), second.close()]);
  });

  it('begins again when another host left bytes in the partial that fail the sha256', async () => {
    const { file, hash, data } = await randomFile(agent.dir, 'spoiled.bin', 3 * MB);
    // Host A sends 1 MiB of other bytes under this name, then leaves: its partial stays.
    const raw = await rawSession(agent);
    const acked = new Promise<Envelope>((resolve) => {
      const call = raw.channel.open('a spoiled upload', {
        onEnvelope: (env) => {
          if (env.body === 'putReady') void raw.channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: 0, data: Buffer.alloc(MB, 7) } });
          else resolve(env);
        },
        onError: (err) => resolve({ id: call.id, body: 'error', error: { code: err.code, message: err.message, hint: '', exitCode: err.exitCode } }),
      });
      void raw.channel.send({ id: call.id, body: 'putBegin', putBegin: { hash, size: data.length } });
    });
    expect((await acked).body).toBe('putAck');
    await raw.channel.transport.close();
    // Host B resumes at 1 MiB, its check fails (HASH_MISMATCH drops the partial), and it sends the blob again whole.
    const client = await agent.connect();
    const put = await client.putFile(file, hash, data.length);
    expect(put).toMatchObject({ hash, resumedFrom: 0 });
    expect(put.sentBytes).toBe(data.length + (data.length - MB)); // the rest of the spoiled partial, then all of it
    const back = path.join(agent.dir, 'out', 'spoiled.bin');
    await client.getBlob(hash, data.length, back);
    expect((await fsp.readFile(back)).equals(data)).toBe(true);
    await client.close();
  });

  it('runs several transfers at once on one connection', async () => {
    const client = await agent.connect();
    const files = await Promise.all([0, 1, 2].map((i) => randomFile(agent.dir, `multi-${i}.bin`, 3 * MB + i)));
    await Promise.all(files.map((f) => client.putFile(f.file, f.hash, f.data.length)));
    await Promise.all(files.map((f, i) => client.getBlob(f.hash, f.data.length, path.join(agent.dir, 'out', `multi-${i}.bin`))));
    for (const [i, f] of files.entries()) expect((await fsp.readFile(path.join(agent.dir, 'out', `multi-${i}.bin`))).equals(f.data)).toBe(true);
    await client.close();
  });

  it('refuses a blob uploaded under the wrong hash (HASH_MISMATCH) and keeps nothing', async () => {
    const client = await agent.connect();
    const data = Buffer.alloc(100_000, 1);
    const claimed = sha256(Buffer.from('something else'));
    await expect(client.putBytes(data, claimed)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    expect((await client.has([claimed]))[0]).toMatchObject({ present: false });
    await client.close();
  });

  it('says a local file is not what it was hashed to (FILE_CHANGED), not HASH_MISMATCH, and keeps nothing', async () => {
    const client = await agent.connect();
    const { file, data } = await randomFile(agent.dir, 'liar.bin', 100_000);
    const claimed = sha256(Buffer.from('something else'));
    await expect(client.putFile(file, claimed, data.length)).rejects.toMatchObject({ code: 'FILE_CHANGED', exitCode: 2, file });
    expect((await client.has([claimed]))[0]).toMatchObject({ present: false });
    await client.close();
  });

  it('leaves the target untouched when a download fails (missing blob, wrong size)', async () => {
    const client = await agent.connect();
    const target = path.join(agent.dir, 'out', 'never.bin');
    await expect(client.getBlob('b'.repeat(64), 10, target)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    const { file, hash, data } = await randomFile(agent.dir, 'sized.bin', 1000);
    await client.putFile(file, hash, data.length);
    await expect(client.getBlob(hash, 999, target)).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
    await expect(fsp.stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fsp.readdir(path.join(agent.dir, 'out'))).filter((n) => n.includes('never'))).toEqual([]);
    await client.close();
  });
});

describe('an upload cut off mid-way', () => {
  it('resumes on a new connection from what the agent stored, sending no verified byte twice', async () => {
    const size = 24 * MB + 7;
    const { file, hash, data } = await randomFile(agent.dir, 'resume.bin', size);

    const first = await agent.connect({ chunkBytes: 256 * 1024 });
    const firstTransport = first.transport;
    const firstCount = watchSends(firstTransport);
    let acked = 0;
    const cut = first.putFile(file, hash, size, {
      onProgress: (p) => {
        acked = p.stored;
        if (p.stored >= 6 * MB) firstTransport.destroy();
      },
    });
    await expect(cut).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    expect(acked).toBeGreaterThanOrEqual(6 * MB);
    expect(acked).toBeLessThan(size);

    const second = await agent.connect();
    const secondCount = watchSends(second.transport);
    const [presence] = await second.has([{ hash, size }]);
    expect(presence!.present).toBe(false);
    expect(presence!.partialOffset).toBeGreaterThanOrEqual(acked);
    const resumed = await second.putFile(file, hash, size);
    expect(resumed.resumedFrom).toBe(presence!.partialOffset);
    expect(resumed.sentBytes).toBe(size - resumed.resumedFrom);
    expect(secondCount.bytes()).toBe(size - resumed.resumedFrom);
    // Everything sent twice lies after what the agent had acknowledged on the first connection.
    expect(firstCount.bytes() + secondCount.bytes() - size).toBeLessThanOrEqual(firstCount.bytes() - acked);

    const back = path.join(agent.dir, 'out', 'resume.bin');
    await second.getBlob(hash, size, back);
    expect((await fsp.readFile(back)).equals(data)).toBe(true);
    await second.close();
  });
});

describe('a local file rewritten while it is uploaded', () => {
  it('fails with FILE_CHANGED naming the file (not HASH_MISMATCH), at the first mismatch', async () => {
    const size = 24 * MB;
    const { file, hash } = await randomFile(agent.dir, 'rewritten.bin', size);
    const client = await agent.connect();
    const sent = watchSends(client.transport);
    let rewrittenAt = -1;
    const put = client.putFile(file, hash, size, {
      onProgress: (p) => {
        if (p.stored === 0 || rewrittenAt >= 0) return;
        // Same size, other bytes at the end: not read yet, since the client stays within the
        // agent's put window (12 MiB) of what it acknowledged.
        rewrittenAt = p.stored;
        const fd = openSync(file, 'r+');
        writeSync(fd, Buffer.alloc(1024, 0xee), 0, 1024, size - 1024);
        closeSync(fd);
      },
    });
    const err = await put.then(() => null, (e: AxError) => e);
    expect(rewrittenAt).toBeGreaterThan(0);
    expect(rewrittenAt).toBeLessThan(size - 13 * MB);
    expect(err).toMatchObject({ code: 'FILE_CHANGED', exitCode: 2, file });
    expect(err!.message).toContain(file);
    expect(err!.hint).toMatch(/do not change files while they are deployed; run again/);
    // Not sent twice more: the file is looked at as soon as the agent says the bytes do not match.
    expect(sent.bytes()).toBe(size);
    expect((await client.has([hash]))[0]).toMatchObject({ present: false });
    await client.close();
  });
});

describe('hostile names are refused by the agent itself', () => {
  const traversal = ['../../etc/passwd', '/etc/passwd', `../${'a'.repeat(61)}`, 'A'.repeat(64)];

  it.each(traversal)('refuses %s as a hash in has, put and get (BAD_HASH)', async (bad) => {
    const raw = await rawSession(agent);
    const answers = await Promise.all([
      raw.request((id) => ({ id, body: 'has', has: { blobs: [{ hash: bad, size: 10 }] } })),
      raw.request((id) => ({ id, body: 'putBegin', putBegin: { hash: bad, size: 10 } })),
      raw.request((id) => ({ id, body: 'get', get: { hash: bad, offset: 0, length: 0, chunkBytes: 0, windowBytes: 0 } })),
    ]);
    for (const answer of answers) expect(answer).toMatchObject({ body: 'error', error: { code: 'BAD_HASH' } });
    await raw.channel.transport.close();
    const storeEntries = await fsp.readdir(agent.storeDir);
    expect(storeEntries.sort()).toEqual(['agent.sock', 'blobs', 'jobs', 'partial', 'tmp']);
  });

  it('the client refuses them before sending', async () => {
    const client = await agent.connect();
    await expect(client.has(['../x'])).rejects.toMatchObject({ code: 'BAD_HASH', exitCode: 2 });
    await expect(client.getBlob('/etc/passwd', 1, path.join(agent.dir, 'x'))).rejects.toMatchObject({ code: 'BAD_HASH' });
    await client.close();
  });
});

describe('protocol discipline', () => {
  it('refuses a chunk for an upload that is not in flight, and a duplicate request id', async () => {
    const raw = await rawSession(agent);
    const stray = await raw.request((id) => ({ id, body: 'putChunk', putChunk: { offset: 0, data: new Uint8Array(1) } }));
    expect(stray).toMatchObject({ body: 'error', error: { code: 'PROTO_UNEXPECTED' } });
    const { hash } = await randomFile(agent.dir, 'dup.bin', 10);
    const answers: string[] = [];
    const call = raw.channel.open('dup', { onEnvelope: (env) => answers.push(env.body!), onError: (err: AxError) => answers.push(err.code) });
    await raw.channel.send({ id: call.id, body: 'putBegin', putBegin: { hash, size: 10 } });
    await raw.channel.send({ id: call.id, body: 'putBegin', putBegin: { hash, size: 10 } });
    while (!answers.includes('PROTO_DUPLICATE_ID')) await new Promise((r) => setTimeout(r, 5));
    // The first upload's PutReady may or may not come before the refusal of the second.
    expect(answers.filter((a) => a !== 'putReady')).toEqual(['PROTO_DUPLICATE_ID']);
    // The first upload is untouched by the refused duplicate.
    expect(await raw.channel.cancel(call.id)).toBe(true);
    await raw.channel.transport.close();
  });
});
