/**
 * `axagent --listen`: WebSocket connections, each a session on the store. An agent that
 * starts while another process of the same store owns it (store-owner.ts; e.g. a host's
 * `--stdio` agent over ssh:// while the service restarts) listens at once all the same, relays
 * each connection to the owner (joinTransports) and claims the store every second; once it
 * owns it, it opens the store and serves new connections itself. Relayed connections go on
 * to their end. Until a connection's host has authenticated, the listener's limits hold it
 * (LISTEN_LIMITS): peers without the token cannot pile up memory or sockets.
 */
import * as net from 'node:net';
import { StreamTransport } from '../shared/transport/stream';
import type { Transport } from '../shared/transport/transport';
import { listenWebSocket } from '../shared/transport/websocket';
import { AGENT_VERSION, type AgentConfig } from './config';
import { WatchedTransport } from './connection-watch';
import { joinTransports } from './join-transports';
import type { LocalPeers } from './local-peers';
import type { AgentContext } from './session/context';
import type { AgentSession } from './session/session';
import { startRelayedSession, startSession } from './start-session';
import { claimStore, type StoreClaim } from './store-owner';

const CLAIM_RETRY_MS = 1000;

/**
 * What peers of the port may hold (shared/transport/listen-limits.ts). Sized for a board: a
 * few hosts at a time, well under a file-descriptor limit of 256 with run_joint's pipes and the
 * store's files beside them; unauthenticated peers together hold under 2 MiB (16 × 64 KiB plus
 * a socket read each). The upgrade timeout is the --auth-timeout: the time a peer has anyway.
 */
export const LISTEN_LIMITS = {
  maxConnections: 64,
  maxUnauthenticated: 16,
  maxUnauthenticatedBytes: 64 * 1024,
} as const;

/** Refusals are logged at most this often: a flood of connections must not flood the log. */
const REFUSAL_LOG_MS = 10_000;

export async function serveListening(
  config: AgentConfig & { mode: { kind: 'listen'; host: string; port: number } },
  peers: LocalPeers,
  openStore: () => Promise<AgentContext>,
  log: (line: string) => void,
): Promise<number> {
  let ctx: AgentContext | null = null;
  let failure: unknown = null;
  const sessions = new Set<AgentSession>();
  const relayed = new Set<Transport>();
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', () => stop()).once('SIGTERM', () => stop());

  const own = async () => {
    const opened = await openStore();
    ctx = opened;
    peers.serve((socket) => startRelayedSession(socket, opened, config));
  };
  type Connection = Parameters<Parameters<typeof listenWebSocket>[1]>[0];
  const accept = (connection: Connection, owner: StoreClaim) => {
    // AuthOk on its way out (from our session, or the owner's through a relay) lifts the limits.
    const transport = new WatchedTransport(connection);
    void transport.authOkSent.then(() => connection.authenticated());
    if (ctx) {
      // The session is done with a message's bytes when its handler returns (hold() keeps a
      // chunk by adopting its slab), so large frames may be assembled in its upload slabs. Not
      // for a relayed connection below: joinTransports sends the bytes on, later.
      connection.assembleInLentMemory(ctx.transferMemory.forConnection());
      const session = startSession(transport, ctx, config);
      sessions.add(session);
      void session.closed.then(() => sessions.delete(session));
    } else {
      relay(transport, owner.socketPath, config.idleTimeoutMs, relayed);
    }
  };

  // The port before the store: an agent that cannot listen (the port is taken) must never own
  // the store, not even for a moment: a host's --stdio agent that relayed to it meanwhile (the
  // install check) would be cut off when it exits. Connections in between wait for the claim.
  let claim: StoreClaim | null = null;
  const early: Connection[] = [];
  const limits = { ...LISTEN_LIMITS, upgradeTimeoutMs: config.authTimeoutMs };
  const listenOptions = { host: config.mode.host, port: config.mode.port, idleTimeoutMs: config.idleTimeoutMs, limits, onRefused: refusalLog(log) };
  const listener = await listenWebSocket(listenOptions, (connection) => {
    if (claim) accept(connection, claim);
    else early.push(connection);
  });
  try {
    claim = await claimStore(config.storeDir, peers.accept);
    if (claim.role === 'owner') await own();
    else log(`another agent process owns ${config.storeDir} (${claim.socketPath}); relaying connections to it until it stops`);
  } catch (err) {
    await listener.close();
    throw err;
  }
  for (const connection of early.splice(0)) accept(connection, claim);
  // Announced only once a signal would stop it cleanly (scripts wait for this line).
  log(`axagent ${AGENT_VERSION} listening on ${listener.url} (store ${config.storeDir})`);

  let stopping = false;
  if (claim.role === 'relay') {
    void (async () => {
      while (!stopping) {
        await new Promise((resolve) => setTimeout(resolve, CLAIM_RETRY_MS));
        if (stopping) return;
        const next = await claimStore(config.storeDir, peers.accept);
        if (next.role !== 'owner') continue;
        claim = next;
        await own();
        log(`owns ${config.storeDir} now`);
        return;
      }
    })().catch((err: unknown) => {
      failure = err;
      stop();
    });
  }

  await stopped;
  stopping = true;
  log('stopping');
  await listener.close();
  for (const transport of relayed) transport.destroy();
  await Promise.all([...sessions].map((s) => s.close()));
  await peers.close();
  if (claim.role === 'owner') await claim.release();
  if (failure) throw failure;
  return 0;
}

/** One line per refusal, but at most one per REFUSAL_LOG_MS, saying how many were not logged. */
function refusalLog(log: (line: string) => void): (why: string) => void {
  let loggedAt = -Infinity;
  let unlogged = 0;
  return (why) => {
    const now = performance.now(); // monotonic: a clock set back would silence the log for as long
    if (now - loggedAt < REFUSAL_LOG_MS) {
      unlogged++;
      return;
    }
    log(unlogged > 0 ? `${why} (and ${unlogged} more refused or closed since the last such line)` : why);
    loggedAt = now;
    unlogged = 0;
  };
}

/** Serves `transport` through the owner's socket; a vanished owner ends the connection. */
function relay(transport: Transport, socketPath: string, idleTimeoutMs: number | undefined, relayed: Set<Transport>): void {
  relayed.add(transport);
  const socket = net.connect(socketPath);
  socket.once('error', () => transport.destroy());
  socket.once('connect', () => {
    const owner = StreamTransport.overDuplex(socket, { peer: 'the store owner', ...(idleTimeoutMs !== undefined && { idleTimeoutMs }), outputCopies: true });
    void joinTransports(transport, owner);
  });
  transport.once('close', () => {
    relayed.delete(transport);
    if (!socket.destroyed && socket.connecting) socket.destroy();
  });
}
