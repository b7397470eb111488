/**
 * Ctrl-C while deploy or verify is still connecting: the attempt is given up at once and the
 * CLI exits 130, instead of waiting out --connect-timeout. Against a port that accepts TCP and
 * never answers, and one that completes the WebSocket upgrade and then says nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listenWebSocket } from '../../shared/transport/websocket';
import { generateKey } from '../ssh/sshd';
import { Cleanup, makeFixture, requireBuild, runCli, tempDir } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

/** Far longer than the test may take: only an abort ends the attempt in time. */
const CONNECT_TIMEOUT_S = '300';

async function silentTcp(onConnection: () => void): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    onConnection();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

async function silentWebSocket(onHello: () => void): Promise<string> {
  const listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (transport) => {
    transport.once('message', onHello); // the CLI's ClientHello, never answered
    cleanup.add(() => transport.destroy());
  });
  cleanup.add(() => listener.close());
  return listener.url;
}

/** An "SSH server" that accepts TCP and never sends its banner: the login waits. */
async function silentSsh(onConnection: () => void): Promise<string> {
  return (await silentTcp(onConnection)).replace(/^ws:/, 'ssh:').replace('//', '//root@');
}

async function interruptedWhileConnecting(command: 'deploy' | 'verify', listen: (connecting: () => void) => Promise<string>, extra: (dir: string) => Promise<string[]> = async () => []) {
  const dir = await tempDir(cleanup);
  const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
  const token = path.join(dir, 'token');
  await fsp.writeFile(token, 'a-token-of-sufficient-length\n', { mode: 0o600 });
  let child: ChildProcess | undefined;
  let connecting = false;
  const url = await listen(() => {
    connecting = true;
    child?.kill('SIGINT');
  });
  const result = await runCli([command, '--board', url, '--model', fx.model, '--gt', fx.gt, '--token-file', token, '--connect-timeout', CONNECT_TIMEOUT_S, ...(await extra(dir))], {
    cwd: dir,
    onSpawn: (spawned) => (child = spawned),
    timeoutMs: 40_000,
  });
  expect(connecting).toBe(true);
  return result;
}

describe('Ctrl-C while connecting', () => {
  it('deploy to a port that accepts TCP and never answers: exits 130 at once', async () => {
    const result = await interruptedWhileConnecting('deploy', silentTcp);
    expect(result).toMatchObject({ code: 130, signal: null });
    expect(result.stderr).toMatch(/interrupted; stopping/);
    expect(result.stderr).not.toMatch(/CONNECT_TIMEOUT|no connection after/);
  });

  it('verify to an ssh:// board whose SSH server never answers: exits 130 at once, the login given up', async () => {
    const started = Date.now();
    const result = await interruptedWhileConnecting('verify', silentSsh, async (dir) => {
      const key = await generateKey(dir, 'id_test', 'ed25519');
      return ['--identity', key.file, '--known-hosts', path.join(dir, 'known_hosts')];
    });
    expect(result).toMatchObject({ code: 130, signal: null });
    expect(result.stderr).toMatch(/verify interrupted/);
    expect(result.stderr).not.toMatch(/CONNECT_TIMEOUT|SSH_CONNECT/);
    expect(Date.now() - started).toBeLessThan(30_000); // not the 300 s of --connect-timeout
  });

  it('verify against a WebSocket that never answers the hello: exits 130 at once', async () => {
    const result = await interruptedWhileConnecting('verify', silentWebSocket);
    expect(result).toMatchObject({ code: 130, signal: null });
    expect(result.stderr).toMatch(/verify interrupted/);
    expect(result.stderr).not.toMatch(/no complete handshake/);
  });
});
