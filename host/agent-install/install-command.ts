/**
 * The `axctl agent install` command a hint gives, with what it needs to reach the same board and
 * install in the same place: --prefix when not the default, --via for a board behind gateways.
 * Kept apart from the install code so the board-opening code can name it without loading that.
 */
import type { AgentReinstall } from '../../shared/run/agent-run-joint-check';
import { optionWords } from '../ssh/options';
import { DEFAULT_PREFIX } from './layout';

export interface InstallPlace {
  /** Where the agent is (--prefix; --agent-prefix of the other commands); default /opt/axagent. */
  prefix?: string | undefined;
  /** Jump hosts, in order. */
  via?: readonly string[] | undefined;
}

/** The command that (re)installs the agent from this axctl release. */
export function installCommand(sshLabel: string, place: InstallPlace = {}): string {
  const prefix = place.prefix === DEFAULT_PREFIX ? undefined : place.prefix;
  return ['axctl agent install --board', sshLabel, ...optionWords([['--prefix', prefix]], place.via)].join(' ');
}

/** The SSH login `axctl agent install` needs for a board URL (USER is a placeholder for ws://...). */
export function sshLoginOf(boardUrl: string): string {
  if (/^ssh:\/\//i.test(boardUrl)) return boardUrl.replace(/\/$/, '');
  let host = '';
  try {
    host = new URL(boardUrl).host.replace(/:\d+$/, '');
  } catch {
    // not a URL: the placeholder below
  }
  return `ssh://USER@${host || 'HOST'}`;
}

/**
 * How to reinstall the agent of a board reached at `board.url` (given as `board.given`: a URL or
 * an inventory name): over ssh:// the same --board, with the --agent-prefix and --via it was
 * reached with; a ws:// or serial:// board's install goes over SSH to its host (USER to fill in).
 */
export function reinstallOf(board: { given: string; url: string }, ssh: { agentPrefix?: string | undefined; via?: readonly string[] | undefined } = {}): AgentReinstall {
  const overSsh = /^ssh:\/\//i.test(board.url);
  const login = overSsh ? board.given : sshLoginOf(board.url);
  return { overSsh, command: installCommand(login, { ...(overSsh && { prefix: ssh.agentPrefix }), via: ssh.via }) };
}
