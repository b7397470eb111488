/**
 * Store ownership between agent processes (agent/store-owner.ts): the first claim owns the
 * store, a second finds it alive and relays, a released or dead owner's socket is taken over,
 * and a relay whose owner stopped taking connections is told to claim again.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimStore, ownerSocketPath, relayStdio } from '../../agent/store-owner';
import { encodeEnvelope } from '../../shared/protocol/envelope';
import { encodeFrame, FrameType } from '../../shared/protocol/frame';

let dir: string;
/** The temp folder the agent code sees (TMPDIR), so its socket folder lands in the test's own. */
let tmp: string;
const savedTmpdir = process.env.TMPDIR;
const releases: Array<() => Promise<void>> = [];
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-owner-'));
  tmp = path.join(dir, 'tmp');
  await fsp.mkdir(tmp, { mode: 0o1777 });
  process.env.TMPDIR = tmp;
});
afterEach(async () => {
  for (const release of releases.splice(0)) await release();
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  await fsp.rm(dir, { recursive: true, force: true });
});

const uid = process.getuid!();
/** Where the agent puts a store's socket that cannot go beside it. */
const privateDir = () => path.join(tmp, `axagent-${uid}`);
const longStore = () => path.join(dir, 'x'.repeat(120), 'store');

const echo = (socket: net.Socket) => socket.pipe(socket);

/** Waits until `condition` holds, checking every 50 ms, for at most `ms`. */
async function until(condition: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not so after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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

  it('listens again when the store folder is deleted under the owner, so the next agent of the store still relays to it', async () => {
    const store = path.join(dir, 'store');
    const first = await claimStore(store, echo);
    if (first.role !== 'owner') throw new Error('expected to own the store');
    releases.push(first.release);
    await fsp.rm(store, { recursive: true, force: true }); // agent.sock goes with it
    await until(async () => fsp.lstat(first.socketPath).then(() => true, () => false));
    expect(await claimStore(store, echo)).toEqual({ role: 'relay', socketPath: first.socketPath });
    // And it is this owner answering there: bytes come back through the new socket.
    const socket = net.connect(first.socketPath);
    const answer = new Promise<string>((resolve) => socket.once('data', (data) => resolve(data.toString())));
    socket.write('ping');
    expect(await answer).toBe('ping');
    socket.destroy();
  });

  it("puts back a deleted private socket folder the private way (mode 700), so the next agent still relays", async () => {
    const store = longStore();
    const first = await claimStore(store, echo);
    if (first.role !== 'owner') throw new Error('expected to own the store');
    releases.push(first.release);
    expect(path.dirname(first.socketPath)).toBe(privateDir());
    await fsp.rm(privateDir(), { recursive: true, force: true }); // a /tmp cleaner
    await until(async () => fsp.lstat(first.socketPath).then(() => true, () => false));
    expect(((await fsp.stat(privateDir())).mode & 0o777).toString(8)).toBe('700');
    expect(await claimStore(store, echo)).toEqual({ role: 'relay', socketPath: first.socketPath });
  });

  it('a released owner does not put its socket back', async () => {
    const store = path.join(dir, 'store');
    const first = await claimStore(store, echo);
    if (first.role !== 'owner') throw new Error('expected to own the store');
    await first.release();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past two checks
    await expect(fsp.lstat(first.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    const second = await claimStore(store, echo);
    expect(second.role).toBe('owner');
    if (second.role === 'owner') releases.push(second.release);
  });

  it("falls back to the user's private temp folder on a filesystem that cannot hold a socket (a FAT SD card)", async () => {
    // sysfs refuses to create a socket as such filesystems do (EPERM), even for root.
    const store = '/sys/kernel';
    const first = await claimStore(store, echo);
    expect(first.role).toBe('owner');
    if (first.role === 'owner') releases.push(first.release);
    expect(path.dirname(first.socketPath)).toBe(privateDir());
    expect(await claimStore(store, echo)).toEqual({ role: 'relay', socketPath: first.socketPath });
  });

  it("puts the socket in the user's private temp folder (0700) when the store path is too long for one", async () => {
    const socket = ownerSocketPath(longStore());
    expect(path.dirname(socket)).toBe(privateDir());
    expect(path.basename(socket)).toMatch(/^[0-9a-f]{16}\.sock$/);
    expect(ownerSocketPath(longStore())).toBe(socket); // the same store, the same socket, in every process
    const owner = await claimStore(longStore(), echo);
    if (owner.role === 'owner') releases.push(owner.release);
    expect(owner).toMatchObject({ role: 'owner', socketPath: socket });
    expect(((await fsp.stat(privateDir())).mode & 0o777).toString(8)).toBe('700');
  });

  it('is not fooled by a socket another user put in the shared temp folder first', async () => {
    // Where the socket of a long store path used to go, and where anyone could listen first.
    const legacy = path.join(tmp, `axagent-${createHash('sha256').update(path.resolve(longStore())).digest('hex').slice(0, 16)}.sock`);
    const squatter = net.createServer(echo);
    await new Promise<void>((resolve) => squatter.listen(legacy, resolve));
    try {
      const claim = await claimStore(longStore(), echo);
      if (claim.role === 'owner') releases.push(claim.release);
      expect(claim).toMatchObject({ role: 'owner', socketPath: expect.stringContaining(privateDir()) });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('refuses a socket folder that is not private: another owner, a symbolic link, open to others', async () => {
    const refusal = { code: 'SOCKET_DIR_NOT_PRIVATE', exitCode: 2, hint: expect.stringContaining('remove it') };
    // Made first by someone else (65534: nobody).
    await fsp.mkdir(privateDir(), { mode: 0o700 });
    await fsp.chown(privateDir(), 65534, 65534);
    await expect(claimStore(longStore(), echo)).rejects.toMatchObject({ ...refusal, message: expect.stringContaining('belongs to user 65534') });
    await expect(claimStore('/sys/kernel', echo)).rejects.toMatchObject(refusal); // the FAT fallback too
    await fsp.rm(privateDir(), { recursive: true });
    // A link to a folder that looks right.
    const elsewhere = path.join(dir, 'elsewhere');
    await fsp.mkdir(elsewhere, { mode: 0o700 });
    await fsp.symlink(elsewhere, privateDir());
    await expect(claimStore(longStore(), echo)).rejects.toMatchObject({ ...refusal, message: expect.stringContaining('symbolic link') });
    await fsp.rm(privateDir());
    // Ours, but others may create sockets in it.
    await fsp.mkdir(privateDir());
    await fsp.chmod(privateDir(), 0o777);
    await expect(claimStore(longStore(), echo)).rejects.toMatchObject({ ...refusal, message: expect.stringContaining('mode 777') });
    expect(await fsp.readdir(privateDir())).toEqual([]);
  });
});

describe('relayStdio', () => {
  it('carries bytes both ways to the owner, counting them, then says the host left', async () => {
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
    expect(await relayed).toBe('host-left');
    expect(moved).toBe(2 * 'frame bytes'.length); // there and back, for the collection pacer
  });

  it('says the owner left when the owner ends the connection while the host is still there', async () => {
    const store = path.join(dir, 'store');
    const owner = await claimStore(store, (socket) => socket.end('AUTH_FAILED, say')); // a hang-up
    if (owner.role !== 'owner') throw new Error('expected to own the store');
    releases.push(owner.release);
    const input = new PassThrough(); // never ends: the host is still there
    const output = new PassThrough();
    let answer = '';
    output.on('data', (d: Buffer) => (answer += d.toString()));
    expect(await relayStdio(owner.socketPath, input, output)).toBe('owner-left');
    expect(answer).toBe('AUTH_FAILED, say');
  });

  it('says the owner left when it hung up with an Error, even if the host read it and left before the owner ended', async () => {
    const store = path.join(dir, 'store');
    const hangUp = encodeFrame(FrameType.Message, encodeEnvelope({ id: 0, body: 'error', error: { code: 'AUTH_FAILED', message: 'no', hint: '', exitCode: 5 } }));
    // A busy owner: its end comes only after the host's.
    const owner = await claimStore(store, (socket) => {
      socket.write(hangUp);
      socket.once('end', () => socket.end());
      socket.resume();
    });
    if (owner.role !== 'owner') throw new Error('expected to own the store');
    releases.push(owner.release);
    const input = new PassThrough();
    const output = new PassThrough();
    output.once('data', () => input.end()); // the host reads the Error and leaves
    expect(await relayStdio(owner.socketPath, input, output)).toBe('owner-left');
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
