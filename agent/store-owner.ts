/**
 * One agent process per store, and so per NPU. Over ssh:// every connection starts its own
 * `axagent --stdio`; two hosts at once would be two processes with two run queues, running
 * run_joint side by side on one NPU and writing one store without a common lock. So the first
 * agent process of a store owns it and listens on a unix socket beside it; an `--stdio` agent
 * that finds an owner answering there opens nothing and relays its stdin/stdout to the owner,
 * byte for byte (authentication stays end to end between the host and the owner). A listening
 * or serial agent waits for the store instead. A socket left by an owner that died answers
 * nothing and is replaced.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { UsageError } from '../shared/errors';
import { ensurePrivateSocketDir, privateSocketDir } from './socket-dir';

/** sun_path holds 108 bytes on Linux; longer store paths get a socket in the temp folder. */
const MAX_SOCKET_PATH_BYTES = 100;
const PROBE_TIMEOUT_MS = 2000;

export function ownerSocketPath(storeDir: string): string {
  const absolute = path.resolve(storeDir);
  const beside = path.join(absolute, 'agent.sock');
  return Buffer.byteLength(beside) <= MAX_SOCKET_PATH_BYTES ? beside : tempSocketPath(absolute);
}

/**
 * The same for every process of the store (derived from its absolute path), in this user's
 * private folder (socket-dir.ts), never in the shared temp folder itself.
 */
function tempSocketPath(absoluteStoreDir: string): string {
  return path.join(privateSocketDir(), `${createHash('sha256').update(absoluteStoreDir).digest('hex').slice(0, 16)}.sock`);
}

/**
 * Filesystems that cannot hold a socket (a FAT-formatted SD card is a common board store)
 * refuse it with one of these; the socket then goes to the temp folder, the same choice in
 * every process of the store.
 */
const NO_SOCKETS_HERE = new Set(['EPERM', 'EOPNOTSUPP', 'ENOTSUP', 'EACCES', 'EROFS', 'EINVAL']);

export type StoreClaim =
  | {
      role: 'owner';
      socketPath: string;
      /** Stops taking relayed connections (those already taken go on). */
      stopAccepting(): void;
      /** Stops accepting and removes the socket: the next agent process of the store owns it. */
      release(): Promise<void>;
    }
  | { role: 'relay'; socketPath: string };

/**
 * Becomes the store's owner (serving `onPeer` for every local connection) or, when another
 * live process owns it, says where to relay.
 */
export async function claimStore(storeDir: string, onPeer: (socket: net.Socket) => void): Promise<StoreClaim> {
  const first = ownerSocketPath(storeDir);
  const fallback = tempSocketPath(path.resolve(storeDir));
  if (first !== fallback) {
    try {
      await fsp.mkdir(path.dirname(first), { recursive: true });
      return await claimAt(first, onPeer);
    } catch (err) {
      if (!NO_SOCKETS_HERE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  // Checked by owners and relays alike, before listening or connecting there.
  await ensurePrivateSocketDir(path.dirname(fallback));
  return claimAt(fallback, onPeer);
}

async function claimAt(socketPath: string, onPeer: (socket: net.Socket) => void): Promise<StoreClaim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = net.createServer(onPeer);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Only this process's user may talk to it (the protocol authenticates anyway).
      await fsp.chmod(socketPath, 0o600).catch(() => undefined);
      let accepting = true;
      const stopAccepting = () => {
        if (accepting) server.close(); // its callback waits for open connections: not awaited
        accepting = false;
      };
      return {
        role: 'owner',
        socketPath,
        stopAccepting,
        release: async () => {
          stopAccepting();
          await fsp.rm(socketPath, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
    if (await answers(socketPath)) return { role: 'relay', socketPath };
    await fsp.rm(socketPath, { force: true }); // left by an owner that died
  }
  throw new UsageError('STORE_CLAIM_FAILED', `cannot tell whether another agent owns the store (${socketPath} keeps reappearing)`, {
    hint: 'check for agents started with this --store (ps) and stop the extra ones',
  });
}

/** claimStore until this process owns the store (for agents that cannot relay). */
export async function waitForStore(storeDir: string, onPeer: (socket: net.Socket) => void, log: (line: string) => void, retryMs = 1000): Promise<Extract<StoreClaim, { role: 'owner' }>> {
  let told = false;
  for (;;) {
    const claim = await claimStore(storeDir, onPeer);
    if (claim.role === 'owner') return claim;
    if (!told) log(`another agent process owns the store (${claim.socketPath}); waiting for it to stop`);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

/**
 * Pipes stdin to the owner and the owner's answers to stdout until either side ends.
 * 'gone' when the owner no longer takes connections (it is stopping): claim again.
 * `moved` hears of every piece relayed, either way (for shared/young-collection.ts: a relay that
 * leaves its buffers to V8 peaked at 92 MiB relaying a 500 MB upload, 63 with it).
 */
export function relayStdio(socketPath: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, moved?: (bytes: number) => void): Promise<'done' | 'gone'> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      input.pipe(socket);
      socket.pipe(output);
      if (moved) {
        const count = (chunk: Buffer) => moved(chunk.length);
        input.on('data', count);
        socket.on('data', count);
      }
    });
    socket.once('error', () => undefined); // 'close' follows and says what happened
    socket.once('close', () => resolve(connected ? 'done' : 'gone'));
    input.once('end', () => socket.end());
  });
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

