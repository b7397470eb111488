/**
 * What peers without the token can hold of a listening agent (agent/serve-listen.ts,
 * shared/transport/listen-limits.ts), against the agent as its own process over loopback:
 * connections waiting to authenticate, the bytes they may send, sockets that never ask for the
 * WebSocket upgrade, and connections in all.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LISTEN_LIMITS } from '../../agent/serve-listen';
import { openTransport } from '../../host/client/connect';
import type { Transport } from '../../shared/transport/transport';
import { sha256, startAgent, type AgentProcess } from './helpers';

const agents: AgentProcess[] = [];
const sockets: net.Socket[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const transport of transports.splice(0)) transport.destroy();
  for (const agent of agents.splice(0)) await agent.stop();
});

async function agentWith(authTimeoutSeconds: number): Promise<AgentProcess> {
  const agent = await startAgent({ args: ['--auth-timeout', String(authTimeoutSeconds)] });
  agents.push(agent);
  return agent;
}

async function tcp(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined); // the agent may cut it: that is what is tested
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Everything the socket receives until the agent closes it. */
async function untilClosed(socket: net.Socket): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  // Not events.once: a reset ('error') is one of the ways the agent may close it.
  if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
  return text;
}

/** A WebSocket upgrade done by hand, so the test can then send a frame a real client would not. */
async function upgraded(url: string): Promise<net.Socket> {
  const socket = await tcp(url);
  const { host } = new URL(url);
  socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let response = '';
  while (!response.includes('\r\n\r\n')) response += ((await once(socket, 'data')) as [Buffer])[0].toString('latin1');
  expect(response).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

describe('a listening agent and peers without the token', () => {
  it(`lets at most ${LISTEN_LIMITS.maxUnauthenticated} connections wait to authenticate; more are refused (CONNECT_BUSY) and logged`, async () => {
    const agent = await agentWith(60);
    for (let i = 0; i < LISTEN_LIMITS.maxUnauthenticated; i++) transports.push(await openTransport(agent.url));
    await expect(openTransport(agent.url)).rejects.toMatchObject({ code: 'CONNECT_BUSY', exitCode: 5, hint: expect.stringContaining('try again') });
    await vi.waitFor(() => expect(agent.stderr()).toMatch(/refused a connection from 127\.0\.0\.1: 16 connections are waiting to authenticate/));

    // One leaves; a host that authenticates no longer counts, so another may wait again.
    await transports.shift()!.close();
    const client = await vi.waitFor(() => agent.connect(), { timeout: 10_000, interval: 100 });
    transports.push(await openTransport(agent.url));
    await expect(openTransport(agent.url)).rejects.toMatchObject({ code: 'CONNECT_BUSY' });
    // And it may send far more than an unauthenticated peer.
    const large = randomBytes(4 * LISTEN_LIMITS.maxUnauthenticatedBytes);
    expect(await client.putBytes(large, sha256(large))).toMatchObject({ sentBytes: large.length });
    await client.close();
  });

  it(`cuts a connection that sends more than ${LISTEN_LIMITS.maxUnauthenticatedBytes} bytes before authenticating, before its message is whole`, async () => {
    const agent = await agentWith(60);
    const socket = await upgraded(agent.url);
    const closed = untilClosed(socket);
    // A binary frame, masked with a zero key, claiming 8 MiB: then 512 KiB of it, and a stall.
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(8n * 1024n * 1024n, 2);
    socket.write(header);
    for (let i = 0; i < 32; i++) socket.write(Buffer.alloc(16 * 1024));
    await closed;
    await vi.waitFor(() => expect(agent.stderr()).toMatch(/closed \(error: PROTO_PREAUTH_TOO_LARGE: ws:\/\/127\.0\.0\.1:\d+ sent more than 65536 bytes before authenticating/));
  });

  it('closes a TCP connection that does not ask for the WebSocket upgrade within --auth-timeout', async () => {
    const agent = await agentWith(1);
    const silent = await tcp(agent.url);
    const halfHeader = await tcp(agent.url);
    halfHeader.write('GET / HTTP/1.1\r\nHost: x\r\n');
    // Node's own header timeout would hold them 60-90 s: far beyond this bound.
    const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 20_000).unref());
    expect(await Promise.race([untilClosed(silent).then(() => 'closed'), bound])).toBe('closed');
    expect(await Promise.race([untilClosed(halfHeader).then(() => 'closed'), bound])).toBe('closed');
    await vi.waitFor(() => expect(agent.stderr()).toMatch(/closed a connection from 127\.0\.0\.1: no WebSocket upgrade within 1000 ms/));
  });

  it(`takes at most ${LISTEN_LIMITS.maxConnections} connections at once; one more is closed unanswered, and logged`, async () => {
    const agent = await agentWith(60);
    const held: net.Socket[] = [];
    for (let i = 0; i < LISTEN_LIMITS.maxConnections; i++) held.push(await tcp(agent.url));
    // Proof the agent took them all: the last one is answered (and kept open).
    held.at(-1)!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let answer = '';
    while (!answer.endsWith('\r\n0\r\n\r\n')) answer += ((await once(held.at(-1)!, 'data')) as [Buffer])[0].toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 426 /);
    const oneMore = await tcp(agent.url);
    oneMore.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await untilClosed(oneMore)).toBe('');
    await vi.waitFor(() => expect(agent.stderr()).toMatch(/refused a connection from 127\.0\.0\.1: 64 connections are open/));
    for (const socket of held) socket.destroy();
    const client = await vi.waitFor(() => agent.connect(), { timeout: 10_000, interval: 100 });
    await client.close();
  });
});
