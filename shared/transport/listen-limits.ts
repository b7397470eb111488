/**
 * What a WebSocket listener lets peers hold, so that peers without the token cannot exhaust the
 * agent's memory or file descriptors:
 *
 * - a TCP connection that has not asked for the WebSocket upgrade within `upgradeTimeoutMs` is
 *   closed (Node's own header timeout is 60 s, checked every 30 s: silent sockets stayed ~90 s);
 * - at most `maxConnections` TCP connections are open at once, whatever their state; Node
 *   closes further ones as they come (net.Server.maxConnections);
 * - at most `maxUnauthenticated` upgraded connections wait for their host to authenticate;
 *   further upgrades are refused with HTTP 503;
 * - an unauthenticated connection may send `maxUnauthenticatedBytes` in all (the handshake
 *   takes a few hundred); one byte more ends it. ws assembles a whole message, up to its
 *   16 MiB limit, before anyone sees it, and allows no smaller limit for a connection's first
 *   messages than for the rest, so the bytes are counted as the socket reads them: a peer
 *   without the token holds at most this much plus one socket read.
 *
 * Only the connection's owner knows when its host has authenticated: it says so with
 * WebSocketTransport.authenticated(), which lifts the last two limits for that connection.
 */
import type * as http from 'node:http';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AxError } from '../errors';
import { ProtocolError } from '../protocol/errors';

export interface ListenLimits {
  /** TCP connections open at once, authenticated or not. */
  maxConnections: number;
  /** A connection that has not asked for the WebSocket upgrade by then is closed. */
  upgradeTimeoutMs: number;
  /** Upgraded connections whose host has not authenticated yet, at once (Infinity: no limit). */
  maxUnauthenticated: number;
  /** Bytes an unauthenticated connection may send after the upgrade request (Infinity: no limit). */
  maxUnauthenticatedBytes: number;
}

/** Without authentication limits: a listener whose owner never calls authenticated() still works. */
export const LISTEN_DEFAULTS: ListenLimits = {
  maxConnections: 64,
  upgradeTimeoutMs: 10_000,
  maxUnauthenticated: Infinity,
  maxUnauthenticatedBytes: Infinity,
};

/** What the gate needs of a connection it holds until authentication. */
export interface HeldConnection {
  readonly peer: string;
  once(event: 'close', listener: () => void): unknown;
  destroy(error?: AxError): void;
}

export class ListenGate {
  private readonly upgradeTimers = new Map<Duplex, NodeJS.Timeout>();
  private readonly unauthenticated = new Set<HeldConnection>();

  /** `refused` hears, in one line, of every connection closed or refused by a limit. */
  constructor(server: http.Server, private readonly limits: ListenLimits, private readonly refused: (why: string) => void) {
    server.maxConnections = limits.maxConnections;
    // Node >= 18.6 says when it closed a connection over maxConnections.
    server.on('drop', (data?: net.DropArgument) => {
      this.refused(`refused a connection from ${data?.remoteAddress ?? 'somewhere'}: ${limits.maxConnections} connections are open, the most this agent takes`);
    });
    server.on('connection', (socket: net.Socket) => {
      const timer = setTimeout(() => {
        this.upgradeTimers.delete(socket);
        this.refused(`closed a connection from ${socket.remoteAddress ?? 'somewhere'}: no WebSocket upgrade within ${limits.upgradeTimeoutMs} ms`);
        socket.destroy();
      }, limits.upgradeTimeoutMs);
      this.upgradeTimers.set(socket, timer);
      socket.once('close', () => this.stopUpgradeTimer(socket));
    });
  }

  /**
   * A connection asks for the upgrade: true when it may have it. Otherwise it has been
   * answered 503 and closed.
   */
  admitUpgrade(socket: Duplex, remoteAddress: string): boolean {
    this.stopUpgradeTimer(socket);
    if (this.unauthenticated.size < this.limits.maxUnauthenticated) return true;
    this.refused(`refused a connection from ${remoteAddress}: ${this.unauthenticated.size} connections are waiting to authenticate, the most this agent takes`);
    const body = 'axagent: too many connections are waiting to authenticate; try again shortly\n';
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nRetry-After: 5\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return false;
  }

  /**
   * Counts `connection` among the unauthenticated, and what `socket` receives against their
   * byte limit, until the returned function is called (its host authenticated) or it closes.
   */
  holdUntilAuthenticated(connection: HeldConnection, socket: Duplex): () => void {
    this.unauthenticated.add(connection);
    const { maxUnauthenticatedBytes } = this.limits;
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxUnauthenticatedBytes) return;
      release();
      connection.destroy(new ProtocolError('PROTO_PREAUTH_TOO_LARGE', `${connection.peer} sent more than ${maxUnauthenticatedBytes} bytes before authenticating (the handshake takes a few hundred)`));
    };
    const release = () => {
      this.unauthenticated.delete(connection);
      socket.off('data', count);
    };
    if (Number.isFinite(maxUnauthenticatedBytes)) socket.on('data', count);
    connection.once('close', release);
    return release;
  }

  /** The listener stops: no timer may keep the process alive. */
  close(): void {
    for (const timer of this.upgradeTimers.values()) clearTimeout(timer);
    this.upgradeTimers.clear();
  }

  private stopUpgradeTimer(socket: Duplex): void {
    const timer = this.upgradeTimers.get(socket);
    if (timer) clearTimeout(timer);
    this.upgradeTimers.delete(socket);
  }
}
