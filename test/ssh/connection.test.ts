/**
 * openSsh against a real OpenSSH server on loopback: commands, host key checking (unknown,
 * accepted, changed, revoked), key authentication (file, ssh-agent, wrong key), SFTP transfers
 * and jump hosts.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError, isAxError, type AxError } from '../../shared/errors';
import { openSsh, type SshConnection } from '../../host/ssh/connection';
import { fingerprint } from '../../host/ssh/known-hosts';
import { startRelay } from './helpers';
import { generateKey, startSshAgent, startSshd, type Sshd } from './sshd';

let board: Sshd;
let gateway: Sshd;
let dir: string;
const open: SshConnection[] = [];

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-ssh-conn-'));
  [board, gateway] = await Promise.all([startSshd({ hostKeyTypes: ['ed25519', 'rsa', 'ecdsa'] }), startSshd()]);
});

afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await Promise.all([board?.stop(), gateway?.stop()]);
  await fsp.rm(dir, { recursive: true, force: true });
});

async function connect(opts: Partial<Parameters<typeof openSsh>[0]> = {}): Promise<SshConnection> {
  const conn = await openSsh({ url: board.url, identity: board.clientKey.file, knownHosts: board.knownHosts, agentSocket: null, ...opts });
  open.push(conn);
  return conn;
}

async function failure(promise: Promise<unknown>): Promise<AxError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(isAxError(err)).toBe(true);
  return err as AxError;
}

/**
 * A port that takes TCP connections and never says a word (an SSH server that hangs before its
 * banner). `connected` resolves on the first connection; `closed` when that socket has been
 * closed by the client.
 */
async function silentServer(): Promise<{ port: number; connected: Promise<void>; closed: Promise<void>; connections: () => number; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  let onConnected: () => void = () => undefined;
  let onClosed: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.resume(); // read (and drop) whatever comes: only a socket that reads sees the peer's FIN
    socket.once('close', onClosed);
    onConnected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connected,
    closed,
    connections: () => sockets.length,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `test` against a fresh silent server, closed afterwards however the test ended. */
async function withSilentServer(test: (silent: Awaited<ReturnType<typeof silentServer>>) => Promise<void>): Promise<void> {
  const silent = await silentServer();
  try {
    await test(silent);
  } finally {
    await silent.close();
  }
}

/** `promise`, or a failure saying `what` after `ms`. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer!: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function publicKeyBlob(line: string): Buffer {
  return Buffer.from(line.split(' ')[1]!, 'base64');
}

describe('openSsh', () => {
  it('runs commands and reports their status, output and signal', async () => {
    const ssh = await connect();
    expect(await ssh.exec("printf 'a b'; echo oops >&2; exit 3")).toEqual({ code: 3, signal: null, stdout: 'a b', stderr: 'oops\n' });
    expect(await ssh.exec('cat', { stdin: 'through stdin' })).toMatchObject({ code: 0, stdout: 'through stdin' });
    expect(await ssh.exec('kill -ABRT $$')).toMatchObject({ code: null, signal: 'SIGABRT' });
    const slow = await failure(ssh.exec('sleep 5', { timeoutMs: 300 }));
    expect(slow.code).toBe('SSH_EXEC_TIMEOUT');
  });

  it('refuses an unknown host, printing its SHA256 fingerprint and how to accept it', async () => {
    const empty = path.join(dir, 'empty_known_hosts');
    const err = await failure(connect({ knownHosts: empty }));
    expect(err.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(err.exitCode).toBe(5);
    const fingerprints = board.hostKeys.map((k) => fingerprint(publicKeyBlob(k.publicLine)));
    expect(fingerprints.some((f) => err.message.includes(f))).toBe(true);
    expect(err.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}\b/);
    expect(err.hint).toContain('--accept-new-host-key');
    await expect(fsp.access(empty)).rejects.toThrow();
  });

  it('adds an unknown host key with acceptNewHostKey, then knows it', async () => {
    const file = path.join(dir, 'accept', 'known_hosts');
    const ssh = await connect({ knownHosts: file, acceptNewHostKey: true });
    expect((await ssh.exec('echo hi')).stdout).toBe('hi\n');
    const text = await fsp.readFile(file, 'utf8');
    const [name, type, key] = text.trim().split(' ');
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(name).toBe(`[127.0.0.1]:${board.port}`);
    expect(board.hostKeys.map((k) => k.publicLine.split(' ').slice(0, 2).join(' '))).toContain(`${type} ${key}`);
    expect((await fsp.stat(file)).mode & 0o777).toBe(0o600);
    await ssh.close();
    // Known now: no second line, and no need to accept again.
    await (await connect({ knownHosts: file })).close();
    expect(await fsp.readFile(file, 'utf8')).toBe(text);
  });

  it('always refuses a changed host key, even with acceptNewHostKey', async () => {
    const other = await generateKey(dir, 'impostor', 'ed25519');
    const file = path.join(dir, 'changed_known_hosts');
    await fsp.writeFile(file, `# a comment\n[127.0.0.1]:${board.port} ${other.publicLine}\n`);
    const err = await failure(connect({ knownHosts: file, acceptNewHostKey: true }));
    expect(err.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(err.message).toContain(`${file}:2`);
    expect(err.hint).toContain(`ssh-keygen -f ${file} -R '[127.0.0.1]:${board.port}'`);
    expect(await fsp.readFile(file, 'utf8')).toContain(other.publicLine);
    expect((await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('checks the key type known_hosts lists, for each of ed25519, rsa and ecdsa, hashed or not', async () => {
    for (const key of board.hostKeys) {
      const file = path.join(dir, `only_${path.basename(key.file)}`);
      const [type, blob] = key.publicLine.split(' ');
      const salt = randomBytes(20);
      const mac = createHmac('sha1', salt).update(`[127.0.0.1]:${board.port}`).digest('base64');
      await fsp.writeFile(file, `|1|${salt.toString('base64')}|${mac} ${type} ${blob}\n`);
      const ssh = await connect({ knownHosts: file });
      expect((await ssh.exec('true')).code).toBe(0);
      await ssh.close();
    }
  });

  it('refuses a key marked @revoked', async () => {
    const file = path.join(dir, 'revoked_known_hosts');
    const lines = board.hostKeys.map((k) => `@revoked * ${k.publicLine}`);
    await fsp.writeFile(file, `${lines.join('\n')}\n[127.0.0.1]:${board.port} ${board.hostKeys[0]!.publicLine}\n`);
    expect((await failure(connect({ knownHosts: file }))).code).toBe('SSH_HOST_KEY_REVOKED');
  });

  it('refuses a client key the board does not accept, naming what was tried', async () => {
    const stranger = await generateKey(dir, 'stranger', 'ed25519');
    const err = await failure(connect({ identity: stranger.file }));
    expect(err.code).toBe('SSH_AUTH_FAILED');
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain(stranger.file);
    expect(err.message).toContain(fingerprint(publicKeyBlob(stranger.publicLine)));
    expect(err.hint).toContain('authorized_keys');
  });

  it('says what is wrong with an identity file that cannot be used', async () => {
    const locked = await generateKey(dir, 'locked', 'ed25519', 'secret words');
    expect((await failure(connect({ identity: locked.file }))).code).toBe('SSH_KEY_ENCRYPTED');
    expect((await failure(connect({ identity: `${locked.file}.pub` }))).code).toBe('SSH_KEY_INVALID');
    expect((await failure(connect({ identity: path.join(dir, 'missing') }))).code).toBe('FILE_NOT_FOUND');
    // A pipe would block the read for ever (nothing writes to it).
    const fifo = path.join(dir, 'identity-fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await failure(connect({ identity: fifo }))).code).toBe('FILE_NOT_REGULAR');
  });

  it('logs in with a key held by an ssh-agent (passphrase-protected on disk)', async () => {
    const locked = await generateKey(dir, 'agent_key', 'ecdsa', 'secret words');
    await fsp.appendFile(path.join(board.dir, 'authorized_keys'), `${locked.publicLine}\n`);
    const askpass = path.join(dir, 'askpass.sh');
    await fsp.writeFile(askpass, "#!/bin/sh\necho 'secret words'\n", { mode: 0o755 });
    const agent = await startSshAgent(dir, []);
    try {
      await new Promise<void>((resolve, reject) =>
        execFile('ssh-add', [locked.file], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } }, (err) => (err ? reject(err) : resolve())),
      );
      const ssh = await connect({ identity: locked.file, agentSocket: agent.socket });
      expect((await ssh.exec('echo agent')).stdout).toBe('agent\n');
      await ssh.close();
    } finally {
      await agent.stop();
    }
  });

  it('logs in with the key file when SSH_AUTH_SOCK names an agent that is gone (not "Failed to connect to agent")', async () => {
    const notASocket = path.join(dir, 'stale-agent.sock');
    await fsp.writeFile(notASocket, '');
    // No --identity: the agent comes first, then ~/.ssh/id_ed25519 (HOME points at a copy of the board's key).
    const home = path.join(dir, 'home-with-key');
    await fsp.mkdir(path.join(home, '.ssh'), { recursive: true });
    await fsp.copyFile(board.clientKey.file, path.join(home, '.ssh', 'id_ed25519'));
    const realHome = process.env.HOME;
    process.env.HOME = home;
    try {
      for (const agentSocket of [path.join(dir, 'no-such-agent.sock'), notASocket]) {
        const ssh = await connect({ identity: undefined, agentSocket });
        expect((await ssh.exec('echo key file')).stdout).toBe('key file\n');
        await ssh.close();
      }
    } finally {
      process.env.HOME = realHome;
    }
  });

  it('close() cuts a connection whose peer went silent, within its grace period', async () => {
    const relay = await startRelay(board.port);
    try {
      const knownHosts = path.join(dir, 'relay_known_hosts');
      const conn = await openSsh({ url: `ssh://${board.user}@127.0.0.1:${relay.port}`, identity: board.clientKey.file, knownHosts, acceptNewHostKey: true, agentSocket: null });
      expect((await conn.exec('echo hi')).stdout).toBe('hi\n');
      relay.blackhole(); // our goodbye is acknowledged by the kernel and never answered
      const started = Date.now();
      const outcome = await Promise.race([conn.close().then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 8000))]);
      expect(outcome).toBe('closed');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await relay.close();
    }
  });

  it('gives up a login the server never answers when the signal aborts, with its reason, and hangs up', async () => {
    await withSilentServer(async (silent) => {
      const abort = new AbortController();
      const login = connect({ url: `ssh://root@127.0.0.1:${silent.port}`, timeoutMs: 120_000, signal: abort.signal });
      await silent.connected;
      abort.abort(new UsageError('CANCELLED', 'interrupted'));
      const err = await failure(login);
      expect(err.code).toBe('CANCELLED');
      await silent.closed; // the client closed its socket rather than leaving it to the 120 s timeout
    });
  });

  it('does not even connect with a signal aborted already', async () => {
    await withSilentServer(async (silent) => {
      const abort = new AbortController();
      abort.abort(new UsageError('CANCELLED', 'interrupted'));
      const err = await failure(connect({ url: `ssh://root@127.0.0.1:${silent.port}`, signal: abort.signal }));
      expect(err.code).toBe('CANCELLED');
      expect(silent.connections()).toBe(0);
    });
  });

  it('reports a refused port as CONNECT_REFUSED', async () => {
    const err = await failure(connect({ url: `ssh://root@127.0.0.1:1` }));
    expect(err.code).toBe('CONNECT_REFUSED');
  });

  it('fails at once, without a stack trace, on a port that closes or resets each connection as soon as it is made', async () => {
    for (const how of ['close', 'reset'] as const) {
      const server = net.createServer((socket) => (how === 'close' ? socket.end() : socket.resetAndDestroy()));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as net.AddressInfo).port;
        for (let i = 0; i < 5; i++) {
          const started = Date.now();
          const err = await failure(connect({ url: `ssh://root@127.0.0.1:${port}`, timeoutMs: 15_000 }));
          expect(Date.now() - started).toBeLessThan(3000); // not the 15 s login timeout
          expect(err.exitCode).toBe(5);
          if (how === 'close') {
            expect(err.code).toBe('CONNECT_CLOSED');
            expect(err.message).toContain('closed the connection before the SSH handshake');
            expect(err.hint).toContain('SSH server');
          } else {
            expect(['CONNECT_RESET', 'CONNECT_CLOSED']).toContain(err.code);
          }
        }
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('moves files over SFTP: atomic upload with mode, resumable put, hashed get', async () => {
    const ssh = await connect();
    const sftp = await ssh.sftp();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const local = path.join(dir, 'blob.bin');
    await fsp.writeFile(local, data);
    const remoteDir = path.join(dir, 'remote', 'a', 'b');
    await sftp.mkdirp(remoteDir);
    const remote = path.posix.join(remoteDir, 'blob.bin');
    const progress: number[] = [];
    await ssh.upload(local, remote, { mode: 0o640, onProgress: (done) => progress.push(done) });
    expect((await fsp.readFile(remote)).equals(data)).toBe(true);
    expect((await fsp.stat(remote)).mode & 0o777).toBe(0o640);
    expect(progress[progress.length - 1]).toBe(data.length);
    expect(await fsp.readdir(remoteDir)).toEqual(['blob.bin']);

    const partial = path.join(remoteDir, 'partial');
    await fsp.writeFile(partial, data.subarray(0, 1000));
    expect(await sftp.put(local, partial, { start: 1000 })).toBe(data.length - 1000);
    expect((await fsp.readFile(partial)).equals(data)).toBe(true);

    const back = path.join(dir, 'back.bin');
    expect(await sftp.get(remote, back, data.length)).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await fsp.readFile(back)).equals(data)).toBe(true);
    expect(await sftp.stat(path.join(remoteDir, 'nothing'))).toBeNull();
  });
});

describe('openSsh through jump hosts', () => {
  it('reaches the board through a gateway, checking both host keys', async () => {
    const knownHosts = path.join(dir, 'both_known_hosts');
    await fsp.writeFile(knownHosts, (await fsp.readFile(board.knownHosts, 'utf8')) + (await fsp.readFile(gateway.knownHosts, 'utf8')));
    await fsp.appendFile(path.join(gateway.dir, 'authorized_keys'), `${board.clientKey.publicLine}\n`);
    const ssh = await connect({ knownHosts, via: [gateway.url] });
    expect(ssh.label).toContain(`via ${gateway.url.replace(/^ssh:\/\//, 'ssh://')}`);
    expect((await ssh.exec('echo through')).stdout).toBe('through\n');
    // Two gateways in a row: the same gateway twice still tunnels hop by hop.
    const twice = await connect({ knownHosts, via: [gateway.url, gateway.url] });
    expect((await twice.exec('echo twice')).code).toBe(0);
    await Promise.all([ssh.close(), twice.close()]);
  });

  it('names the gateway whose host key is unknown', async () => {
    const err = await failure(connect({ via: [gateway.url] }));
    expect(err.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(err.message).toContain(`:${gateway.port}`);
    expect(err.hint).toMatch(/^if that is the key of 127\.0\.0\.1 \(on it: ssh-keygen/); // not "the board's"
  });

  it('gives up the board behind a gateway when the signal aborts, after the gateway logged in', async () => {
    await withSilentServer(async (silent) => {
      const knownHosts = path.join(dir, 'gw_abort_known_hosts');
      await fsp.writeFile(knownHosts, await fsp.readFile(gateway.knownHosts, 'utf8'));
      await fsp.appendFile(path.join(gateway.dir, 'authorized_keys'), `${board.clientKey.publicLine}\n`); // the gateway lets us in
      const abort = new AbortController();
      const login = connect({ url: `ssh://root@127.0.0.1:${silent.port}`, knownHosts, via: [gateway.url], timeoutMs: 120_000, signal: abort.signal });
      // Through the gateway's tunnel (a login that ends first, e.g. refused by the gateway, fails the test here).
      await Promise.race([silent.connected, login.then(() => Promise.reject(new Error('logged in without reaching the board')))]);
      abort.abort(new UsageError('CANCELLED', 'interrupted'));
      expect((await failure(login)).code).toBe('CANCELLED');
      await within(10_000, silent.closed, 'the tunnel to the board was not closed'); // with the gateway's session
    });
  });

  it('fails the login with the gateway as the cause when the gateway link is reset while the board logs in', async () => {
    await withSilentServer(async (silent) => {
      const relay = await startRelay(gateway.port); // the link to the gateway, which the test resets
      try {
        const knownHosts = path.join(dir, 'gw_reset_known_hosts');
        await fsp.writeFile(knownHosts, (await fsp.readFile(gateway.knownHosts, 'utf8')).replace(`]:${gateway.port} `, `]:${relay.port} `));
        await fsp.appendFile(path.join(gateway.dir, 'authorized_keys'), `${board.clientKey.publicLine}\n`);
        const login = connect({ url: `ssh://root@127.0.0.1:${silent.port}`, knownHosts, via: [`ssh://${gateway.user}@127.0.0.1:${relay.port}`], timeoutMs: 120_000 });
        // The board (a port that never answers) is reached through the gateway's tunnel: the gateway logged in.
        await Promise.race([silent.connected, login.then(() => Promise.reject(new Error('logged in without reaching the board')))]);
        relay.cut();
        const err = await within(10_000, failure(login), 'the login did not fail');
        expect(err.code).toBe('SSH_DISCONNECTED');
        expect(err.exitCode).toBe(5);
        expect(err.message).toContain(`:${relay.port}`); // the gateway, not the board
      } finally {
        await relay.close();
      }
    });
  });

  it('says which gateway could not open the tunnel', async () => {
    const knownHosts = path.join(dir, 'gw_known_hosts');
    await fsp.writeFile(knownHosts, await fsp.readFile(gateway.knownHosts, 'utf8'));
    const err = await failure(connect({ url: 'ssh://root@127.0.0.1:1', knownHosts, via: [gateway.url] }));
    expect(err.code).toBe('SSH_TUNNEL_FAILED');
    expect(err.message).toContain(gateway.url.replace(/^ssh:\/\/[^@]+@/, ''));
  });
});
