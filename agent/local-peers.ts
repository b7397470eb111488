/**
 * The store owner's side of store-owner.ts: connections from other agent processes of the
 * same store (each one a host's connection, relayed), served like any other.
 */
import type * as net from 'node:net';
import { StreamTransport } from '../shared/transport/stream';
import type { AgentConfig } from './config';
import type { AgentContext } from './session/context';
import { AgentSession } from './session/session';

/** Connections that come while the store is still being opened wait for it. */
export class LocalPeers {
  private ctx: AgentContext | null = null;
  private readonly waiting: net.Socket[] = [];
  private readonly sessions = new Set<AgentSession>();

  constructor(private readonly config: AgentConfig) {}

  readonly accept = (socket: net.Socket): void => {
    if (this.ctx) this.start(this.ctx, socket);
    else this.waiting.push(socket);
  };

  serve(ctx: AgentContext): void {
    this.ctx = ctx;
    for (const socket of this.waiting.splice(0)) this.start(ctx, socket);
  }

  /** Resolves once no relayed session is open. */
  async drained(): Promise<void> {
    while (this.sessions.size > 0) await Promise.race([...this.sessions].map((s) => s.closed));
  }

  async close(): Promise<void> {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  private start(ctx: AgentContext, socket: net.Socket): void {
    // A unix socket: written bytes are in the kernel when the write calls back.
    const transport = StreamTransport.overDuplex(socket, { peer: 'a relayed connection', idleTimeoutMs: this.config.idleTimeoutMs, outputCopies: true });
    const session = new AgentSession(transport, ctx, { authTimeoutMs: this.config.authTimeoutMs });
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
  }
}
