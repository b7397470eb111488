/**
 * Host key checking against an OpenSSH known_hosts file, with OpenSSH's rules:
 *   - a line is `[marker] patterns keytype base64 [comment]`; patterns are a comma list of
 *     names (`*` and `?` wildcards, `!name` negates), `[host]:port` for ports other than 22,
 *     or one hashed name `|1|salt|hmac-sha1(salt, name)` (HashKnownHosts);
 *   - `@revoked` lines name keys that are refused wherever they turn up; `@cert-authority`
 *     lines (host certificates) are not supported and are skipped; lines that do not parse
 *     are skipped, as OpenSSH does.
 * A key is identified by its wire blob (what the server sends); fingerprints are printed as
 * OpenSSH prints them: `SHA256:` and the unpadded base64 of the blob's sha256.
 */
import { createHash, createHmac } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileSystemError } from '../../shared/errors';
import { makeFolder } from '../../shared/fs/atomic';

export interface KnownHostLine {
  marker: 'revoked' | null;
  /** The comma-separated patterns, or the hashed name. */
  patterns: string;
  keyType: string;
  key: Buffer;
  /** 1-based line number, for messages. */
  line: number;
}

export type HostKeyVerdict =
  /** The key is listed for this host. */
  | { status: 'known'; line: number }
  /** Nothing is listed for this host. */
  | { status: 'unknown' }
  /** Keys are listed for this host, but not this one: a changed key (or a key of a type no longer offered). */
  | { status: 'changed'; line: number; knownTypes: string[] }
  /** The key is marked @revoked. */
  | { status: 'revoked'; line: number };

/** Reads a known_hosts file; a file that does not exist lists nothing. */
export async function readKnownHosts(file: string): Promise<KnownHostLine[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fileSystemError(file, err);
  }
  return parseKnownHosts(text);
}

export function parseKnownHosts(text: string): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostLine['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      if (fields[0] !== '@revoked') return; // @cert-authority and unknown markers
      marker = 'revoked';
      fields.shift();
    }
    const [patterns, keyType, base64] = fields;
    if (!patterns || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    if (keyTypeOf(key) !== keyType) return;
    lines.push({ marker, patterns, keyType, key, line: i + 1 });
  });
  return lines;
}

/** Does `name` (`host` or `[host]:port`) match this line's patterns? */
export function matchesHost(patterns: string, name: string): boolean {
  const lower = name.toLowerCase();
  if (patterns.startsWith('|1|')) return hashedMatch(patterns, lower);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, lower)) continue;
    if (negated) return false; // a negated match overrides any positive one
    matched = true;
  }
  return matched;
}

export function checkHostKey(lines: KnownHostLine[], name: string, key: Buffer): HostKeyVerdict {
  const revoked = lines.find((l) => l.marker === 'revoked' && l.key.equals(key));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const forHost = lines.filter((l) => l.marker === null && matchesHost(l.patterns, name));
  const same = forHost.find((l) => l.key.equals(key));
  if (same) return { status: 'known', line: same.line };
  if (forHost.length === 0) return { status: 'unknown' };
  const type = keyTypeOf(key);
  const sameType = forHost.find((l) => l.keyType === type);
  return { status: 'changed', line: (sameType ?? forHost[0]!).line, knownTypes: [...new Set(forHost.map((l) => l.keyType))] };
}

/** The key types known_hosts lists for `name`, in file order (to ask the server for those first). */
export function knownKeyTypes(lines: KnownHostLine[], name: string): string[] {
  return [...new Set(lines.filter((l) => l.marker === null && matchesHost(l.patterns, name)).map((l) => l.keyType))];
}

/** Appends `name keytype base64` to the file (created 0600, its folder 0700, if missing). */
export async function appendKnownHost(file: string, name: string, key: Buffer): Promise<void> {
  const entry = `${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
  try {
    await makeFolder(path.dirname(file), 0o700);
    let prefix = '';
    const existing = await fsp.readFile(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return Buffer.alloc(0);
      throw err;
    });
    if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) prefix = '\n';
    // One write in append mode: another ssh adding its own line at the same time cannot interleave.
    await fsp.appendFile(file, prefix + entry, { mode: 0o600 });
  } catch (err) {
    throw fileSystemError(file, err);
  }
}

/** `SHA256:…` as OpenSSH prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a wire-format public key (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`…). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  if (length > 64 || 4 + length > key.length) return '';
  return key.subarray(4, 4 + length).toString('latin1');
}

/** How OpenSSH names a key type in messages: ED25519, RSA, ECDSA. */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType.startsWith('ecdsa-')) return 'ECDSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType;
}

/** Host key algorithms (ssh2 names) that produce keys of `keyType`. */
export function algorithmsFor(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (!salt || !hash) return false;
  const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return expected === hash;
}

function wildcardMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name;
  const regex = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(name);
}
