/** StreamTransport: the contract over a real socket pair, plus over a child process's stdio. */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamTransport } from '../../shared/transport/stream';
import type { Transport } from '../../shared/transport/transport';
import { closeOf, nextMessages, transportContract } from './contract';
import { startRelay } from './relay';

transportContract('stream (TCP socket pair)', async (opts = {}) => {
  let accept: (t: Transport) => void = () => undefined;
  const accepted = new Promise<Transport>((resolve) => (accept = resolve));
  const server = net.createServer((socket) => accept(StreamTransport.overDuplex(socket, { peer: 'accepted', ...opts.b })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const relay = await startRelay((server.address() as net.AddressInfo).port);
  const socket = net.connect({ host: '127.0.0.1', port: relay.port, noDelay: true });
  await new Promise((r) => socket.once('connect', r));
  const a = StreamTransport.overDuplex(socket, { peer: 'connected', ...opts.a });
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
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
});

describe('stream transport specifics', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function socketPair(): Promise<{ raw: net.Socket; transport: StreamTransport }> {
    let accepted!: (s: net.Socket) => void;
    const got = new Promise<net.Socket>((r) => (accepted = r));
    const server = net.createServer((s) => accepted(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    cleanups.push(() => raw.destroy());
    const transport = StreamTransport.overDuplex(await got, { peer: 'test' });
    cleanups.push(() => transport.destroy());
    return { raw, transport };
  }

  it('refuses what a shell prints instead of frames with PROTO_BAD_MAGIC naming the text', async () => {
    const { raw, transport } = await socketPair();
    const closed = closeOf(transport);
    raw.write('sh: axagent: not found\n');
    const info = await closed;
    expect(info).toMatchObject({ reason: 'error', error: { code: 'PROTO_BAD_MAGIC' } });
    expect(info.error?.message).toContain('sh: axagent: not found');
  });

  it('reports a stream that ends inside a frame as PROTO_TRUNCATED', async () => {
    const { raw, transport } = await socketPair();
    const closed = closeOf(transport);
    raw.end(Buffer.from([0x41, 0x58, 1, 0, 0, 0, 0, 10, 1, 2]));
    expect(await closed).toMatchObject({ reason: 'error', error: { code: 'PROTO_TRUNCATED' } });
  });

  it("works over a child process's stdin/stdout, ending the child's input on close", async () => {
    const echo = path.resolve(__dirname, '../fixtures/agent/frame-echo.js');
    const child = spawn(process.execPath, [echo], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(() => void child.kill());
    const transport = new StreamTransport(child.stdout, child.stdin, { peer: 'child' });
    const replies = nextMessages(transport, 3);
    for (const word of ['one', 'two', 'three']) await transport.send(Buffer.from(word));
    expect((await replies).map((m) => Buffer.from(m).toString())).toEqual(['ONE', 'TWO', 'THREE']);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await transport.close();
    expect(await exited).toBe(0);
  });
});
