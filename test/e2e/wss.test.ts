/**
 * verify over wss:// end to end: a real agent behind a TLS proxy on loopback with a
 * self-signed certificate, the CLI as a child process. Its connect errors are one line with
 * a hint (wss:// to a plain agent printed OpenSSL's words over two lines), and the hint for
 * an untrusted certificate, NODE_EXTRA_CA_CERTS, is what makes it work.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_OPENSSL, listenTls, makeSelfSigned, type SelfSigned } from '../transport/tls-fixture';
import { Cleanup, makeFixture, runCli, startAgent, tempDir, type Agent, type Fixture } from './helpers';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

let agent: Agent;
let fx: Fixture;
let dir: string;
let pair: SelfSigned;
let proxyPort = 0;

beforeAll(async () => {
  agent = await startAgent(cleanup);
  dir = await tempDir(cleanup);
  fx = await makeFixture(path.join(dir, 'data'), 'classifier');
  if (!HAS_OPENSSL) return;
  pair = makeSelfSigned(dir);
  // TLS in front of the agent, as a reverse proxy would put it.
  const agentPort = Number(new URL(agent.url).port);
  const proxy = await listenTls(pair, (tlsSocket) => {
    const upstream = net.connect(agentPort, '127.0.0.1');
    tlsSocket.pipe(upstream).pipe(tlsSocket);
    tlsSocket.on('error', () => upstream.destroy());
    upstream.on('error', () => tlsSocket.destroy());
  });
  cleanup.add(proxy.close);
  proxyPort = proxy.port;
});

function verify(board: string, env: NodeJS.ProcessEnv = {}) {
  return runCli(['verify', '--board', board, '--model', fx.model, '--gt', fx.gt, '--token-file', agent.tokenFile, '--json'], { cwd: dir, env });
}

/** The one stderr line and the JSON error of a verify that could not connect (exit 5). */
function connectFailure(run: Awaited<ReturnType<typeof runCli>>): { code: string; hint: string } {
  expect(run.code).toBe(5);
  expect(run.stderr.split('\n')).toHaveLength(2);
  const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } };
  expect(run.stderr).toBe(`axctl: ${error.message} (${error.hint})\n`);
  return error;
}

describe('verify --board wss://', () => {
  it('to the plain ws:// agent: one line saying to use ws://', async () => {
    const port = new URL(agent.url).port;
    const error = connectFailure(await verify(`wss://127.0.0.1:${port}`));
    expect(error.code).toBe('CONNECT_NOT_TLS');
    expect(error.hint).toContain(`use ws://127.0.0.1:${port}`);
  });

  it.skipIf(!HAS_OPENSSL)('with a self-signed certificate: refused, and trusted with NODE_EXTRA_CA_CERTS as the hint says', async () => {
    const error = connectFailure(await verify(`wss://127.0.0.1:${proxyPort}`));
    expect(error.code).toBe('CONNECT_TLS_CERT');
    expect(error.hint).toContain('NODE_EXTRA_CA_CERTS');
    const trusted = await verify(`wss://127.0.0.1:${proxyPort}`, { NODE_EXTRA_CA_CERTS: pair.certFile });
    expect(trusted.stderr).toBe('');
    expect(JSON.parse(trusted.stdout)).toMatchObject({ verdict: 'match' });
    expect(trusted.code).toBe(0);
  });

  it.skipIf(!HAS_OPENSSL)('by a name the certificate does not list: connect by one it does', async () => {
    const error = connectFailure(await verify(`wss://localhost:${proxyPort}`, { NODE_EXTRA_CA_CERTS: pair.certFile }));
    expect(error.code).toBe('CONNECT_TLS_CERT');
    expect(error.hint).toMatch(/^connect by a name the certificate lists/);
  });
});
