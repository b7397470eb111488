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
import { sleepUnlessAborted } from '../shared/abort';
import { socketBesideStore } from '../shared/store/owner-socket';
import { RelayHangUpWatch } from './relay-hang-up';
import { ensurePrivateSocketDir, privateSocketDir } from './socket-dir';
import { makeFolder } from '../shared/fs/atomic';
import { socketAnswers } from '../shared/socket-answers';

const PROBE_TIMEOUT_MS = 2000;

export function ownerSocketPath(storeDir: string): string {
  const absolute = path.resolve(storeDir);
  return socketBesideStore(absolute) ?? tempSocketPath(absolute);
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
      await makeFolder(path.dirname(first));
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
    try {
      const guard = new SocketGuard(socketPath, onPeer, await listenAt(socketPath, onPeer));
      return { role: 'owner', socketPath, stopAccepting: () => guard.stop(), release: () => guard.release() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
    if (await socketAnswers(socketPath, PROBE_TIMEOUT_MS)) return { role: 'relay', socketPath };
    await fsp.rm(socketPath, { force: true }); // left by an owner that died
  }
  throw new UsageError('STORE_CLAIM_FAILED', `cannot tell whether another agent owns the store (${socketPath} keeps reappearing)`, {
    hint: 'check for agents started with this --store (ps) and stop the extra ones',
  });
}

async function listenAt(socketPath: string, onPeer: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(onPeer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Only this process's user may talk to it (the protocol authenticates anyway).
  await fsp.chmod(socketPath, 0o600).catch(() => undefined);
  return server;
}

/** How often an owner checks that its socket file is still there. */
const SOCKET_CHECK_MS = 1000;

/**
 * The owner's listening socket, put back when its file is deleted. Deleting the store folder
 * takes `agent.sock` with it while the owner goes on serving (its folders are made again on
 * demand); the next `--stdio` agent of the store would then find no owner and become a second
 * one: two run queues on one NPU. So the owner checks every second and listens again at the
 * same path (a second agent starting within that second still gets in; it is narrowed, not
 * closed). Connections already accepted go on either way.
 */
class SocketGuard {
  private accepting = true;
  private checking = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly socketPath: string, private readonly onPeer: (socket: net.Socket) => void, private server: net.Server) {
    this.timer = setInterval(() => void this.check(), SOCKET_CHECK_MS).unref();
  }

  /** Stops taking connections (its callback waits for open ones: not awaited). */
  stop(): void {
    if (!this.accepting) return;
    this.accepting = false;
    clearInterval(this.timer);
    if (this.server.listening) this.server.close();
  }

  async release(): Promise<void> {
    this.stop();
    while (this.checking) await new Promise((resolve) => setTimeout(resolve, 10)); // a listen in progress would leave a socket
    await fsp.rm(this.socketPath, { force: true });
  }

  private async check(): Promise<void> {
    if (this.checking || !this.accepting) return;
    this.checking = true;
    try {
      await fsp.lstat(this.socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') await this.listenAgain();
    } finally {
      this.checking = false;
    }
  }

  private async listenAgain(): Promise<void> {
    // Closed first: closing a unix socket server unlinks its path, which would be the new one's.
    // Nobody could reach it anyway, its name being gone; accepted connections go on.
    if (this.server.listening) this.server.close();
    try {
      // The store folder is made as the store makes it; the private temp folder (a socket that
      // cannot live beside the store) only the private way: mode 700, ours, or refused.
      const folder = path.dirname(this.socketPath);
      if (folder === privateSocketDir()) await ensurePrivateSocketDir(folder);
      else await makeFolder(folder);
      this.server = await listenAt(this.socketPath, this.onPeer);
      if (!this.accepting) this.server.close(); // stopped meanwhile (release() removes the file)
    } catch {
      // Another process claimed the path in between, or the folder cannot be made (or is not
      // private) now: the next check tries again if the path is still free.
    }
  }
}

/** claimStore until this process owns the store (for agents that cannot relay). */
export async function waitForStore(
  storeDir: string,
  onPeer: (socket: net.Socket) => void,
  log: (line: string) => void,
  opts: { retryMs?: number; signal?: AbortSignal } = {},
): Promise<Extract<StoreClaim, { role: 'owner' }> | null> {
  const { retryMs = 1000, signal } = opts;
  let told = false;
  while (!signal?.aborted) {
    const claim = await claimStore(storeDir, onPeer);
    if (claim.role === 'owner') return claim;
    if (!told) log(`another agent process owns the store (${claim.socketPath}); waiting for it to stop`);
    told = true;
    await sleepUnlessAborted(retryMs, signal);
  }
  return null; // stopped while waiting
}

/**
 * How a relayed connection ended: the host left first (its stdin ended: a clean end), the
 * owner ended it first (it hung up on the host — authentication failed, idle, bad bytes — or
 * it is stopping), or the owner no longer takes connections ('gone': claim again).
 */
export type RelayEnd = 'host-left' | 'owner-left' | 'gone';

/**
 * Pipes stdin to the owner and the owner's answers to stdout until either side ends.
 * `moved` hears of every piece relayed, either way (for shared/young-collection.ts: a relay that
 * leaves its buffers to V8 peaked at 92 MiB relaying a 500 MB upload, 63 with it).
 */
export function relayStdio(socketPath: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, moved?: (bytes: number) => void): Promise<RelayEnd> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let connected = false;
    // Whose end came first: the owner ended it when it hung up (its last message an Error for
    // the connection, relay-hang-up.ts) or its end came before the host's (stopping).
    let first: 'host' | 'owner' | null = null;
    const hangUp = new RelayHangUpWatch();
    socket.once('connect', () => {
      connected = true;
      input.pipe(socket);
      socket.pipe(output);
      socket.on('data', (chunk: Buffer) => hangUp.push(chunk));
      if (moved) {
        const count = (chunk: Buffer) => moved(chunk.length);
        input.on('data', count);
        socket.on('data', count);
      }
    });
    socket.once('end', () => (first ??= 'owner'));
    socket.once('error', () => undefined); // 'close' follows and says what happened
    // Closed without either end (a reset): the owner's side broke.
    socket.once('close', () => resolve(!connected ? 'gone' : first === 'host' && !hangUp.hungUp ? 'host-left' : 'owner-left'));
    input.once('end', () => {
      first ??= 'host';
      socket.end();
    });
  });
}

