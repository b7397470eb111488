/**
 * `ssh://` agent URLs: the host logs in to the board over SSH and starts `axagent --stdio` in an
 * exec channel; the protocol's frames travel over that channel's stdin/stdout (StreamTransport).
 * No port is opened on the board. Which command starts the agent: agent-command.ts. Importing
 * this module registers the scheme with host/client/connect.ts.
 *
 * The agent's stderr (its log) is drained and its tail kept for messages. What the login shell
 * prints on stdout before the agent's first frame (a board's banner) is set aside (preamble.ts).
 * If the agent command ends before its first frame, the transport closes with
 * SSH_AGENT_NOT_STARTED carrying the exit status, that tail (e.g. `sh: node: not found`) and
 * what was printed on stdout.
 */
import { PassThrough } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { orAbort } from '../../shared/abort';
import { ConnectError, type AxError } from '../../shared/errors';
import { StreamTransport } from '../../shared/transport/stream';
import { TransportError } from '../../shared/transport/transport';
import { sharedPacer } from '../../shared/young-collection';
import type { TransportOptions } from '../../shared/transport/transport';
import { registerScheme, type OpenTransportOptions, type TransportFactory } from '../client/connect';
import { socketBesideStore } from '../../shared/store/owner-socket';
import { confValue, layoutOf } from '../agent-install/layout';
import { installCommand } from '../agent-install/install-command';
import { agentLaunch, type AgentLaunch } from './agent-command';
import { openSsh, type SshConnection } from './connection';
import { parseSshOptions, type SshSchemeOptions } from './options';
import { FramePreamble, quote } from './preamble';
import { shellQuote } from './quote';
import { UNVERIFIED_MAX_BYTES } from '../client/channel';

const STDERR_TAIL_CHARS = 4096;
/** Exit status of the preflight when no agent is installed under the prefix. */
const NOT_INSTALLED = 97;

export class SshAgentTransport extends StreamTransport {
  /** The SSH connection the agent runs in; closed when the transport closes. */
  readonly connection: SshConnection;
  /**
   * The installed agent's token, read from PREFIX/etc/token over SSH (undefined when not read).
   * Read when first asked for: a transport that reached the running agent at its socket runs no
   * command on the board unless the host lacks the token.
   */
  readonly agentToken: () => Promise<string | undefined>;
  /** The running agent's socket this transport reached through sshd; undefined when it started the agent command. */
  readonly agentSocket: string | undefined;
  private readonly watch: AgentWatch;

  constructor(connection: SshConnection, input: PassThrough, channel: ClientChannel, opts: TransportOptions & { token?: () => Promise<string | undefined>; watch: AgentWatch; socket?: string }) {
    const { token, watch, socket, ...transportOptions } = opts;
    // ssh2 copies what is written into its packets before the write's callback.
    // Until the agent proves itself, a frame over UNVERIFIED_MAX_BYTES is refused from its header
    // (Channel refuses such messages too, but only once they have been buffered whole).
    super(input, channel, { ...transportOptions, kind: 'ssh', peer: connection.target.label, outputCopies: true, unauthenticatedMaxMessageBytes: UNVERIFIED_MAX_BYTES });
    this.connection = connection;
    this.agentToken = token ?? (async () => undefined);
    this.agentSocket = socket;
    this.watch = watch;
    this.once('close', () => void connection.close());
    // What the channel tells beyond its bytes (why it ended) decides how the transport closes.
    watch.bind({ fail: (err) => this.fail(err), lost: (err) => this.linkClosed(err) });
    // Our close waits for the agent's end of the stream. An agent that exits ends it with its
    // exit; an --stdio agent that owns the store and still serves hosts relayed to it ends it
    // by closing its stdout and stderr (agent/stdio-release.ts), and sshd closes the channel
    // only once it exits: that EOF is the end our close waits for, not the close timeout.
    watch.whenAgentEnds(() => {
      if (this.state === 'closing') this.linkClosed();
    });
  }

  /** ssh2 makes a fresh buffer per 32 KiB packet: collections paced by what is sent (shared/young-collection.ts). */
  protected override writeLink(parts: Uint8Array[], done: (err?: Error | null) => void): void {
    super.writeLink(parts, done);
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    sharedPacer().moved(bytes);
  }

  /** The last lines the agent wrote to stderr (its log), for messages. */
  agentLog(): string {
    return this.watch.stderr();
  }

  /** Set when the agent command ended before it said anything (SSH_AGENT_NOT_STARTED). */
  get startFailure(): ConnectError | undefined {
    return this.watch.failure();
  }

  /**
   * Why a handshake that timed out never started: the channel carried text and no frame (a
   * startup file that prints and then waits, e.g. a prompt); undefined when nothing was printed.
   */
  silentStart(timeoutMs: number): ConnectError | undefined {
    const printed = this.watch.printedBeforeAgent();
    if (Buffer.from(printed).toString('utf8').trim() === '') return undefined;
    return new ConnectError('SSH_AGENT_NOT_STARTED', `${this.peer}: no agent answered within ${timeoutMs} ms; the login shell printed ${quote(printed)} and is still running`, {
      hint: `the login shell printed text and no agent started: ${QUIET_STARTUP_FILES}, or use --agentless`,
    });
  }
}

interface AgentWatch {
  stderr(): string;
  failure(): ConnectError | undefined;
  /** What came on the channel while no frame has yet (a banner, a prompt); empty once one came. */
  printedBeforeAgent(): Buffer;
  /** Hands the channel's verdicts to the transport (replayed if they came before it existed). */
  bind(sink: WatchSink): void;
  /** Calls `listener` when the agent ends its stream (EOF on the channel; not a lost connection). */
  whenAgentEnds(listener: () => void): void;
}

interface WatchSink {
  /** The channel's bytes or end are a failure with this reason (the transport closes with it). */
  fail(err: AxError): void;
  /** The link is gone for this reason. */
  lost(err: AxError): void;
}

/** The agent's token when `transport` is an agent over SSH that could read it from the board. */
export async function agentTokenOf(transport: unknown): Promise<string | undefined> {
  return transport instanceof SshAgentTransport ? transport.agentToken() : undefined;
}

/** Logs in to the board and starts the agent over stdio (the factory registered for ssh://). */
export const openSshUrl: TransportFactory = async (url: URL, opts: OpenTransportOptions): Promise<SshAgentTransport> => {
  const { schemeOptions, connectTimeoutMs, signal, ...transportOptions } = opts;
  const ssh = parseSshOptions(schemeOptions);
  const connection = await openSsh({ url: url.href, ...connectionOptions(ssh), ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }), ...(signal && { signal }) });
  try {
    signal?.throwIfAborted(); // given up as the login finished
    return await startAgent(connection, agentLaunch(ssh), transportOptions, { direct: ssh.reachRunningAgent !== false, ...(signal && { signal }) });
  } catch (err) {
    await connection.close();
    throw err;
  }
};

/** The openSsh() settings among the scheme options. */
export function connectionOptions(ssh: SshSchemeOptions) {
  return {
    ...(ssh.identity === undefined ? {} : { identity: ssh.identity }),
    ...(ssh.knownHosts === undefined ? {} : { knownHosts: ssh.knownHosts }),
    ...(ssh.acceptNewHostKey === undefined ? {} : { acceptNewHostKey: ssh.acceptNewHostKey }),
    ...(ssh.via === undefined ? {} : { via: ssh.via }),
    ...(ssh.agentSocket === undefined ? {} : { agentSocket: ssh.agentSocket }),
    ...(ssh.keepaliveMs === undefined ? {} : { keepaliveMs: ssh.keepaliveMs }),
  };
}

/**
 * Mark the token and the installed agent's settings in the preflight's output: a login shell
 * may print a banner first (its startup files run for `ssh board CMD` too).
 */
const TOKEN_MARK = '#axctl: token';
const CONF_MARK = '#axctl: axagent.conf';

export interface StartAgentOptions {
  /**
   * For an installed agent: first try the socket its running agent process listens on (the
   * installed service, or another host's agent of the same store), through the board's sshd,
   * before starting `PREFIX/bin/axagent --stdio` (default true). `axctl agent install` and
   * `status` turn it off to check the wrapper itself.
   */
  direct?: boolean;
  /** Gives the start up (Ctrl-C): rejects with its reason; the caller closes the connection. */
  signal?: AbortSignal;
}

/**
 * Starts the agent in `connection`, or reaches the one already running (StartAgentOptions);
 * the transport owns the connection from then on.
 */
export async function startAgent(connection: SshConnection, launch: AgentLaunch, transportOptions: TransportOptions = {}, opts: StartAgentOptions = {}): Promise<SshAgentTransport> {
  // For the installed agent, check that it is there and read its token and settings: one
  // command through the board's login shell, asked for only when needed (below).
  let checked: Promise<InstallFacts | null> | undefined;
  const preflight = () => {
    if (!checked) {
      checked = launch.source === 'installed' ? readInstall(connection, launch) : Promise.resolve(null);
      checked.catch(() => undefined); // awaited where needed; this only keeps an early bail-out from leaving it unhandled
    }
    return checked;
  };
  if (launch.source === 'installed' && opts.direct !== false) {
    // Starting Node on a Cortex-A7 costs 2-4 s, and a relaying agent process would sit in the
    // path of every byte: a running agent is reached at its socket. The default store's socket
    // is tried first, before any command: a login shell whose startup files take a second (and
    // the CPU the transfer needs) is started only if the token is asked of the board.
    const guess = socketStoreGuess(launch.prefix);
    const early = await orAbort(openOwnerSocket(connection, guess), opts.signal);
    if (early) return socketTransport(connection, early, launch, transportOptions, lazyToken(preflight));
    const install = await orAbort(preflight(), opts.signal);
    // A store of its own (agent install --store): its socket is elsewhere.
    const direct = install?.store !== undefined && install.store !== guess ? await orAbort(openOwnerSocket(connection, install.store), opts.signal) : null;
    if (direct) return socketTransport(connection, direct, launch, transportOptions, lazyToken(preflight));
  }
  opts.signal?.throwIfAborted();
  const started = preflight(); // beside the agent's start
  const channel = await orAbort(connection.execStream(launch.command), opts.signal);
  const { input, watch } = watchAgent(channel, launch, connection.target.label, () => connection.lostError);
  try {
    await orAbort(started, opts.signal);
  } catch (err) {
    channel.close();
    throw err;
  }
  return new SshAgentTransport(connection, input, channel, { ...transportOptions, token: lazyToken(preflight), watch });
}

/** The store an installed agent keeps unless `agent install --store` named another. */
function socketStoreGuess(prefix: string): string {
  return layoutOf(prefix).defaultStore;
}

function socketTransport(connection: SshConnection, direct: { channel: ClientChannel; socket: string }, launch: AgentLaunch, transportOptions: TransportOptions, token: () => Promise<string | undefined>): SshAgentTransport {
  const { input, watch } = watchAgent(direct.channel, launch, connection.target.label, () => connection.lostError, direct.socket);
  return new SshAgentTransport(connection, input, direct.channel, { ...transportOptions, token, watch, socket: direct.socket });
}

/**
 * The preflight's token, read when first asked for (then the preflight runs, if it has not);
 * undefined when there is none or the preflight failed (the socket answered anyway).
 */
function lazyToken(preflight: () => Promise<InstallFacts | null>): () => Promise<string | undefined> {
  return () =>
    preflight().then(
      (install) => install?.token,
      () => undefined,
    );
}

interface InstallFacts {
  /** PREFIX/etc/token's line, when readable. */
  token?: string;
  /** The store of PREFIX/etc/axagent.conf, when it names one. */
  store?: string;
}

/** Checks that the installed agent is there; reads its token and store (one exec, in parallel with the agent's start). */
async function readInstall(connection: SshConnection, launch: Extract<AgentLaunch, { source: 'installed' }>): Promise<InstallFacts> {
  const checked = await connection.exec(
    `[ -x ${shellQuote(launch.wrapper)} ] || exit ${NOT_INSTALLED}; printf '\\n%s\\n' ${shellQuote(TOKEN_MARK)}; cat -- ${shellQuote(launch.tokenFile)} 2>/dev/null; ` +
      `printf '\\n%s\\n' ${shellQuote(CONF_MARK)}; cat -- ${shellQuote(launch.confFile)} 2>/dev/null; exit 0`,
    { timeoutMs: 15_000 },
  );
  if (checked.code === NOT_INSTALLED) {
    throw new ConnectError('SSH_AGENT_NOT_INSTALLED', `${connection.target.label}: no agent installed under ${launch.prefix} (${launch.wrapper} is missing)`, {
      hint: `install it with: ${installCommand(connection.target.label, { prefix: launch.prefix, via: connection.gateways.map((g) => g.label) })}; if it is installed under another --prefix, give that as --agent-prefix; or start yours with --agent-command, or use --agentless`,
    });
  }
  if (checked.code !== 0) return {};
  const out = checked.stdout;
  const tokenAt = out.lastIndexOf(`\n${TOKEN_MARK}\n`);
  const confAt = out.lastIndexOf(`\n${CONF_MARK}\n`);
  if (tokenAt < 0 || confAt < tokenAt) return {}; // not our command's output
  const token = out.slice(tokenAt + TOKEN_MARK.length + 2, confAt).trim();
  const store = confValue(out.slice(confAt + CONF_MARK.length + 2), 'store');
  return { ...(token !== '' && { token }), ...(store?.startsWith('/') && { store }) };
}

/** How long the board's sshd may take to connect to the agent's socket before the host starts an agent instead. */
const SOCKET_OPEN_TIMEOUT_MS = 5_000;

/**
 * The running agent of `store`, reached at its socket (shared/store/owner-socket.ts) through
 * the board's sshd; null when there is none to reach that way: no agent running (or a socket
 * left by one that died), a store path too long for a socket beside it, a folder that cannot
 * hold one, an sshd with stream forwarding disabled or without OpenSSH's extension (Dropbear).
 * The agent started instead sorts these out as it always does.
 */
async function openOwnerSocket(connection: SshConnection, store: string | undefined): Promise<{ channel: ClientChannel; socket: string } | null> {
  const socket = store === undefined ? null : socketBesideStore(store);
  if (socket === null) return null;
  try {
    const channel = await connection.openSocket(socket, SOCKET_OPEN_TIMEOUT_MS);
    if (process.env.AXCTL_DEBUG) process.stderr.write(`axctl: debug: ${connection.target.label}: reached the running agent at ${socket}\n`);
    return { channel, socket };
  } catch (err) {
    if (connection.lostError) throw err; // the connection itself is gone: nothing to fall back to
    if (process.env.AXCTL_DEBUG) process.stderr.write(`axctl: debug: ${connection.target.label}: no running agent at ${socket} (${(err as Error).message}); starting one\n`);
    return null;
  }
}

/**
 * Wires the agent's channel at once (an agent that dies at start may report its exit before
 * anything else is awaited): stdout, from the agent's first frame on, into the stream the
 * transport reads; stderr into a tail.
 */
function watchAgent(channel: ClientChannel, launch: AgentLaunch, label: string, connectionLost: () => unknown, socket?: string): { input: PassThrough; watch: AgentWatch } {
  let stderr = '';
  channel.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  });
  const input = new PassThrough();
  // The transport reports the stream's error; without one (start abandoned) it must not throw.
  input.on('error', () => undefined);
  let sink: WatchSink | null = null;
  let verdict: { kind: keyof WatchSink; err: AxError } | null = null;
  const tell = (kind: keyof WatchSink, err: AxError) => {
    verdict ??= { kind, err };
    sink?.[kind](err);
  };
  const preamble = new FramePreamble();
  let exit: { code: number | null; signal: string | null } | null = null;
  let failure: ConnectError | undefined;
  channel.on('data', (chunk: Buffer) => {
    if (verdict) return;
    const wasFound = preamble.found;
    let pass: Uint8Array[];
    try {
      pass = preamble.push(chunk);
    } catch (err) {
      tell('fail', err as AxError);
      return;
    }
    if (!wasFound && preamble.found && preamble.skipped > 0 && process.env.AXCTL_DEBUG) {
      process.stderr.write(`axctl: debug: ${label}: set aside ${preamble.skipped} bytes printed before the agent's first frame (the login shell's startup files?): ${quote(preamble.printed(), 1000)}\n`);
    }
    // As pipe() did: a reader that falls behind (none yet while the preflight runs) pauses the
    // channel, so ssh2 stops widening its window instead of piling bytes up here.
    let full = false;
    for (const bytes of pass) full = !input.write(bytes) || full;
    if (full) {
      channel.pause();
      input.once('drain', () => channel.resume());
    }
  });
  channel.on('exit', (code: number | null, signal?: string) => (exit = { code, signal: signal ?? null }));
  // A running agent's socket has no command and no exit status: the agent's end of the stream
  // (EOF) is the end of the connection. sshd closes such a channel only once both sides have
  // ended, so the transport must hear of it now to end its own side.
  let agentEnded = false;
  let onAgentEnded: () => void = () => undefined;
  channel.once('end', () => {
    // ssh2 also ends every channel when the connection itself breaks (after noting why).
    if (connectionLost()) return;
    agentEnded = true;
    if (socket !== undefined && !input.destroyed) input.end();
    onAgentEnded();
  });
  channel.once('close', () => {
    const status = exit as { code: number | null; signal: string | null } | null;
    if (socket !== undefined) {
      // Closed before the agent ended its stream: the SSH server or the connection did it.
      if (!agentEnded && !verdict) tell('lost', new TransportError('TRANSPORT_DISCONNECTED', `${label}: the SSH channel to the agent's socket ${socket} closed before the agent ended it (the board's sshd closed it, or the connection broke)`, {
        hint: 'check that sshd still runs on the board and the network, then connect again',
      }));
    } else if (!preamble.found && status) {
      // The command ended and no agent ever answered: say what it printed and how it ended.
      const { detail, hint } = whyNotStarted(launch, status, stderr, preamble.printed());
      failure = new ConnectError('SSH_AGENT_NOT_STARTED', `${label}: ${detail}`, { hint });
      tell('fail', failure);
    } else if (!status && !verdict) {
      // No exit status: the agent did not end this channel, the SSH server or the connection did.
      tell('lost', new TransportError('TRANSPORT_DISCONNECTED', `${label}: the SSH session ended without the agent exiting (the board's sshd closed it, or the connection broke)`, {
        hint: 'check that sshd still runs on the board and the network, then connect again',
      }));
    }
    if (!input.destroyed) input.end();
  });
  return {
    input,
    watch: {
      stderr: () => stderr,
      failure: () => failure,
      printedBeforeAgent: () => (preamble.found ? Buffer.alloc(0) : preamble.printed()),
      bind: (s) => {
        sink = s;
        if (verdict) s[verdict.kind](verdict.err);
      },
      whenAgentEnds: (listener) => {
        onAgentEnded = listener;
        if (agentEnded) listener();
      },
    },
  };
}

/** What to do about a login shell that prints on non-interactive logins (OpenSSH runs its startup files for `ssh board CMD`). */
const QUIET_STARTUP_FILES = "make the board's shell startup files quiet for non-interactive logins (guard echo lines in ~/.bashrc and ~/.profile with `[ -t 1 ] &&`)";

function whyNotStarted(launch: AgentLaunch, status: { code: number | null; signal: string | null }, stderr: string, printed: Uint8Array): { detail: string; hint: string } {
  const how = status.signal ? `was ended by ${status.signal}` : `exited with status ${status.code}`;
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  // A crash prints its reason above a stack and a footer: prefer the line that says what failed.
  const said = lines.find((l) => /error|not found|no such file|denied|cannot/i.test(l)) ?? lines[lines.length - 1] ?? '';
  const onStdout = Buffer.from(printed).toString('utf8').trim() !== '' ? `${said ? '; ' : ': '}it printed ${quote(printed)} instead of the agent's frames` : '';
  const commandHint = launch.source === 'agent-command' ? 'check --agent-command: it must start axagent --stdio on the board' : 'reinstall the agent with axctl agent install';
  return {
    detail: `the agent command \`${launch.command}\` ${how}${said ? `: ${said}` : ''}${onStdout}`,
    // The stderr line says what failed; with none, text on stdout is most likely the login
    // shell's own (a banner from its startup files, which OpenSSH runs for `ssh board CMD`).
    hint: said || !onStdout
      ? commandHint
      : `the login shell printed text and no agent started: ${QUIET_STARTUP_FILES}, check the agent command, or use --agentless`,
  };
}

registerScheme('ssh', openSshUrl);
