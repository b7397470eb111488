/**
 * A real OpenSSH server on loopback for the SSH tests (see /work/shared/reference/test-rig.md):
 * a temp folder with a host key, authorized_keys holding a generated client key, an
 * sshd_config, and `/usr/sbin/sshd -D -e -f CONFIG` on a free port. It runs commands as the
 * user running the tests (root here), so the agent and the board simulator can be started
 * through it. Every server a test starts must be stopped by it (stop()).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';
export type KeyType = 'ed25519' | 'rsa' | 'ecdsa';

export interface KeyPair {
  /** Private key file (OpenSSH format, no passphrase). */
  file: string;
  /** The public key line: `ssh-ed25519 AAAA... comment`. */
  publicLine: string;
}

export interface Sshd {
  port: number;
  dir: string;
  hostKeys: KeyPair[];
  /** A client key the server accepts. */
  clientKey: KeyPair;
  /** A known_hosts file (in `dir`) that lists this server's host keys as [127.0.0.1]:PORT. */
  knownHosts: string;
  /** ssh://USER@127.0.0.1:PORT */
  url: string;
  user: string;
  /** What sshd wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Host key types to generate and serve (default ['ed25519']). */
  hostKeyTypes?: KeyType[];
  /** Use these host key files instead of generating new ones (to restart "the same" server). */
  hostKeys?: KeyPair[];
  clientKeyType?: KeyType;
  /** Also accepted by the server, besides the generated client key. */
  extraAuthorizedKeys?: string[];
  /** Extra sshd_config lines. */
  config?: string[];
}

export function sshdAvailable(): boolean {
  return existsSync(SSHD);
}

export async function generateKey(dir: string, name: string, type: KeyType, passphrase = ''): Promise<KeyPair> {
  const file = path.join(dir, name);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  await run('ssh-keygen', ['-q', '-t', type, ...bits, '-N', passphrase, '-C', `${name}@axctl-test`, '-f', file]);
  return { file, publicLine: (await fsp.readFile(`${file}.pub`, 'utf8')).trim() };
}

/** Below Linux's ephemeral range (32768–60999): no bind(0) or outgoing connection takes these. */
const FIXED_PORTS = { from: 20000, to: 32000 };

/**
 * A TCP port nobody listens on right now, for a server that must be told its port (sshd cannot
 * report the port it got for 0; an installed agent's service port). Picked at random below the
 * ephemeral range: a port from bind(0) could be handed to another test's listener or outgoing
 * connection (there are hundreds in a full run) before our server binds it; these only to
 * another caller of freePort, a 1-in-12000 chance that the callers' retries cover.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = FIXED_PORTS.from + Math.floor(Math.random() * (FIXED_PORTS.to - FIXED_PORTS.from));
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  await fsp.mkdir('/run/sshd', { recursive: true }); // else: "Missing privilege separation directory"
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-sshd-'));
  const hostKeys = opts.hostKeys ?? (await Promise.all((opts.hostKeyTypes ?? ['ed25519']).map((t) => generateKey(dir, `host_${t}`, t))));
  const clientKey = await generateKey(dir, 'client_key', opts.clientKeyType ?? 'ed25519');
  const authorized = path.join(dir, 'authorized_keys');
  await fsp.writeFile(authorized, [clientKey.publicLine, ...(opts.extraAuthorizedKeys ?? [])].join('\n') + '\n');
  const user = os.userInfo().username;
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    await fsp.writeFile(config, [
      // sshd takes the first value it reads for a keyword: the test's own lines go first.
      ...(opts.config ?? []),
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...hostKeys.map((k) => `HostKey ${k.file}`),
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'PermitRootLogin prohibit-password',
      'LogLevel VERBOSE',
      'Subsystem sftp internal-sftp',
    ].join('\n') + '\n');
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const up = await waitForBanner(port, child, () => log);
    if (!up) {
      await stopChild(child, exited);
      if (attempt < 3 && /Address already in use/.test(log)) continue;
      await fsp.rm(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start: ${log}`);
    }
    const knownHosts = path.join(dir, 'known_hosts');
    await fsp.writeFile(knownHosts, hostKeys.map((k) => `[127.0.0.1]:${port} ${k.publicLine.split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n');
    return {
      port,
      dir,
      hostKeys,
      clientKey,
      knownHosts,
      url: `ssh://${user}@127.0.0.1:${port}`,
      user,
      log: () => log,
      stop: async () => {
        await stopChild(child, exited);
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** True once our sshd listens on `port` and greets with its SSH banner; false if it exits or never does. */
async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('data', (d: Buffer) => done(d.toString().startsWith('SSH-2.0-')));
      socket.once('error', () => done(false));
      socket.setTimeout(2000, () => done(false));
    });
    // The banner alone does not say whose: another test's sshd that took the port first
    // greets too (our own then failed to bind). Ours says it listens.
    if (greeted && log().includes(`Server listening on 127.0.0.1 port ${port}.`)) return true;
    if (/Address already in use/.test(log())) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** An ssh-agent on a socket in `dir`, holding `keys`; stop() ends it. */
export async function startSshAgent(dir: string, keys: string[]): Promise<{ socket: string; stop(): Promise<void> }> {
  const socket = path.join(dir, `agent-${process.pid}-${Date.now()}.sock`);
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('ssh-agent did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const key of keys) await run('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  return {
    socket,
    stop: async () => {
      await stopChild(child, exited);
      await fsp.rm(socket, { force: true });
    },
  };
}
