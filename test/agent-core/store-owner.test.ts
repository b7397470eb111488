/**
 * Store ownership between agent processes (agent/store-owner.ts): the first claim owns the
 * store, a second finds it alive and relays, a released or dead owner's socket is taken over,
 * and a relay whose owner stopped taking connections is told to claim again.
 */
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimStore, ownerSocketPath, relayStdio } from '../../agent/store-owner';

let dir: string;
const releases: Array<() => Promise<void>> = [];
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-owner-'));
});
afterEach(async () => {
  for (const release of releases.splice(0)) await release();
  await fsp.rm(dir, { recursive: true, force: true });
});

const echo = (socket: net.Socket) => socket.pipe(socket);

describe('claimStore', () => {
  it('owns a free store; a second claim finds the owner alive and relays', async () => {
    const store = path.join(dir, 'store');
    const first = await claimStore(store, echo);
    expect(first.role).toBe('owner');
    if (first.role === 'owner') releases.push(first.release);
    expect(first.socketPath).toBe(path.join(store, 'agent.sock'));
    expect(((await fsp.stat(first.socketPath)).mode & 0o777).toString(8)).toBe('600');
    const second = await claimStore(store, echo);
    expect(second).toEqual({ role: 'relay', socketPath: first.socketPath });
  });

  it('after a release, or a socket left by a dead owner, the next claim owns the store', async () => {
    const store = path.join(dir, 'store');
    const first = await claimStore(store, echo);
    if (first.role !== 'owner') throw new Error('expected to own the store');
    await first.release();
    const second = await claimStore(store, echo);
    expect(second.role).toBe('owner');
    if (second.role === 'owner') await second.release();
    // What a killed owner leaves: the socket file, nobody listening.
    await fsp.writeFile(ownerSocketPath(store), '');
    const third = await claimStore(store, echo);
    expect(third.role).toBe('owner');
    if (third.role === 'owner') releases.push(third.release);
  });

  it('falls back to the temp folder on a filesystem that cannot hold a socket (a FAT SD card)', async () => {
    // sysfs refuses to create a socket as such filesystems do (EPERM), even for root.
    const store = '/sys/kernel';
    const first = await claimStore(store, echo);
    expect(first.role).toBe('owner');
    if (first.role === 'owner') releases.push(first.release);
    expect(path.dirname(first.socketPath)).toBe(os.tmpdir());
    expect(await claimStore(store, echo)).toEqual({ role: 'relay', socketPath: first.socketPath });
  });

  it('puts the socket in the temp folder when the store path is too long for one', () => {
    const deep = path.join(dir, 'x'.repeat(120), 'store');
    const socket = ownerSocketPath(deep);
    expect(path.dirname(socket)).toBe(os.tmpdir());
    expect(socket).toMatch(/axagent-[0-9a-f]{16}\.sock$/);
    expect(ownerSocketPath(deep)).toBe(socket); // the same store, the same socket, in every process
  });
});

describe('relayStdio', () => {
  it('carries bytes both ways to the owner, counting them, then says done', async () => {
    const store = path.join(dir, 'store');
    const owner = await claimStore(store, echo);
    if (owner.role !== 'owner') throw new Error('expected to own the store');
    releases.push(owner.release);
    const input = new PassThrough();
    const output = new PassThrough();
    let moved = 0;
    const relayed = relayStdio(owner.socketPath, input, output, (bytes) => (moved += bytes));
    const echoed = new Promise<string>((resolve) => output.once('data', (d: Buffer) => resolve(d.toString())));
    input.write('frame bytes');
    expect(await echoed).toBe('frame bytes');
    input.end();
    expect(await relayed).toBe('done');
    expect(moved).toBe(2 * 'frame bytes'.length); // there and back, for the collection pacer
  });

  it("says gone when the owner no longer takes connections, so the relay claims again", async () => {
    const store = path.join(dir, 'store');
    const owner = await claimStore(store, echo);
    if (owner.role !== 'owner') throw new Error('expected to own the store');
    owner.stopAccepting();
    releases.push(owner.release);
    expect(await relayStdio(owner.socketPath, new PassThrough(), new PassThrough())).toBe('gone');
  });
});
