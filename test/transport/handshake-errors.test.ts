/**
 * Connect failures below the WebSocket (TLS, HTTP) are one line with a hint, not the
 * library's words: wss:// to a plain ws:// agent printed OpenSSL's "write EPROTO
 * 80...:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/...:350:" and a
 * newline; a self-signed certificate and a peer that is no HTTP server said what, never what to do.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { socketConnectError } from '../../shared/transport/connect-errors';
import { connectWebSocket, listenWebSocket } from '../../shared/transport/websocket';
import { tempDirs } from '../temp-dirs';
import { HAS_OPENSSL, listenTls, makeSelfSigned } from './tls-fixture';

const cleanups: Array<() => unknown> = [];
const dirs = tempDirs('axctl-handshake-');
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  dirs.cleanup();
});

async function refusal(url: string): Promise<AxError> {
  const err = await connectWebSocket(url, { connectTimeoutMs: 5000 }).then(
    (t) => {
      t.destroy();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AxError);
  const ax = err as AxError;
  expect(ax.exitCode).toBe(5);
  expect(ax.describe()).not.toContain('\n');
  expect(ax.hint).toMatch(/\S/);
  return ax;
}

describe('connect failures in TLS and HTTP', () => {
  let plainPort = 0;
  let junkPort = 0;
  beforeAll(async () => {
    const plain = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => t.destroy());
    cleanups.push(() => plain.close());
    plainPort = plain.port;
    // Something else on the port: an SSH server's greeting is no HTTP answer.
    const junk = net.createServer((s) => {
      s.on('error', () => undefined);
      // Read (and drop) what comes, or the client's end is never seen and close() waits for ever.
      s.resume();
      s.end('SSH-2.0-OpenSSH_9.6\r\n');
    });
    await new Promise<void>((resolve) => junk.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => junk.close(resolve)));
    junkPort = (junk.address() as net.AddressInfo).port;
  });

  it('wss:// to a plain ws:// agent: not TLS, use ws://', async () => {
    const err = await refusal(`wss://127.0.0.1:${plainPort}`);
    expect(err.code).toBe('CONNECT_NOT_TLS');
    expect(err.describe()).toBe(`wss://127.0.0.1:${plainPort}: the other end does not speak TLS (the agent speaks ws://, not wss://: use ws://127.0.0.1:${plainPort})`);
  });

  it.skipIf(!HAS_OPENSSL)('wss:// with a self-signed certificate: trust its CA with NODE_EXTRA_CA_CERTS', async () => {
    const server = await listenTls(makeSelfSigned(dirs.make()), (s) => s.destroy());
    cleanups.push(server.close);
    const err = await refusal(`wss://127.0.0.1:${server.port}`);
    expect(err.code).toBe('CONNECT_TLS_CERT');
    expect(err.message).toBe(`wss://127.0.0.1:${server.port}: its TLS certificate is refused (self-signed certificate)`);
    expect(err.hint).toContain('NODE_EXTRA_CA_CERTS=');
  });

  it.skipIf(!HAS_OPENSSL)('ws:// to a TLS port: the hint names the wss:// URL to try', async () => {
    const server = await listenTls(makeSelfSigned(dirs.make()), (s) => s.resume());
    cleanups.push(server.close);
    const err = await refusal(`ws://127.0.0.1:${server.port}`);
    expect(err.hint).toContain(`wss://127.0.0.1:${server.port}`);
  });

  it('a port that answers with something not HTTP: not an agent', async () => {
    const err = await refusal(`ws://127.0.0.1:${junkPort}`);
    expect(err.code).toBe('CONNECT_NOT_AGENT');
    expect(err.describe()).toBe(`ws://127.0.0.1:${junkPort}: answered something that is not HTTP (that port does not speak WebSocket: is it an axagent's --listen port?)`);
  });

  it('any other library message is cut to its first line and gets a hint', () => {
    const err = socketConnectError('ws://b:1', Object.assign(new Error('first line:\nsecond line'), { code: 'ESOMETHING' }));
    expect(err.describe()).toBe('ws://b:1: cannot connect (first line) (check the address and that an axagent listens there)');
  });
});
