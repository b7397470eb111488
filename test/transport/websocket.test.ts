/** WebSocketTransport: the contract over a real ws server on loopback, plus what only it has. */
import * as http from 'node:http';
import * as net from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../shared/transport/transport';
import { connectWebSocket, listenWebSocket, type WebSocketListener } from '../../shared/transport/websocket';
import { closeOf, transportContract } from './contract';
import { startRelay } from './relay';

transportContract('websocket', async (opts = {}) => {
  let accept: (t: Transport) => void = () => undefined;
  const accepted = new Promise<Transport>((resolve) => (accept = resolve));
  const listener = await listenWebSocket({ host: '127.0.0.1', port: 0, ...opts.b }, (t) => accept(t));
  const relay = await startRelay(listener.port);
  const a = await connectWebSocket(`ws://127.0.0.1:${relay.port}`, opts.a);
  const b = await accepted;
  return {
    a,
    b,
    freeze: relay.freeze,
    stall: relay.stall,
    cleanup: async () => {
      a.destroy();
      b.destroy();
      await relay.close();
      await listener.close();
    },
  };
});

describe('WebSocket transport specifics', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function listen(onTransport: (t: Transport) => void = () => undefined): Promise<WebSocketListener> {
    const listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => {
      cleanups.push(() => t.destroy());
      onTransport(t);
    });
    cleanups.push(() => listener.close());
    return listener;
  }

  it('closes with PROTO_BAD_MAGIC when a binary message is not a frame', async () => {
    let closed!: Promise<unknown>;
    const listener = await listen((t) => (closed = closeOf(t)));
    const raw = new WebSocket(listener.url);
    cleanups.push(() => raw.terminate());
    await new Promise((r) => raw.once('open', r));
    raw.send(Buffer.from('GET / HTTP/1.1'));
    await new Promise((r) => setTimeout(r, 10));
    expect(await closed).toMatchObject({ reason: 'error', error: { code: 'PROTO_BAD_MAGIC' } });
  });

  it('closes with PROTO_BAD_MESSAGE on a text message', async () => {
    let closed!: Promise<unknown>;
    const listener = await listen((t) => (closed = closeOf(t)));
    const raw = new WebSocket(listener.url);
    cleanups.push(() => raw.terminate());
    await new Promise((r) => raw.once('open', r));
    raw.send('hello');
    await new Promise((r) => setTimeout(r, 10));
    expect(await closed).toMatchObject({ reason: 'error', error: { code: 'PROTO_BAD_MESSAGE' } });
  });

  it('answers a plain HTTP request with 426 and a word on what the port is', async () => {
    const listener = await listen();
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`http://127.0.0.1:${listener.port}/`, resolve));
    const body = await new Promise<string>((resolve) => {
      let text = '';
      res.on('data', (d) => (text += d)).on('end', () => resolve(text));
    });
    expect(res.statusCode).toBe(426);
    expect(body).toContain('axagent');
  });

  it('reports a connection that dies without a close handshake as remote with TRANSPORT_DISCONNECTED', async () => {
    let server!: Transport;
    const listener = await listen((t) => (server = t));
    const relay = await startRelay(listener.port);
    cleanups.push(() => relay.close());
    const client = await connectWebSocket(`ws://127.0.0.1:${relay.port}`);
    cleanups.push(() => client.destroy());
    const closed = closeOf(client);
    while (!server) await new Promise((r) => setTimeout(r, 5));
    await relay.close();
    expect(await closed).toMatchObject({ reason: 'remote', error: { code: 'TRANSPORT_DISCONNECTED' } });
  });

  it('fails to connect with a ConnectError and a hint: refused, timeout, not a WebSocket', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await expect(connectWebSocket(`ws://127.0.0.1:${freePort}`)).rejects.toMatchObject({ code: 'CONNECT_REFUSED', exitCode: 5, hint: expect.stringContaining('axagent') });

    const silent = net.createServer((s) => cleanups.push(() => s.destroy()));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    // The board is up and took the connection: the hint is about the agent, not cables.
    await expect(connectWebSocket(`ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { connectTimeoutMs: 200 })).rejects.toMatchObject({
      code: 'CONNECT_TIMEOUT',
      exitCode: 5,
      message: expect.stringContaining('connected, but no WebSocket answer after 200 ms'),
      hint: expect.stringContaining('stopped or overloaded axagent'),
    });

    const web = http.createServer((_req, res) => res.end('a web page'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => web.close(() => r())));
    await expect(connectWebSocket(`ws://127.0.0.1:${(web.address() as net.AddressInfo).port}`)).rejects.toMatchObject({ code: 'CONNECT_NOT_AGENT', exitCode: 5 });
  });

  it('refuses to listen on a port in use with LISTEN_FAILED', async () => {
    const first = await listen();
    await expect(listenWebSocket({ host: '127.0.0.1', port: first.port }, () => undefined)).rejects.toMatchObject({ code: 'LISTEN_FAILED', exitCode: 2 });
  });
});
