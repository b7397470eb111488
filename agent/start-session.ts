/** Where the agent makes its sessions: one per connection, whatever carried it. */
import type * as net from 'node:net';
import { SERIAL_CHUNK_BYTES } from '../shared/serial/serial-transport';
import { StreamTransport } from '../shared/transport/stream';
import type { Transport } from '../shared/transport/transport';
import type { AgentConfig } from './config';
import type { AgentContext } from './session/context';
import { WatchedTransport } from './connection-watch';
import { AgentSession, PRE_AUTH_MAX_BYTES } from './session/session';

export function startSession(transport: Transport, ctx: AgentContext, config: AgentConfig, opts: { relayed?: boolean } = {}): AgentSession {
  // A serial line is opened before any host is on it: there the host speaks first. A relayed
  // connection is a host's, whatever line this agent serves.
  const greetFirst = opts.relayed === true || config.mode.kind !== 'serial';
  return new AgentSession(transport, ctx, { authTimeoutMs: config.authTimeoutMs, transferIdleTimeoutMs: transferIdleMs(config), greetFirst });
}

/**
 * --transfer-timeout, but never less than three upload chunks' time on the line: a chunk
 * (SERIAL_CHUNK_BYTES) is the progress the timer sees, and at 38400 baud one takes 68 s.
 */
export function transferIdleMs(config: AgentConfig): number {
  if (config.mode.kind !== 'serial') return config.transferTimeoutMs;
  const chunkMs = ((SERIAL_CHUNK_BYTES * 10) / config.mode.baud) * 1000; // 10 bits a byte (8N1)
  return Math.max(config.transferTimeoutMs, Math.ceil(3 * chunkMs));
}

/** A session for a host's connection that another agent process of this store relays over its unix socket. */
export function startRelayedSession(socket: net.Socket, ctx: AgentContext, config: AgentConfig): AgentSession {
  // A unix socket: written bytes are in the kernel when the write calls back. The session is
  // done with a message's bytes when its handler returns: large frames may use its upload slabs.
  const transport = StreamTransport.overDuplex(socket, {
    peer: 'a relayed connection',
    idleTimeoutMs: config.idleTimeoutMs,
    outputCopies: true,
    receiveBuffers: ctx.transferMemory.forConnection(),
    unauthenticatedMaxMessageBytes: PRE_AUTH_MAX_BYTES,
  });
  return startSession(watchAuthentication(transport), ctx, config, { relayed: true });
}

/**
 * `transport` (a byte stream or serial line whose decoder holds a peer to PRE_AUTH_MAX_BYTES per
 * frame until it authenticates) as the session's, with that limit lifted once AuthOk goes out.
 */
export function watchAuthentication(transport: Transport & { authenticated(): void }): WatchedTransport {
  const watched = new WatchedTransport(transport);
  void watched.authOkSent.then(() => transport.authenticated());
  return watched;
}
