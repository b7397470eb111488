/**
 * An SSH connection to a board, possibly through jump hosts: each gateway's `forwardOut` tunnel
 * is the socket of the next hop (like `ssh -J`), so nothing is opened on the gateways but a
 * TCP stream. The API is what axctl needs on a board: run a command (exec), stream one
 * (execStream, the agent's stdio), SFTP, an atomic upload, and tunnels (forward).
 *
 *   const ssh = await openSsh({ url: 'ssh://root@10.0.0.2', via: ['ssh://me@gateway'] });
 *   const { code, stdout } = await ssh.exec('uname -m', { timeoutMs: 10_000 });
 *   await ssh.upload('model.joint', '/tmp/model.joint', { mode: 0o644 });
 *   await ssh.close();
 *
 * Every wait has a timeout; failing to connect, log in or trust the host key is a ConnectError
 * (exit 5) with one line and a hint (errors.ts).
 */
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { untilSettled } from '../../shared/abort';
import { ConnectError } from '../../shared/errors';
import { connectionLost, sshConnectError, tunnelRefused } from './errors';
import { connectHop, type HopSettings } from './hop';
import { SftpSession } from './sftp';
import { parseSshUrl, type SshTarget } from './url';

export interface SshOpenOptions {
  /** ssh://[user@]host[:port] of the board. */
  url: string;
  /** Private key file; also tried: the ssh-agent's keys (see auth.ts). */
  identity?: string;
  /** known_hosts file for every hop. Default ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** Add an unknown host key to knownHosts instead of refusing. A changed key is refused anyway. */
  acceptNewHostKey?: boolean;
  /** Jump hosts, ssh://user@gateway, in the order they are passed through. */
  via?: string[];
  /** Deadline per hop (TCP, handshake, login). Default 10 s. */
  timeoutMs?: number;
  /** ssh-agent socket. Default $SSH_AUTH_SOCK; null: no agent. */
  agentSocket?: string | null;
  /** Keepalive interval; 3 unanswered drop the connection. Default 15 s; 0 = off. */
  keepaliveMs?: number;
  /** Gives up the login at once (rejecting with the signal's reason), closing what it opened. */
  signal?: AbortSignal;
}

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed. */
  stdin?: string | Uint8Array;
  /** The command must finish within this. Default 60 s. */
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit status; null when a signal ended the command. */
  code: number | null;
  /** 'SIGABRT'…; null after a normal exit. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const SSH_DEFAULTS = { timeoutMs: 10_000, keepaliveMs: 15_000, execTimeoutMs: 60_000 };
/** How long close() lets the peer answer our goodbye before the connection is cut. */
const CLOSE_GRACE_MS = 2000;

export function defaultKnownHosts(): string {
  return path.join(os.homedir(), '.ssh', 'known_hosts');
}

/** Connects through every gateway in `via`, then to the board. */
export async function openSsh(opts: SshOpenOptions): Promise<SshConnection> {
  const target = parseSshUrl(opts.url);
  const gateways = (opts.via ?? []).map((url) => parseSshUrl(url, 'the jump host'));
  const settings: HopSettings = {
    knownHosts: opts.knownHosts ?? defaultKnownHosts(),
    acceptNewHostKey: opts.acceptNewHostKey ?? false,
    auth: { ...(opts.identity === undefined ? {} : { identity: opts.identity }), ...(opts.agentSocket === undefined ? {} : { agentSocket: opts.agentSocket }) },
    timeoutMs: opts.timeoutMs ?? SSH_DEFAULTS.timeoutMs,
    keepaliveMs: opts.keepaliveMs ?? SSH_DEFAULTS.keepaliveMs,
    ...(opts.signal && { signal: opts.signal }),
  };
  const clients: Client[] = [];
  const socks: Duplex[] = [];
  // A hop that logged in has no 'error' listener of connectHop's any more (SshConnection adds
  // its own only at the end): one is added at once, or a gateway's socket error while the next
  // hop logs in would be an unhandled 'error' event (a crash). What it records is the root
  // cause of the next hop's failure (its tunnel went with the gateway), so it is reported.
  let gatewayLost: ConnectError | null = null;
  try {
    const hops = [...gateways, target];
    let previous: { target: SshTarget; client: Client } | null = null;
    for (const hop of hops) {
      opts.signal?.throwIfAborted();
      const sock: Duplex = previous
        ? await forwardOut(previous.client, previous.target, hop.host, hop.port, settings.timeoutMs, opts.signal)
        : await tcpConnect(hop, settings.timeoutMs, opts.signal);
      const client = await connectHop(hop, sock, settings, previous?.target);
      client.on('error', (err: Error) => (gatewayLost ??= connectionLost(hop, err.message)));
      client.once('close', () => (gatewayLost ??= connectionLost(hop, 'the server closed it')));
      clients.push(client);
      socks.push(sock);
      previous = { target: hop, client };
    }
    return new SshConnection(target, gateways, clients, socks);
  } catch (err) {
    // The hops already logged in: say goodbye, and cut whatever has not closed after the grace
    // (a stalled gateway would hold its socket). Errors while closing no longer matter.
    const reported = opts.signal?.aborted ? err : (gatewayLost ?? err);
    for (const client of [...clients].reverse()) client.end();
    cutAfterGrace(clients, socks);
    throw reported;
  }
}

export class SshConnection {
  /** The board. */
  readonly target: SshTarget;
  /** The jump hosts, in order. */
  readonly gateways: SshTarget[];
  /** Resolves when the connection to the board has ended; with the reason when it broke. */
  readonly closed: Promise<ConnectError | null>;
  private lost: ConnectError | null = null;
  private ended = false;
  private sftpSession: Promise<SftpSession> | null = null;
  private cutTimer: NodeJS.Timeout | null = null;

  /**
   * `socks`: the stream each client runs over (the TCP socket to the first hop, then the
   * tunnels through the gateways), kept so close() can cut them itself (see there).
   */
  constructor(target: SshTarget, gateways: SshTarget[], private readonly clients: Client[], private readonly socks: Duplex[] = []) {
    this.target = target;
    this.gateways = gateways;
    const board = clients[clients.length - 1]!;
    this.closed = new Promise((resolve) => {
      board.on('error', (err: Error) => {
        this.lost ??= connectionLost(target, err.message);
      });
      board.once('close', () => {
        if (!this.ended) this.lost ??= connectionLost(target, 'the board closed it');
        this.ended = true;
        for (const client of this.clients) client.end();
        this.cutAfterGrace();
        resolve(this.lost);
      });
    });
    for (const [i, gateway] of clients.slice(0, -1).entries()) {
      gateway.on('error', (err: Error) => {
        this.lost ??= connectionLost(gateways[i]!, err.message);
      });
    }
  }

  get label(): string {
    return this.gateways.length ? `${this.target.label} (via ${this.gateways.map((g) => g.label).join(', ')})` : this.target.label;
  }

  /** Runs `command` through the login shell; resolves with its status and output (also for a non-zero status). */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? SSH_DEFAULTS.execTimeoutMs;
    const channel = await this.execStream(command, timeoutMs);
    return new Promise<ExecResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let code: number | null = null;
      let signal: NodeJS.Signals | null = null;
      const timer = setTimeout(() => {
        channel.signal('KILL');
        channel.close();
        reject(new ConnectError('SSH_EXEC_TIMEOUT', `${this.target.label}: \`${shorten(command)}\` did not finish within ${timeoutMs} ms`, {
          hint: 'the board may be overloaded or the command stuck',
        }));
      }, timeoutMs);
      channel.on('data', (d: Buffer) => stdout.push(d));
      channel.stderr.on('data', (d: Buffer) => stderr.push(d));
      channel.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = (s ?? null) as NodeJS.Signals | null;
      });
      channel.once('close', () => {
        clearTimeout(timer);
        if (code === null && signal === null && this.lost) reject(this.lost);
        else resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      if (opts.stdin !== undefined) channel.end(opts.stdin);
      else channel.end();
    });
  }

  /** Starts `command` and hands over its channel: stdout is the channel, stderr `.stderr`, stdin its writable side. */
  execStream(command: string, timeoutMs = SSH_DEFAULTS.timeoutMs): Promise<ClientChannel> {
    return this.openChannel(`start \`${shorten(command)}\``, timeoutMs, (cb) => this.board.exec(command, cb));
  }

  /** Why the connection broke, once it has; null while it is up (or was closed by us). */
  get lostError(): ConnectError | null {
    return this.lost;
  }

  /**
   * A stream to the unix socket `socketPath` on the board, connected by its sshd (OpenSSH's
   * direct-streamlocal, as `ssh -W /path/to.sock`). Rejects (SSH_CHANNEL_FAILED) when the server
   * will not: no such socket, nothing listening on it, forwarding disabled, a server without the
   * extension.
   */
  openSocket(socketPath: string, timeoutMs = SSH_DEFAULTS.timeoutMs): Promise<ClientChannel> {
    return this.openChannel(`reach ${socketPath}`, timeoutMs, (cb) => this.board.openssh_forwardOutStreamLocal(socketPath, cb));
  }

  /** The connection's SFTP session (opened on first use, then shared). */
  sftp(): Promise<SftpSession> {
    this.sftpSession ??= new Promise<SftpSession>((resolve, reject) => {
      const timer = setTimeout(() => reject(channelTimeout(this.target, 'open SFTP', SSH_DEFAULTS.timeoutMs)), SSH_DEFAULTS.timeoutMs);
      this.board.sftp((err, sftp) => {
        clearTimeout(timer);
        if (err) {
          reject(new ConnectError('SSH_NO_SFTP', `${this.target.label}: SFTP is not available (${err.message})`, {
            hint: 'enable the sftp subsystem in the board\'s sshd_config (Subsystem sftp internal-sftp) or use the agent instead of --agentless',
            cause: err,
          }));
        } else resolve(new SftpSession(sftp, this.target.label, () => this.lost));
      });
    });
    this.sftpSession.catch(() => (this.sftpSession = null));
    return this.sftpSession;
  }

  /** Copies a local file to `remote` (written to a temporary name beside it, then renamed). */
  async upload(local: string, remote: string, opts: { mode?: number; onProgress?: (sentBytes: number, totalBytes: number) => void } = {}): Promise<void> {
    const sftp = await this.sftp();
    await sftp.uploadAtomic(local, remote, opts);
  }

  /** A TCP stream to host:port opened by the board's sshd (as `ssh -W`), e.g. to an agent's WebSocket port. */
  forward(host: string, port: number, timeoutMs = SSH_DEFAULTS.timeoutMs, signal?: AbortSignal): Promise<Duplex> {
    return forwardOut(this.board, this.target, host, port, timeoutMs, signal);
  }

  /** Ends the connection to the board, then each gateway. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      for (const client of [...this.clients].reverse()) client.end();
    }
    // end() said goodbye; a peer that cannot hear it (a cut link, a stopped sshd) never closes
    // its side, and the socket would sit in FIN-WAIT until TCP gives up (~15 min), keeping
    // axctl alive. ssh2's destroy() does nothing once the socket is no longer writable (which
    // end() made it), so the fallback destroys the streams we gave ssh2 ourselves: the board's
    // first, the TCP socket to the first hop last (which takes every tunnel with it).
    this.cutAfterGrace();
    await this.closed;
  }

  /**
   * Destroys every stream left open CLOSE_GRACE_MS from now (the module's cutAfterGrace), once.
   */
  private cutAfterGrace(): void {
    this.cutTimer ??= cutAfterGrace(this.clients, this.socks);
  }

  private get board(): Client {
    return this.clients[this.clients.length - 1]!;
  }

  private openChannel(what: string, timeoutMs: number, open: (cb: (err: Error | undefined, channel: ClientChannel) => void) => void): Promise<ClientChannel> {
    if (this.lost || this.ended) return Promise.reject(this.lost ?? connectionLost(this.target, 'it was closed'));
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(channelTimeout(this.target, what, timeoutMs));
      }, timeoutMs);
      open((err, channel) => {
        clearTimeout(timer);
        if (done) {
          channel?.close();
          return;
        }
        if (err) {
          reject(this.lost ?? new ConnectError('SSH_CHANNEL_FAILED', `${this.target.label}: cannot ${what} (${err.message})`, { hint: 'the board\'s sshd may limit sessions (MaxSessions)', cause: err }));
        } else resolve(channel);
      });
    });
  }
}

/**
 * Destroys `clients` and their streams CLOSE_GRACE_MS from now, whatever has not closed by
 * then (ssh2's destroy() does nothing on a socket that stopped taking writes, so the streams
 * are cut too). Unref'd: streams that closed in time leave nothing to wait for.
 */
function cutAfterGrace(clients: readonly Client[], socks: readonly Duplex[]): NodeJS.Timeout {
  const timer = setTimeout(() => {
    for (const client of clients) client.destroy();
    for (const sock of [...socks].reverse()) sock.destroy();
  }, CLOSE_GRACE_MS);
  return timer.unref();
}

function tcpConnect(target: SshTarget, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // noDelay: without it, SFTP's small request/answer packets wait on Nagle (100× slower).
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    const settle = untilSettled(signal, () => {
      clearTimeout(timer);
      socket.destroy();
      reject(signal!.reason);
    });
    const timer = setTimeout(() => {
      settle();
      socket.destroy();
      reject(new ConnectError('CONNECT_TIMEOUT', `${target.label}: no TCP connection after ${timeoutMs} ms`, { hint: 'check that the host is on the network and the port is right' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      settle();
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      settle();
      reject(sshConnectError(target, err));
    });
  });
}

function forwardOut(client: Client, gateway: SshTarget, host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = untilSettled(signal, () => {
      done = true;
      clearTimeout(timer);
      reject(signal!.reason);
    });
    const timer = setTimeout(() => {
      done = true;
      settle();
      reject(new ConnectError('CONNECT_TIMEOUT', `${gateway.label}: no tunnel to ${host}:${port} after ${timeoutMs} ms`, { hint: `check that ${host}:${port} is reachable from the gateway` }));
    }, timeoutMs);
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      clearTimeout(timer);
      settle();
      if (done) {
        stream?.close(); // timed out or given up meanwhile
        return;
      }
      if (err) reject(tunnelRefused(gateway, host, port, err));
      else resolve(stream as unknown as Duplex);
    });
  });
}

function channelTimeout(target: SshTarget, what: string, ms: number): ConnectError {
  return new ConnectError('SSH_CHANNEL_TIMEOUT', `${target.label}: could not ${what} within ${ms} ms`, { hint: 'the board may be overloaded; try again' });
}

function shorten(command: string): string {
  return command.length > 80 ? `${command.slice(0, 77)}...` : command;
}
