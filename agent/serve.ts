/**
 * The agent's serving half: the store, the run service, the sessions and their transports.
 * main.ts loads it only once this process will serve, so `--version`, `--help` and a --stdio
 * agent that relays its connection to the store's owner (after `axctl agent install`, every
 * ssh:// connection) never load the protocol, WebSocket and store code: on a board's slow CPU
 * that is a large share of the agent's start-up.
 */
import * as path from 'node:path';
import { stopLeftoverRuns } from './run/leftover-runs';
import { DEFAULT_KILL_GRACE_MS } from './run/runner';
import { RunService } from './run/run-service';
import { RunJointVersionMemory } from './run/version-memory';
import type { AgentContext } from './session/context';
import { PRE_AUTH_MAX_BYTES } from './session/session';
import { TransferMemory } from './session/transfer-memory';
import { BlobStore } from './store/blob-store';
import type { Error as WireError } from '../shared/protocol/envelope';
import { StreamTransport } from '../shared/transport/stream';
import type { CloseInfo } from '../shared/transport/transport';
import { AGENT_VERSION, type AgentConfig } from './config';
import type { LocalPeers } from './local-peers';
import { collectionPacer, log } from './log';
import { openSerialTransport } from './serial';
import { serveListening } from './serve-listen';
import { letGoOfStdio } from './stdio-release';
import { startRelayedSession, startSession, watchAuthentication } from './start-session';
import type { StoreClaim } from './store-owner';

type OwnerClaim = Extract<StoreClaim, { role: 'owner' }>;

/** Where a --stdio owner logs once its own host has left (stdio-release.ts). */
export function ownerLogFile(storeDir: string): string {
  return path.join(storeDir, 'owner.log');
}

/** `--listen`: WebSocket connections (serve-listen.ts claims the store itself). */
export function serveWebSocket(config: AgentConfig & { mode: { kind: 'listen' } }, secret: Uint8Array, peers: LocalPeers): Promise<number> {
  return serveListening(config, peers, () => buildContext(config, secret), log);
}

/** `--stdio` and `--serial`, once this process owns the store. */
export async function serveOwnedStore(config: AgentConfig, secret: Uint8Array, claim: OwnerClaim, peers: LocalPeers): Promise<number> {
  try {
    const ctx = await buildContext(config, secret);
    peers.serve((socket) => startRelayedSession(socket, ctx, config));
    switch (config.mode.kind) {
      case 'stdio': {
        const stopPeers = () => void peers.close();
        process.once('SIGINT', stopPeers).once('SIGTERM', stopPeers);
        const code = await serveStdio(ctx, config);
        // Hosts relayed here by later agents keep their sessions (and runs) to the end; one
        // that arrives while the last ends is served too, then no more are taken. Meanwhile
        // the stdio of the host that left is let go of, so its SSH channel ends now.
        if (peers.busy) letGoOfStdio(log, ownerLogFile(config.storeDir));
        await peers.drained();
        claim.stopAccepting();
        if (peers.busy) letGoOfStdio(log, ownerLogFile(config.storeDir));
        await peers.drained();
        return code;
      }
      case 'serial':
        return await serveSerial(ctx, { ...config, mode: config.mode });
      case 'listen':
        throw new Error('--listen is served by serveWebSocket');
    }
  } finally {
    await peers.close();
    await claim.release();
  }
}

async function buildContext(config: AgentConfig, secret: Uint8Array): Promise<AgentContext> {
  // Before the store clears jobs/ (and forgets them), and before any run of ours starts.
  await stopLeftoverRuns(config.storeDir, config.runJoint, DEFAULT_KILL_GRACE_MS, log);
  const store = await BlobStore.open(config.storeDir, config.storeCapBytes === undefined ? {} : { capBytes: config.storeCapBytes });
  const runs = new RunService({ store, runJoint: config.runJoint, defaultTimeoutMs: config.runTimeoutMs });
  return {
    store,
    runs,
    secret,
    agentVersion: AGENT_VERSION,
    runJoint: config.runJoint,
    defaultRunTimeoutMs: config.runTimeoutMs,
    board: await RunJointVersionMemory.load(config.storeDir, config.runJoint),
    transferMemory: TransferMemory.forSessions(collectionPacer()),
    log,
  };
}

async function serveStdio(ctx: AgentContext, config: AgentConfig): Promise<number> {
  // Anything printed to stdout would corrupt the frames.
  console.log = console.info = console.debug = console.error;
  // stdout is a pipe (or a file): written bytes are in the kernel when the write calls back.
  // The session is done with a message's bytes when its handler returns: large frames may be
  // assembled in its upload slabs (transfer-memory.ts).
  // A peer that has not authenticated may send no frame over PRE_AUTH_MAX_BYTES: refused from its
  // header, not buffered up to the 16 MiB message limit first.
  const transport = watchAuthentication(
    new StreamTransport(process.stdin, process.stdout, {
      peer: 'stdio',
      idleTimeoutMs: config.idleTimeoutMs,
      outputCopies: true,
      receiveBuffers: ctx.transferMemory.forConnection(),
      unauthenticatedMaxMessageBytes: PRE_AUTH_MAX_BYTES,
    }),
  );
  const session = startSession(transport, ctx, config);
  const stop = () => void session.close();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const info = await session.closed;
  return endedAbnormally(info, transport.hangUpError) ? 1 : 0;
}

/**
 * Exit 1 (README): bad bytes, the idle timeout, or the agent hanging up on its host (no
 * authentication in time, a wrong token, another protocol). Such a hang-up closes the
 * connection in an orderly way, so only the Error the agent sent before it tells. A host
 * that closes, even abruptly, ends the connection normally.
 */
function endedAbnormally(info: CloseInfo, hangUp: WireError | null): boolean {
  if (hangUp) return true;
  return info.error !== undefined && info.error.code !== 'TRANSPORT_DISCONNECTED';
}

/** How long a stopping agent lets its serial session close gracefully before it resets it. */
const SERIAL_STOP_GRACE_MS = 3000;

/** One host at a time over a serial line; after each session the line is listened on again. */
async function serveSerial(ctx: AgentContext, config: AgentConfig & { mode: { kind: 'serial' } }): Promise<number> {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort()).once('SIGTERM', () => stop.abort());
  log(`axagent ${AGENT_VERSION} serving ${config.mode.device} at ${config.mode.baud} baud (store ${config.storeDir})`);
  // A wrong or busy port at start-up is an error (exit 5); once it has been served, a port that
  // is gone (a cable or adapter pulled long enough to end the session) is waited for.
  let served = false;
  while (!stop.signal.aborted) {
    let transport;
    try {
      transport = await openSerialTransport(config.mode.device, config.mode.baud, {
        signal: stop.signal,
        idleTimeoutMs: config.idleTimeoutMs,
        unauthenticatedMaxMessageBytes: PRE_AUTH_MAX_BYTES,
        waitForPort: served,
        onPortWait: (err) => log(`${err.message}; waiting for it to come back`),
      });
      served = true;
    } catch (err) {
      if (stop.signal.aborted) break;
      throw err;
    }
    const session = startSession(watchAuthentication(transport), ctx, config);
    // A graceful close waits for the host's FIN for up to the transport's close timeout,
    // sized to drain a full queue at the line rate (59 s at 115200 baud): a host that is gone
    // (cable out, killed) would hold the stop that long. Past a short grace, RESET instead.
    const onStop = () => {
      void session.close();
      setTimeout(() => transport.destroy(), SERIAL_STOP_GRACE_MS).unref();
    };
    stop.signal.addEventListener('abort', onStop);
    await session.closed;
    stop.signal.removeEventListener('abort', onStop);
    await transport.released;
  }
  log('stopping');
  return 0;
}
