/**
 * openBoard: from `--board` (a URL or an inventory name) to a connected BoardSession.
 *
 * How a board is opened is chosen from a small registry of openers, keyed by mode or URL
 * scheme: 'agentless' for inventory entries with `agentless: true` (plain SSH, implemented
 * elsewhere as a BoardSession), else the URL's scheme ('ws', 'ssh', 'serial'...), else the
 * default: open a Transport with openTransport(url) and authenticate an AgentClient over it.
 * Modules in host/transports/ are loaded before the first open, so a module there can call
 * registerScheme() (a transport for the default opener) or registerBoardOpener() (a whole
 * BoardSession of its own) without anything here naming it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { untilSettled } from '../../shared/abort';
import { UsageError } from '../../shared/errors';
import type { Transport } from '../../shared/transport/transport';
import { parseToken, readTokenFile } from '../../shared/protocol/token';
import { hostTokenFileOf, readHostToken, sameHostTokens } from '../agent-install/host-token';
import { fromInventoryValue, lookupBoard, looksLikeUrl, type BoardEntry } from '../boards/inventory';
import { AgentClient } from '../client/agent-client';
import { openTransport, type OpenTransportOptions } from '../client/connect';
import { reinstallOf } from '../agent-install/install-command';
import { shellQuote } from '../ssh/quote';
import type { SshBoardOptions } from '../ssh/board-openers';
import { AgentBoardSession } from './agent-session';
import { boardNaming, type BoardSession } from './session';

export interface OpenBoardOptions {
  /** `--board`: ws://HOST:PORT, ssh://user@host, serial:///dev/tty..., or an inventory name. */
  board: string;
  /** `--token-file`: wins over AXCTL_TOKEN and the inventory. */
  tokenFile?: string;
  /** Where AXCTL_TOKEN is read from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Folder whose axctl.yaml (or a parent's) is the project inventory. Default process.cwd(). */
  cwd?: string;
  /** Inventory files to read instead of the usual ones (tests). */
  inventoryFiles?: string[];
  /** Deadline for connecting and authenticating. Default 10 s. */
  connectTimeoutMs?: number;
  /** Silence after which a request (upload, run, download) fails. Default 60 s. */
  requestTimeoutMs?: number;
  /** Ctrl-C: gives up connecting and authenticating at once (openers pass it on to the transport and the handshake). */
  signal?: AbortSignal;
}

/** What `--board` resolved to. */
export interface BoardTarget {
  /** As the user wrote it (a URL or an inventory name): what .axctl/ records. */
  given: string;
  url: string;
  mode: 'agent' | 'agentless';
  /** The inventory entry, when `given` named one. */
  entry?: BoardEntry;
}

/** Opens a BoardSession for a resolved target; throws ConnectError (exit 5) when it cannot. */
export type BoardOpener = (target: BoardTarget, opts: OpenBoardOptions) => Promise<BoardSession>;

const openers = new Map<string, BoardOpener>();

/**
 * Registers how boards of `key` are opened: 'agentless', or a URL scheme without the colon
 * ('ssh'). Registering a key again replaces its opener.
 */
export function registerBoardOpener(key: string, opener: BoardOpener): void {
  openers.set(key.replace(/:$/, '').toLowerCase(), opener);
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Resolves `--board` through the inventory when it is not a URL. */
export async function resolveBoard(opts: Pick<OpenBoardOptions, 'board' | 'cwd' | 'inventoryFiles'>): Promise<BoardTarget> {
  const given = opts.board.trim();
  if (given === '') throw new UsageError('BOARD_MISSING', 'no board given', { hint: 'pass --board ws://HOST:PORT (or a name from axctl.yaml)' });
  if (looksLikeUrl(given)) return { given, url: given, mode: 'agent' };
  const entry = await lookupBoard(given, { ...(opts.cwd && { cwd: opts.cwd }), ...(opts.inventoryFiles && { files: opts.inventoryFiles }) });
  return { given, url: entry!.url, mode: entry!.agentless ? 'agentless' : 'agent', entry: entry! };
}

/** `opts` may carry SSH settings (SshBoardOptions) for the SSH openers; they decide whether SSH is loaded. */
export async function openBoard(opts: OpenBoardOptions & SshBoardOptions): Promise<BoardSession> {
  const target = await resolveBoard(opts);
  if (needsTransportModules(target, opts)) loadTransportModules();
  const opener = target.mode === 'agentless' ? openers.get('agentless') : (openers.get(schemeOf(target.url)) ?? openWithAgent);
  if (!opener) {
    throw new UsageError('BOARD_MODE_UNSUPPORTED', `board "${target.given}" is marked agentless, and this axctl has no agentless SSH support`, {
      hint: `remove "agentless: true" from ${target.entry?.source ?? 'the inventory'} and run axagent on the board`,
    });
  }
  return opener(target, opts);
}

/** The default opener: a Transport to the agent, then the handshake with the token. */
export const openWithAgent: BoardOpener = async (target, opts) => {
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const signal = opts.signal && { signal: opts.signal };
  const { given: token, transport } = await connectWhileTokenRead(resolveToken(target, opts), target.url, { connectTimeoutMs, schemeOptions: schemeOptionsOf(target.entry) }, opts.signal);
  const client = await AgentClient.connect(transport, {
    token,
    timeoutMs: connectTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...signal,
  });
  // How to reinstall the agent, for a run_joint problem's hint: over SSH to the same host.
  const reinstall = /^wss?:\/\//i.test(target.url) ? { reinstall: reinstallOf(target) } : {};
  return new AgentBoardSession(client, { ...boardNaming(target), ...reinstall });
};

/**
 * Whether opening `target` may need a module of host/transports/ (SSH: ~60 ms of loading, with
 * ssh2, at every start of axctl). A ws:// or wss:// board with no SSH setting anywhere (no
 * --agentless, no jump host, key or other SSH option on the command line or in its inventory
 * entry) is opened by openWithAgent alone, as the SSH module's own opener would open it. The
 * SSH options come in `opts` as SshBoardOptions (a type-only import: nothing of SSH is loaded).
 */
function needsTransportModules(target: BoardTarget, opts: OpenBoardOptions & SshBoardOptions): boolean {
  if (!/^wss?$/.test(schemeOf(target.url)) || target.mode === 'agentless') return true;
  return opts.agentless === true || Object.values(opts.ssh ?? {}).some(isGivenSetting) || Object.keys(schemeOptionsOf(target.entry)).length > 0;
}

/** Whether a command-line setting was given: yargs leaves the others undefined, or [] for a repeatable one. */
export function isGivenSetting(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

/**
 * Opens the transport to `url` while the token is read (a few file-system calls: ~1–3 ms of a
 * verify, by the machine's load). A token that cannot be read stops the connecting at once and
 * is the error, whether or not the board is up: it is the user's to fix (exit 2). `signal`
 * (Ctrl-C) gives the connecting up as openTransport's own signal does.
 */
export async function connectWhileTokenRead<T>(tokenRead: Promise<T>, url: string, opts: Omit<OpenTransportOptions, 'signal'>, signal?: AbortSignal): Promise<{ given: T; transport: Transport }> {
  const opening = new AbortController();
  const followCtrlC = untilSettled(signal, () => opening.abort(signal!.reason));
  const connecting = openTransport(url, { ...opts, signal: opening.signal });
  connecting.catch(() => undefined); // awaited below, once the token is read
  try {
    const given = await tokenRead.catch(async (err: unknown) => {
      opening.abort(err);
      await connecting.then((t) => t.destroy(), () => undefined);
      throw err;
    });
    return { given, transport: await connecting };
  } finally {
    followCtrlC();
  }
}

/**
 * The agent token, first found: --token-file, AXCTL_TOKEN, the inventory's token-file, the
 * inventory's token, the copy `axctl agent install` keeps for this board's host.
 * Missing → TOKEN_MISSING (exit 2); its hint names copies kept for the same host under other SSH ports.
 */
export async function resolveToken(target: BoardTarget, opts: Pick<OpenBoardOptions, 'tokenFile' | 'env'>): Promise<Uint8Array> {
  const env = opts.env ?? process.env;
  if (opts.tokenFile) return (await readTokenFile(opts.tokenFile)).secret;
  if (env.AXCTL_TOKEN) return parseToken(env.AXCTL_TOKEN, 'AXCTL_TOKEN', 'value');
  const entry = target.entry;
  if (entry?.tokenFile) {
    try {
      return (await readTokenFile(entry.tokenFile)).secret;
    } catch (err) {
      throw fromInventoryValue(entry, 'token-file', err);
    }
  }
  if (entry?.token) return parseToken(entry.token, `${entry.source}: board "${entry.name}" token`, 'value');
  const copy = hostTokenFileOf(target.url, env);
  const installed = copy === undefined ? undefined : await readHostToken(copy).catch(() => undefined);
  if (installed && copy) return parseToken(installed, copy);
  throw new UsageError('TOKEN_MISSING', `no token for ${target.given}: the agent only talks to hosts that know its token`, {
    hint: (await sameHostTokenHint(target.url, env)) ?? 'pass --token-file FILE (the file the agent was started with), set AXCTL_TOKEN, or add token-file to the board in axctl.yaml',
  });
}

/** How many of the same host's copies a hint lists: enough to choose from, still one line. */
const SAME_HOST_TOKENS_LISTED = 3;

/** How a hint says to use a token file, given its path as typed (or FILE). */
export type UseTokenFile = (file: string) => string;

const passTokenFile: UseTokenFile = (file) => `pass --token-file ${file}`;

/**
 * A hint naming the host's copies for this board's host under other SSH ports, or undefined
 * when there are none. Install over ssh://HOST:2222 keeps HOST_2222.token, which ws://HOST:8700
 * does not read (it may be another board's, behind one gateway): the user has to choose it.
 */
export async function sameHostTokenHint(boardUrl: string, env: NodeJS.ProcessEnv, useIt: UseTokenFile = passTokenFile): Promise<string | undefined> {
  const copies = await sameHostTokens(boardUrl, env);
  if (copies.length === 0) return undefined;
  const host = new URL(boardUrl).hostname;
  if (copies.length === 1) {
    const only = copies[0]!;
    return `the host has a token for ${host} from agent install over SSH port ${only.sshPort}: ${useIt(pathAsTyped(only.file, env))}`;
  }
  const listed = copies.slice(0, SAME_HOST_TOKENS_LISTED);
  const ports = listed.map((c) => c.sshPort).join(', ');
  const files = listed.map((c) => pathAsTyped(c.file, env)).join(', ');
  const more = copies.length > listed.length ? `, and ${copies.length - listed.length} more in ${pathAsTyped(path.dirname(listed[0]!.file), env)}` : '';
  return `the host has tokens for ${host} from agent install over SSH ports ${ports}: ${useIt('FILE')}, FILE being the board's of ${files}${more}`;
}

/** `file` as the user can type it in a shell: `~/` for the home folder, quoted when it must be. */
function pathAsTyped(file: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || os.homedir();
  const inHome = home !== '' && file.startsWith(home + path.sep);
  const rest = inHome ? file.slice(home.length + 1) : file;
  const quoted = /^[A-Za-z0-9_.\/:@%+=,-]+$/.test(rest) ? rest : shellQuote(rest);
  return inHome ? `~/${quoted}` : quoted;
}

function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1]!.toLowerCase() : '';
}

/** Inventory settings a scheme's transport may use (SSH identity, jump hosts...). */
export function schemeOptionsOf(entry: BoardEntry | undefined): Record<string, unknown> {
  if (!entry) return {};
  const { identity, via, knownHosts, runJoint, agentPrefix, agentCommand, boardCache } = entry;
  return {
    ...(identity && { identity }),
    ...(via.length > 0 && { via }),
    ...(knownHosts && { knownHosts }),
    ...(runJoint && { runJoint }),
    ...(agentPrefix && { agentPrefix }),
    ...(agentCommand && { agentCommand }),
    ...(boardCache && { cacheDir: boardCache }),
  };
}

let transportsLoaded = false;

/**
 * Loads every module in host/transports/ once (as yargs' commandDir loads commands), so the
 * schemes and openers they register are known. A module that cannot load (a native binding
 * missing on this host) only loses its own scheme; openTransport then names the scheme as
 * unknown.
 */
function loadTransportModules(): void {
  if (transportsLoaded) return;
  transportsLoaded = true;
  const dir = path.join(__dirname, '..', 'transports');
  const ext = path.extname(__filename);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (path.extname(name) !== ext || name.endsWith(`.d${ext}`)) continue;
    try {
      require(path.join(dir, name));
    } catch (err) {
      if (process.env.AXCTL_DEBUG) process.stderr.write(`axctl: ${name} did not load: ${(err as Error).message}\n`);
    }
  }
}
