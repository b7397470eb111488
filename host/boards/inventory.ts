/**
 * Named boards: `--board evb1` resolves through an inventory file to a URL, credentials and
 * jump hosts. The inventory is `axctl.yaml` in the current folder or a parent (the project's),
 * then `$XDG_CONFIG_HOME/axctl/axctl.yaml` (the user's); a project entry wins over a user entry
 * of the same name. Keys are checked against one schema table so a typo is an error, not a
 * silently ignored setting.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AxError, BadFileError, UsageError, quoteForMessage, shortenForMessage } from '../../shared/errors';
import { readTextFile } from '../../shared/fs/regular-file';
import { firstLineOf } from '../../shared/first-line';
import { parseSshUrl } from '../ssh/url';

/**
 * yaml is loaded when an inventory is read, not with this module: every axctl command imports
 * this one (board names, sameBoard), and yaml's 70-odd modules cost ~40 ms of each start.
 */
function parseYaml(text: string, options: { merge: boolean }): unknown {
  return (require('yaml') as typeof import('yaml')).parse(text, options);
}

export interface BoardEntry {
  name: string;
  /** ws://host:port, ssh://user@host[:port], serial:///dev/ttyUSB0?baud=921600 */
  url: string;
  identity?: string;
  token?: string;
  tokenFile?: string;
  via: string[];
  knownHosts?: string;
  runJoint?: string;
  /** Where `axctl agent install` put the agent on the board (default /opt/axagent). */
  agentPrefix?: string;
  /** A command that starts `axagent --stdio` on the board, instead of PREFIX/bin/axagent. */
  agentCommand?: string;
  /** Agentless mode's blob cache folder on the board. */
  boardCache?: string;
  agentless: boolean;
  /** The inventory file the entry came from, for messages. */
  source: string;
}

type KeyKind = 'url' | 'string' | 'secret' | 'path' | 'board-path' | 'boolean' | 'jump-hosts';
/** The inventory's keys: YAML name → field, type, and what it means. */
const BOARD_KEYS: Record<string, { field: keyof BoardEntry; kind: KeyKind; doc: string }> = {
  url: { field: 'url', kind: 'url', doc: 'board address: ws://, ssh:// or serial:// URL (required)' },
  identity: { field: 'identity', kind: 'path', doc: 'SSH private key file' },
  token: { field: 'token', kind: 'secret', doc: 'agent token, quoted (prefer token-file)' },
  'token-file': { field: 'tokenFile', kind: 'path', doc: 'file holding the agent token' },
  via: { field: 'via', kind: 'jump-hosts', doc: 'jump hosts, ssh://user@gateway, in order' },
  'known-hosts': { field: 'knownHosts', kind: 'path', doc: 'known_hosts file for this board' },
  'run-joint': { field: 'runJoint', kind: 'string', doc: 'run_joint path on the board' },
  'agent-prefix': { field: 'agentPrefix', kind: 'board-path', doc: 'where axctl agent install put the agent on the board (default /opt/axagent)' },
  'agent-command': { field: 'agentCommand', kind: 'string', doc: 'command starting axagent --stdio on the board (instead of PREFIX/bin/axagent)' },
  'board-cache': { field: 'boardCache', kind: 'string', doc: "agentless mode's cache folder on the board" },
  agentless: { field: 'agentless', kind: 'boolean', doc: 'use SSH without the agent' },
};

export const INVENTORY_FILE_NAME = 'axctl.yaml';

export function userInventoryFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'axctl', INVENTORY_FILE_NAME);
}

/** The project's inventory: axctl.yaml in `start` or the nearest parent that has one. */
export async function findProjectInventory(start: string = process.cwd()): Promise<string | undefined> {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, INVENTORY_FILE_NAME);
    if (await exists(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function loadInventory(opts: { cwd?: string; files?: string[] } = {}): Promise<Map<string, BoardEntry>> {
  const files = opts.files ?? [userInventoryFile(), await findProjectInventory(opts.cwd)].filter((f): f is string => !!f);
  const boards = new Map<string, BoardEntry>();
  for (const file of files) {
    if (!(await exists(file))) continue;
    for (const entry of await readInventoryFile(file)) boards.set(entry.name, entry);
  }
  return boards;
}

/** Where the README's inventory section is, for hints. */
const SEE_README = 'see "Named boards" in the README';
const EXAMPLE = 'e.g. "boards: { evb1: { url: ws://192.168.1.20:7007 } }"';

export async function readInventoryFile(file: string): Promise<BoardEntry[]> {
  const text = await readTextFile(file, { what: 'a board inventory' });
  let doc: unknown;
  try {
    // Merge keys (`<<: *lab`) let boards share settings; yaml 2 leaves them off by default.
    doc = parseYaml(text, { merge: true });
  } catch (err) {
    const problem = firstLineOf(err);
    throw new BadFileError('INVENTORY_SYNTAX', file, `is not valid YAML: ${problem}`, { hint: `fix the YAML at that line; ${SEE_README}` });
  }
  if (doc == null) return [];
  const boards = (doc as { boards?: unknown }).boards;
  if (typeof doc !== 'object' || boards === undefined) {
    throw new BadFileError('INVENTORY_SHAPE', file, 'has no `boards:` map', { hint: `${EXAMPLE}; ${SEE_README}` });
  }
  if (typeof boards !== 'object' || boards === null || Array.isArray(boards)) {
    throw new BadFileError('INVENTORY_SHAPE', file, '`boards:` must map board names to settings', { hint: EXAMPLE });
  }
  for (const key of Object.keys(doc)) {
    // `board:` next to `boards:` is a typo; x- keys are a place for YAML anchors (`x-lab: &lab`).
    if (key !== 'boards' && !key.startsWith('x-')) {
      throw new BadFileError('INVENTORY_UNKNOWN_KEY', file, `unknown top-level key "${key}"`, {
        hint: `the file holds \`boards:\`, and keys starting with x- for YAML anchors; ${SEE_README}`,
      });
    }
  }
  return Object.entries(boards as Record<string, unknown>).map(([name, raw]) => {
    checkBoardName(file, name);
    return toEntry(file, name, raw);
  });
}

/**
 * A name `--board NAME` can select: resolveBoard trims the value and takes "" for no board and
 * anything with `scheme://` for a URL. A control character would break the one-line listings.
 */
function checkBoardName(file: string, name: string): void {
  const problem =
    name.trim() === '' ? 'is empty: --board could never select it'
    : looksLikeUrl(name) || name.includes('://') ? 'looks like a URL: --board would take it for one and never select the board'
    : name !== name.trim() ? 'starts or ends with white space, which --board trims: it could never select the board'
    : /[\x00-\x1f\x7f]/.test(name) ? 'holds a control character'
    : undefined;
  if (problem) {
    throw new BadFileError('INVENTORY_BAD_NAME', file, `the board name ${JSON.stringify(name)} ${problem}`, {
      hint: 'name boards with letters, digits, dots, dashes and underscores, e.g. evb1 or lab-2.rack3; put the address in url:',
    });
  }
}

function toEntry(file: string, name: string, raw: unknown): BoardEntry {
  if (typeof raw === 'string') raw = { url: raw };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BadFileError('INVENTORY_SHAPE', file, `board "${name}" must be a URL or a map of settings`, { hint: EXAMPLE });
  }
  const entry: BoardEntry = { name, url: '', via: [], agentless: false, source: file };
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const spec = BOARD_KEYS[key];
    if (!spec) {
      throw new BadFileError('INVENTORY_UNKNOWN_KEY', file, `board "${name}": unknown key "${key}"`, {
        hint: `known keys: ${Object.keys(BOARD_KEYS).join(', ')}`,
      });
    }
    (entry as unknown as Record<string, unknown>)[spec.field] = coerce(file, name, key, spec.kind, value);
  }
  if (!entry.url) {
    throw new BadFileError('INVENTORY_NO_URL', file, `board "${name}" has no url`, {
      hint: 'add one, e.g. url: ws://192.168.1.20:7007, ssh://root@HOST or serial:///dev/ttyUSB0',
    });
  }
  return entry;
}

function coerce(file: string, board: string, key: string, kind: KeyKind, value: unknown): unknown {
  const bad = (want: string, hint: string = kind === 'path' ? pathHint(key) : HINTS[kind]) => new BadFileError('INVENTORY_BAD_VALUE', file, `board "${board}": "${key}" must be ${want}`, { hint });
  switch (kind) {
    case 'url':
      if (typeof value !== 'string') throw bad(`a URL, not ${describeYaml(value)}`);
      if (!looksLikeUrl(value) || !parsesAsUrl(value)) throw bad(`a URL, not ${quoteForMessage(value)}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'jump-hosts': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw bad('a URL or a list of URLs');
      // Checked here, not at the first connection, so the message names this file and board.
      for (const url of list) {
        try {
          parseSshUrl(url, 'the jump host');
        } catch (err) {
          throw new BadFileError('INVENTORY_BAD_VALUE', file, `board "${board}": "${key}": ${(err as Error).message}`, { hint: HINTS[kind] });
        }
      }
      return list;
    }
    case 'path':
      if (typeof value !== 'string') throw bad(`a path, not ${describeYaml(value)}`);
      // "" would resolve to the inventory's own folder and fail later as "is a folder".
      if (value.trim() === '') throw bad('a path, not empty');
      return expandHome(value, path.dirname(file));
    case 'board-path':
      if (typeof value !== 'string') throw bad(`an absolute path on the board, not ${describeYaml(value)}`);
      if (!value.startsWith('/')) throw bad(`an absolute path on the board, not ${quoteForMessage(value)}`);
      return value;
    case 'secret':
      // YAML reads an unquoted all-digit token as a number and may drop digits: refuse it.
      if (typeof value !== 'string') throw bad('a quoted string (write token: "...")');
      return value;
    case 'string':
      if (typeof value !== 'string' && typeof value !== 'number') throw bad('a string');
      if (String(value).trim() === '') throw bad('a string, not empty');
      return String(value);
  }
}

function parsesAsUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/** What to write instead, by kind of key. */
const HINTS: Record<KeyKind, string> = {
  url: 'write it like ws://192.168.1.20:7007, ssh://root@192.168.1.20 or serial:///dev/ttyUSB0',
  string: 'write it as text; quote it if YAML reads it otherwise',
  secret: 'quote it: token: "..."',
  path: 'write a file path; quote it if YAML reads it otherwise',
  'board-path': 'write a path starting with /, e.g. agent-prefix: /opt/axagent',
  boolean: 'write true or false',
  'jump-hosts': 'write one ssh:// URL, or a list: [ssh://me@gw1, ssh://me@gw2]',
};

/** The path hint with an example for the key at hand: an identity is no token file. */
function pathHint(key: string): string {
  const example = { identity: '~/.ssh/id_ed25519', 'known-hosts': './lab_known_hosts' }[key] ?? '~/.config/axctl/evb1.token';
  return `write a file path, e.g. ${key}: ${example}; quote it if YAML reads it otherwise`;
}

/** A YAML value that is not a string, as the user would recognise it: "the number 12345". */
function describeYaml(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `the ${typeof value} ${shortenForMessage(String(value))}`;
}

/**
 * An error about a value the inventory supplied (a token-file that is missing...), said as
 * coming from there: the user typed no such path, so the message names the file and board
 * that did. Code, exit code and hint stay those of the error.
 */
export function fromInventoryValue(entry: BoardEntry, key: keyof typeof BOARD_KEYS, err: unknown): unknown {
  if (!(err instanceof AxError)) return err;
  return new AxError(err.code, `${entry.source}: board "${entry.name}": "${key}": ${err.message}`, err.exitCode, { ...(err.hint !== undefined && { hint: err.hint }), cause: err });
}

/** `~/x` → home; relative paths are relative to the inventory file's folder. */
function expandHome(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(base, p);
}

/** A `--board` value that is not a URL must name an inventory entry. */
export function looksLikeUrl(board: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(board);
}

/**
 * `a` and `b` name the same board as far as the .axctl/ record is concerned: as typed, except
 * that a URL's bare root path does not count (`ws://host:7007/` is `ws://host:7007`).
 */
export function sameBoard(a: string, b: string): boolean {
  const key = (board: string) => (looksLikeUrl(board) ? board.replace(/^([^:]+:\/\/[^/?#]*)\/$/, '$1') : board);
  return key(a) === key(b);
}

export async function lookupBoard(nameOrUrl: string, opts: { cwd?: string; files?: string[] } = {}): Promise<BoardEntry | undefined> {
  if (looksLikeUrl(nameOrUrl)) return undefined;
  const boards = await loadInventory(opts);
  const entry = boards.get(nameOrUrl);
  if (!entry) {
    const known = [...boards.keys()];
    // HOST:PORT or a bare address is the usual slip: say which URL was probably meant.
    const meant = /^[\w.-]+:\d+$/.test(nameOrUrl) ? `ws://${nameOrUrl}` : /^(\d+\.){3}\d+$/.test(nameOrUrl) ? `ssh://root@${nameOrUrl}` : null;
    throw new UsageError('BOARD_UNKNOWN', `unknown board "${nameOrUrl}": not a URL and not in any ${INVENTORY_FILE_NAME}`, {
      hint: meant
        ? `did you mean ${meant}? A board is a ws://, ssh:// or serial:// URL, or a name from ${INVENTORY_FILE_NAME}`
        : known.length
          ? `known boards: ${known.join(', ')}`
          : `use ws://, ssh:// or serial:// or add it to ${INVENTORY_FILE_NAME}`,
    });
  }
  return entry;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}
