/**
 * From `--board` and the SSH options of `axctl agent ...` to the SSH target: an ssh:// URL,
 * or the name of an inventory board whose url is ssh:// (its identity, known-hosts, via and
 * run-joint are used unless the command line gives them). Agent installation always goes
 * over SSH; a ws:// or serial:// board cannot be installed through.
 */
import { UsageError } from '../../shared/errors';
import { lookupBoard, looksLikeUrl } from '../boards/inventory';
import { secondsOption } from '../cli-numbers';
import { parseSshUrl } from '../ssh/url';
import type { SshSettings } from './board-link';

export interface AgentTargetArgs {
  board: string;
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
  via?: string[];
  /** Seconds. */
  connectTimeout?: number;
}

export interface AgentTarget {
  /** ssh://user@host[:port] as written (or as the inventory has it). */
  url: string;
  ssh: SshSettings;
  /** run_joint path from the inventory, when the board is named there. */
  runJoint?: string;
}

export async function resolveAgentTarget(args: AgentTargetArgs, opts: { cwd?: string; inventoryFiles?: string[] } = {}): Promise<AgentTarget> {
  const given = args.board.trim();
  if (given === '') throw new UsageError('BOARD_MISSING', 'no board given', { hint: 'pass --board ssh://USER@HOST' });
  const entry = looksLikeUrl(given) ? undefined : await lookupBoard(given, { ...(opts.cwd && { cwd: opts.cwd }), ...(opts.inventoryFiles && { files: opts.inventoryFiles }) });
  const url = entry?.url ?? given;
  if (!/^ssh:\/\//i.test(url)) {
    throw new UsageError('AGENT_NEEDS_SSH', `${entry ? `board "${given}" is ${url}` : url}: installing and inspecting the agent goes over SSH`, {
      hint: 'pass --board ssh://USER@HOST, the board\'s SSH login',
    });
  }
  parseSshUrl(url);
  const timeoutMs = secondsOption('connect-timeout', args.connectTimeout, { code: 'BAD_TIMEOUT' });
  const via = args.via && args.via.length > 0 ? args.via : entry?.via;
  const identity = args.identity ?? entry?.identity;
  const knownHosts = args.knownHosts ?? entry?.knownHosts;
  return {
    url,
    ssh: {
      ...(identity && { identity }),
      ...(knownHosts && { knownHosts }),
      ...(args.acceptNewHostKey && { acceptNewHostKey: true }),
      ...(via && via.length > 0 && { via }),
      ...(timeoutMs !== undefined && { timeoutMs }),
    },
    ...(entry?.runJoint && { runJoint: entry.runJoint }),
  };
}
