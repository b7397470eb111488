/**
 * ssh:// board and jump-host addresses: `ssh://[user@]host[:port]`. The user defaults to the
 * local user name and the port to 22, as with OpenSSH's `ssh`. A password in the URL is refused
 * (axctl authenticates with keys only) and so are a path and query parameters, which would
 * otherwise be silently ignored.
 */
import * as os from 'node:os';
import { UsageError } from '../../shared/errors';

export const DEFAULT_SSH_PORT = 22;

export interface SshTarget {
  user: string;
  /** Host name or address as written (an IPv6 address without its brackets). */
  host: string;
  port: number;
  /** `ssh://user@host[:port]` for messages (the port only when it is not 22). */
  label: string;
  /** The name known_hosts lists this host under: `host`, or `[host]:port` when port is not 22. */
  knownHostsName: string;
}

const EXAMPLE = 'ssh://root@192.168.1.10 or ssh://root@board.local:2222';

export function parseSshUrl(input: string | URL, what = 'the board address'): SshTarget {
  const text = typeof input === 'string' ? input : input.href;
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch {
    throw badUrl(text, what, 'is not a URL');
  }
  if (url.protocol !== 'ssh:') throw badUrl(text, what, 'is not an ssh:// URL');
  if (url.password !== '') {
    throw new UsageError('SSH_PASSWORD_IN_URL', `${what} ${redact(url)} contains a password; axctl logs in with keys only`, {
      hint: 'remove the password and use --identity FILE or an ssh-agent',
    });
  }
  if (url.pathname !== '' && url.pathname !== '/') throw badUrl(text, what, `has a path (${url.pathname}); an ssh:// address names a host only`);
  if (url.search !== '' || url.hash !== '') throw badUrl(text, what, 'has query parameters or a fragment; give SSH settings as options');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw badUrl(text, what, 'names no host');
  const port = url.port === '' ? DEFAULT_SSH_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badUrl(text, what, `has port ${url.port}, not 1 to 65535`);
  const user = url.username === '' ? localUser() : decodeURIComponent(url.username);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    user,
    host,
    port,
    label: `ssh://${user}@${hostPart}${port === DEFAULT_SSH_PORT ? '' : `:${port}`}`,
    knownHostsName: port === DEFAULT_SSH_PORT ? host : `[${host}]:${port}`,
  };
}

function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'root';
  }
}

function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

function badUrl(text: string, what: string, problem: string): UsageError {
  return new UsageError('SSH_BAD_URL', `${what} ${text} ${problem}`, { hint: `write it like ${EXAMPLE}` });
}
