/**
 * The SSH settings a command passes down (OpenTransportOptions.schemeOptions, or the agentless
 * opener's options), in one table: name, type and meaning. Unknown keys and wrong types are
 * refused with one line, so a typo in a caller never silently falls back to a default.
 */
import { UsageError } from '../../shared/errors';

export interface SshSchemeOptions {
  /** --identity FILE: private key to log in with (besides the ssh-agent's keys). */
  identity?: string;
  /** --known-hosts FILE: default ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** --accept-new-host-key: add an unknown host key to the known_hosts file. */
  acceptNewHostKey?: boolean;
  /** --via URL (repeatable): jump hosts, in order. */
  via?: string[];
  /** --agent-command CMD: how to start the agent on the board (overrides agentPrefix). */
  agentCommand?: string;
  /** Where `axctl agent install` put the agent on the board. Default /opt/axagent. */
  agentPrefix?: string;
  /**
   * Reach the installed agent's running process at its socket, through sshd, before starting
   * PREFIX/bin/axagent --stdio (default true; `axctl agent install`/`status` check the wrapper).
   */
  reachRunningAgent?: boolean;
  /** --run-joint PATH (agentless): run_joint on the board. Default `run_joint` from the login shell's PATH. */
  runJoint?: string;
  /** Agentless cache folder on the board. Default ~/.cache/axctl (~ is the login's home). */
  cacheDir?: string;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null disables the agent. */
  agentSocket?: string | null;
  /** SSH keepalive interval in ms (default 15000; 0 = off). */
  keepaliveMs?: number;
}

type Kind = 'string' | 'boolean' | 'string-list' | 'string-or-null' | 'number';

export const SSH_OPTION_KINDS: Record<keyof SshSchemeOptions, Kind> = {
  identity: 'string',
  knownHosts: 'string',
  acceptNewHostKey: 'boolean',
  via: 'string-list',
  agentCommand: 'string',
  agentPrefix: 'string',
  reachRunningAgent: 'boolean',
  runJoint: 'string',
  cacheDir: 'string',
  agentSocket: 'string-or-null',
  keepaliveMs: 'number',
};

/**
 * Options as command-line words, for a hint or a next step to repeat them: `--flag value` for
 * each value given, then `--via URL` for each jump host (sshOptionWords, installCommand).
 */
export function optionWords(pairs: [string, string | undefined][], via: readonly string[] = []): string[] {
  const words: string[] = [];
  for (const [flag, value] of pairs) if (value !== undefined) words.push(flag, value);
  for (const hop of via) words.push('--via', hop);
  return words;
}

/** Checks `raw`; undefined values are dropped, unknown keys refused (SSH_BAD_OPTION). */
export function parseSshOptions(raw: Record<string, unknown> = {}): SshSchemeOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const kind = SSH_OPTION_KINDS[key as keyof SshSchemeOptions];
    if (!kind) throw new UsageError('SSH_BAD_OPTION', `'${key}' is not an SSH setting`, { hint: `known: ${Object.keys(SSH_OPTION_KINDS).join(', ')}` });
    out[key] = check(key, kind, value);
  }
  const opts = out as SshSchemeOptions;
  if (opts.agentCommand !== undefined && opts.agentCommand.trim() === '') throw new UsageError('SSH_BAD_OPTION', '--agent-command is empty', { hint: 'give the command that starts axagent --stdio on the board' });
  if (opts.agentPrefix !== undefined && !opts.agentPrefix.startsWith('/')) {
    throw new UsageError('SSH_BAD_OPTION', `the agent prefix ${opts.agentPrefix} is not an absolute path`, { hint: 'e.g. /opt/axagent' });
  }
  return opts;
}

function check(key: string, kind: Kind, value: unknown): unknown {
  const bad = (want: string) => new UsageError('SSH_BAD_OPTION', `SSH setting '${key}' must be ${want}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
      return value;
    case 'string-or-null':
      if (value !== null && (typeof value !== 'string' || value === '')) throw bad('a path or null');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw bad('a number of milliseconds');
      return value;
    case 'string-list': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v !== '')) throw bad('a list of ssh:// URLs');
      return list;
    }
  }
}
