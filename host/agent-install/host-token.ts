/**
 * The host's copy of each installed agent's token: `$XDG_CONFIG_HOME/axctl/tokens/<host>.token`
 * (default ~/.config/axctl/tokens/), one file per board address, mode 600 in a mode 700
 * folder. `axctl agent install` writes it; `axctl boards`, and any command given
 * `--board ssh://user@HOST` or `ws://HOST:PORT` without a token of its own, read it.
 * A board on a non-standard SSH port is `<host>_<port>.token`, so boards behind one gateway
 * (ssh://root@gw:2201, :2202) keep separate tokens; the agent's WebSocket port plays no part.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileSystemError } from '../../shared/errors';
import { tempPathFor, makeFolder } from '../../shared/fs/atomic';
import { parseToken } from '../../shared/protocol/token';

export function tokensDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'axctl', 'tokens');
}

/** The file name for a board URL's host (and SSH port when it is not 22). */
export function tokenFileName(boardUrl: string): string {
  const url = new URL(boardUrl);
  const sshPort = url.protocol === 'ssh:' && url.port && url.port !== '22' ? `_${url.port}` : '';
  return `${tokenFileHost(url)}${sshPort}.token`;
}

/** The host as it appears in token file names: lower case, safe in a file name. */
function tokenFileHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/[^a-z0-9._-]/g, '_');
}

/** A host copy of a token for the same host as some board, kept for another SSH port. */
export interface SameHostToken {
  file: string;
  /** The SSH port `axctl agent install` used: 22 for `<host>.token`. */
  sshPort: number;
}

/**
 * The host's usable copies for `boardUrl`'s host other than its own file, by SSH port: what
 * install over `ssh://HOST:2222` left when the board is now given as `ws://HOST:8700`. Only
 * ever shown to the user, never read in place of the board's own copy: with boards behind one
 * gateway, a copy for another port may be another board's token.
 */
export async function sameHostTokens(boardUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<SameHostToken[]> {
  const own = hostTokenFileOf(boardUrl, env);
  if (own === undefined) return [];
  const host = tokenFileHost(new URL(boardUrl));
  const names = await fsp.readdir(tokensDir(env)).catch(() => [] as string[]);
  const found: SameHostToken[] = [];
  for (const name of names) {
    const sshPort = sshPortInTokenFileName(name, host);
    const file = path.join(tokensDir(env), name);
    if (sshPort === undefined || file === own) continue;
    if ((await readHostToken(file)) !== undefined) found.push({ file, sshPort });
  }
  return found.sort((a, b) => a.sshPort - b.sshPort);
}

/** The SSH port a token file `name` stands for when it is `host`'s (`<host>.token` is port 22). */
function sshPortInTokenFileName(name: string, host: string): number | undefined {
  if (!name.endsWith('.token')) return undefined;
  const stem = name.slice(0, -'.token'.length);
  if (stem === host) return 22;
  const port = stem.startsWith(`${host}_`) ? stem.slice(host.length + 1) : '';
  return /^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65535 ? Number(port) : undefined;
}

/**
 * Where the host keeps the token of the agent at `boardUrl` (ssh:// or ws://); undefined for a
 * URL that names no host (serial:///dev/ttyUSB0): such boards have no host copy, or every one
 * of them would share `.token`.
 */
export function hostTokenFileOf(boardUrl: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(boardUrl).hostname;
  } catch {
    return undefined;
  }
  return hostname.replace(/^\[|\]$/g, '') === '' ? undefined : hostTokenFile(boardUrl, env);
}

/** Where the host keeps the token of the agent at `boardUrl` (ssh:// or ws://). */
export function hostTokenFile(boardUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(tokensDir(env), tokenFileName(boardUrl));
}

/** A fresh secret: 32 random bytes as 64 hex characters. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** The token in `file`, or undefined when there is none (or it is not a usable token). */
export async function readHostToken(file: string): Promise<string | undefined> {
  try {
    const token = (await fsp.readFile(file, 'utf8')).trim();
    parseToken(token, file);
    return token;
  } catch {
    return undefined;
  }
}

/** Writes the token atomically with mode 600 (its folder 700). */
export async function writeHostToken(file: string, token: string): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    await makeFolder(path.dirname(file), 0o700);
    // mkdir's mode applies only to a folder it creates: tighten one made earlier (by hand, or
    // with a looser umask). Best effort: the token file itself is 600 either way.
    await fsp.chmod(path.dirname(file), 0o700).catch(() => undefined);
    await fsp.writeFile(tmp, `${token}\n`, { mode: 0o600 });
    await fsp.chmod(tmp, 0o600);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw fileSystemError(file, err);
  }
}
