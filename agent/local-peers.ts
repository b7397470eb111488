/**
 * The store owner's side of store-owner.ts: connections from other agent processes of the
 * same store (each one a host's connection, relayed), served like any other. Light on
 * purpose (no protocol code): a --stdio agent accepts them before it knows whether it will
 * own the store or relay, and one that relays never loads the sessions' code (main.ts).
 */
import type * as net from 'node:net';

/** What LocalPeers needs of a session. */
export interface PeerSession {
  readonly closed: Promise<unknown>;
  close(): Promise<void>;
}

/** Connections that come while the store is still being opened wait for it. */
export class LocalPeers {
  private startSession: ((socket: net.Socket) => PeerSession) | null = null;
  private readonly waiting: net.Socket[] = [];
  private readonly sessions = new Set<PeerSession>();

  readonly accept = (socket: net.Socket): void => {
    if (this.startSession) this.track(this.startSession(socket));
    else this.waiting.push(socket);
  };

  /** From now on each connection (and each that waited) gets a session from `startSession`. */
  serve(startSession: (socket: net.Socket) => PeerSession): void {
    this.startSession = startSession;
    for (const socket of this.waiting.splice(0)) this.track(startSession(socket));
  }

  /** Whether a relayed session is open. */
  get busy(): boolean {
    return this.sessions.size > 0;
  }

  /** Resolves once no relayed session is open. */
  async drained(): Promise<void> {
    while (this.sessions.size > 0) await Promise.race([...this.sessions].map((s) => s.closed));
  }

  async close(): Promise<void> {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  private track(session: PeerSession): void {
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
  }
}
