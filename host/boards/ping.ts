/**
 * Pinging the boards of the inventory: each is opened the way every command opens a board
 * (openBoard: its URL's transport, then the handshake with its token), asked for fresh facts,
 * and closed. All boards at once, each within its own deadline; a board that does not answer
 * is a result with its error in one line, never an exception, so one dead board cannot hide
 * the others.
 *
 * The token, first found: the entry's token-file, its token, this host's copy written by
 * `axctl agent install` (hostTokenFile), then AXCTL_TOKEN.
 */
import { existsSync } from 'node:fs';
import { UsageError, isAxError } from '../../shared/errors';
import { withUpgradeHint } from '../agent-install/checks';
import { hostTokenFileOf, readHostToken } from '../agent-install/host-token';
import { AgentBoardSession } from '../board/agent-session';
import { runJointMissingWords } from '../../shared/run/agent-run-joint-check';
import { openBoard, sameHostTokenHint } from '../board/open-board';
import type { BoardSession } from '../board/session';
import '../ssh/register'; // ssh:// boards, ws:// through jump hosts, agentless boards
import { formatBytes } from '../agent-install/render';
import { INVENTORY_FILE_NAME, findProjectInventory, loadInventory, userInventoryFile, type BoardEntry } from './inventory';
import { PING_DEFAULTS } from './ping-defaults';

export { PING_DEFAULTS };

export interface PingResult {
  name: string;
  url: string;
  /** The inventory file the board came from. */
  source: string;
  ok: boolean;
  mode: 'agent' | 'agentless';
  agentVersion?: string;
  /** run_joint's version, once the agent has run it (an agent that has not run yet does not know). */
  runJointVersion?: string;
  hostname?: string;
  arch?: string;
  /** Free bytes in the board's store. */
  freeBytes?: number;
  /** Connecting and authenticating. */
  connectMs?: number;
  /** One request's round trip once connected (the agent's facts). */
  latencyMs?: number;
  /** Failure: the error's code and its one-line description. */
  code?: string;
  error?: string;
}

export interface PingOptions {
  /** Deadline for each board: connect, authenticate, one request. */
  timeoutMs: number;
  /** Boards pinged at the same time. */
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
  /** The inventory files the entries came from (so names resolve to the same entries). */
  inventoryFiles?: string[];
}


export async function pingBoards(entries: BoardEntry[], opts: PingOptions): Promise<PingResult[]> {
  const results: PingResult[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      results[i] = await pingBoard(entries[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(entries.length, opts.concurrency ?? PING_DEFAULTS.concurrency) }, worker));
  return results;
}

export async function pingBoard(entry: BoardEntry, opts: PingOptions): Promise<PingResult> {
  const base: PingResult = { name: entry.name, url: entry.url, source: entry.source, ok: false, mode: entry.agentless ? 'agentless' : 'agent' };
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PingTimeout(opts.timeoutMs)), opts.timeoutMs);
  });
  const opening = openEntry(entry, opts);
  let session: BoardSession | undefined;
  try {
    session = await Promise.race([opening, deadline]);
    // Agentless: until its shell answers, the board's facts are not known nor its shell proven.
    if (session.ready) await Promise.race([session.ready(), deadline]);
    const connectMs = Date.now() - started;
    const result: PingResult = { ...base, ok: true, connectMs, ...identityOf(session) };
    if (session instanceof AgentBoardSession) {
      const asked = Date.now();
      const facts = await Promise.race([session.client.facts(), deadline]);
      Object.assign(result, {
        latencyMs: Date.now() - asked,
        agentVersion: facts.agentVersion || result.agentVersion,
        hostname: facts.hostname,
        arch: facts.arch,
        freeBytes: facts.storeFreeBytes,
        ...(facts.runJointVersion && { runJointVersion: facts.runJointVersion }),
      });
      // It answers, but every upload and run would fail: not a board to hand work to.
      if (facts.storeProblem) {
        Object.assign(result, {
          ok: false,
          code: 'STORE_UNUSABLE',
          error: `the agent answers, but its store cannot be written: ${facts.storeProblem} (fix it on the board, or restart axagent with a writable --store)`,
        });
      }
      // It answers, but no run can start: its run_joint is gone (a firmware update removed it).
      const broken = session.identity.runJointProblem;
      if (broken && !facts.storeProblem) {
        const { message, hint } = runJointMissingWords(broken);
        Object.assign(result, { ok: false, code: broken.code, error: `the agent answers, but ${message} (${hint})` });
      }
    }
    return result;
  } catch (caught) {
    // The opening was given the same deadline (connectTimeoutMs): its own reason (a serial
    // line nobody answers: SERIAL_NO_PEER; CONNECT_TIMEOUT) says more than "no answer", and
    // arrives a moment after ours, as its clock started a little later.
    const own = caught instanceof PingTimeout && !session ? await openingError(opening, OWN_REASON_GRACE_MS) : undefined;
    const err = withUpgradeHint(own ?? caught, entry.url);
    return { ...base, code: isAxError(err) ? err.code : err instanceof PingTimeout ? 'PING_TIMEOUT' : 'INTERNAL', error: oneLine(err) };
  } finally {
    clearTimeout(timer);
    if (session) await session.close().catch(() => undefined);
    // A board still opening after its deadline is closed once it opens.
    else void opening.then((s) => s.close()).catch(() => undefined);
  }
}

/** How long past the deadline a board still opening may take to fail with its own reason. */
const OWN_REASON_GRACE_MS = 1000;

/** The AxError `opening` fails with within `graceMs`, if it does. */
async function openingError(opening: Promise<unknown>, graceMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const failed = opening.then(
    () => undefined,
    (err: unknown) => (isAxError(err) ? err : undefined),
  );
  try {
    return await Promise.race([failed, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), graceMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

class PingTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

async function openEntry(entry: BoardEntry, opts: PingOptions): Promise<BoardSession> {
  const env = opts.env ?? process.env;
  const common = {
    board: entry.name,
    connectTimeoutMs: opts.timeoutMs,
    requestTimeoutMs: opts.timeoutMs,
    ...(opts.inventoryFiles && { inventoryFiles: opts.inventoryFiles }),
  };
  // The entry's own token wins over AXCTL_TOKEN (which openBoard would try first).
  if (entry.tokenFile || entry.token) return openBoard({ ...common, env: withoutToken(env) });
  // serial:// names no host, so it has no host copy (install is over ssh:// anyway).
  const installed = hostTokenFileOf(entry.url, env);
  if (installed && (await readHostToken(installed))) return openBoard({ ...common, tokenFile: installed, env });
  // Over ssh:// an installed agent's token can be read from the board itself (board-openers.ts).
  if (!env.AXCTL_TOKEN && !entry.agentless && !entry.url.startsWith('ssh://')) {
    const sameHost = await sameHostTokenHint(entry.url, env, (file) => `add token-file: ${file} to it in ${entry.source}`);
    throw new UsageError('TOKEN_MISSING', `no token for ${entry.name}: the agent only talks to hosts that know its token`, {
      hint:
        sameHost ??
        (installed
          ? `add token-file to it in ${entry.source}, or install the agent with axctl agent install (its token is then kept in ${installed})`
          : `add token-file to it in ${entry.source}: the file the agent was started with (--token-file)`),
    });
  }
  return openBoard({ ...common, env });
}

function withoutToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AXCTL_TOKEN: _unused, ...rest } = env;
  return rest;
}

function identityOf(session: BoardSession): Partial<PingResult> {
  const id = session.identity;
  return {
    mode: id.mode,
    ...(id.agentVersion && { agentVersion: id.agentVersion }),
    ...(id.runJointVersion && { runJointVersion: id.runJointVersion }),
    ...(id.hostname && { hostname: id.hostname }),
    ...(id.freeBytes !== undefined && { freeBytes: id.freeBytes }),
  };
}

function oneLine(err: unknown): string {
  const text = isAxError(err) ? err.describe() : err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ');
}

export interface BoardsReport {
  /** The inventory files read, user's first (a project entry replaces a user entry of its name). */
  sources: string[];
  boards: PingResult[];
  answered: number;
}

/** Reads the inventory (user's, then the project's) and pings every board in it. */
export async function pingInventory(opts: Omit<PingOptions, 'inventoryFiles'> & { cwd?: string }): Promise<BoardsReport> {
  const candidates = [userInventoryFile(), await findProjectInventory(opts.cwd)].filter((f): f is string => !!f);
  const sources = candidates.filter((f) => existsSync(f));
  const entries = [...(await loadInventory({ files: sources })).values()];
  if (entries.length === 0) {
    throw new UsageError('INVENTORY_EMPTY', sources.length ? `no boards in ${sources.join(' or ')}` : `no ${INVENTORY_FILE_NAME} here, in a parent folder, or at ${userInventoryFile()}`, {
      hint: `list boards in ${INVENTORY_FILE_NAME}, e.g. "boards: { evb1: ws://192.168.1.20:7007 }"`,
    });
  }
  const boards = await pingBoards(entries, { ...opts, inventoryFiles: sources });
  return { sources, boards, answered: boards.filter((b) => b.ok).length };
}

export function renderBoards(report: BoardsReport): string {
  const dash = (v: string | undefined) => v ?? '-';
  const header = ['NAME', 'URL', 'AGENT', 'RUN_JOINT', 'FREE', 'LATENCY', ''];
  const rows = report.boards.map((b) =>
    b.ok
      ? [b.name, b.url, b.mode === 'agentless' ? 'agentless' : dash(b.agentVersion), dash(b.runJointVersion), b.freeBytes === undefined ? '-' : formatBytes(b.freeBytes), b.latencyMs === undefined ? `${b.connectMs} ms*` : `${b.latencyMs} ms`, '']
      : [b.name, b.url, '-', '-', '-', '-', `${b.code}: ${b.error}`],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const total = report.boards.length;
  const summary = `${report.answered} of ${total} board${total === 1 ? '' : 's'} answered (${report.sources.join(', ')})`;
  return [line(header), ...rows.map(line), summary].join('\n') + '\n';
}
