/**
 * The ws:// and ssh:// opener reads the token while it connects (a few file-system calls saved
 * from every verify): a token that cannot be used is still the error, at once, and the
 * connection that was being made is cut rather than left to its deadline.
 */
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openBoard } from '../../host/board/open-board';
import '../../host/ssh/register';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('openBoard over ws:// with a token that cannot be used', () => {
  it('fails with the token error at once and closes the connection it was making', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-token-'));
    cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
    const tokenFile = path.join(dir, 'short.token');
    await fsp.writeFile(tokenFile, 'short\n');
    // A board that accepts the TCP connection and never answers the WebSocket upgrade.
    const closed: Promise<void>[] = [];
    const server = net.createServer((socket) => {
      closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as net.AddressInfo;

    const err = await openBoard({ board: `ws://127.0.0.1:${port}`, tokenFile, env: {}, connectTimeoutMs: 120_000 }).then(
      () => null,
      (e: unknown) => e as { code: string },
    );
    expect(err).toMatchObject({ code: 'TOKEN_TOO_SHORT' });
    // Whatever connection had been made is closed now, not at its 120 s deadline (the test's own 20 s would end first).
    await Promise.all(closed);
  }, 20_000);
});
