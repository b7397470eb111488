/**
 * How openBoard (host/board/open-board.ts) opens boards reached over SSH:
 *   ssh://       the agent over SSH (transport.ts), or agentless SSH when the inventory entry
 *                says `agentless: true` or the caller passes `agentless: true`;
 *   ws://, wss:// the agent's WebSocket, through jump hosts when there are any (ws-via.ts);
 *   serial://    the agent as usual, once it is clear nothing SSH-only was asked for.
 * SSH settings come from the inventory entry, overridden by the caller's `ssh` options (the
 * command line). The agent's token: --token-file, AXCTL_TOKEN or the inventory as usual; for
 * an installed agent reached over ssh:// without one, the token the board keeps in
 * PREFIX/etc/token (read over the same SSH login).
 */
import { AxError, UsageError } from '../../shared/errors';
import { statRegularFile } from '../../shared/fs/regular-file';
import { parseToken } from '../../shared/protocol/token';
import { reinstallOf } from '../agent-install/install-command';
import { AgentBoardSession } from '../board/agent-session';
import { fromInventoryValue } from '../boards/inventory';
import { connectWhileTokenRead, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, isGivenSetting, openWithAgent, resolveToken, schemeOptionsOf, type BoardOpener, type BoardTarget, type OpenBoardOptions } from '../board/open-board';
import { runJointMissingAtStart } from '../board/run-joint-missing';
import { boardLabel, boardNaming, type BoardSession } from '../board/session';
import { AgentClient } from '../client/agent-client';
import { openAgentless } from './agentless/open';
import { parseSshOptions, type SshSchemeOptions } from './options';
import { agentTokenOf, SshAgentTransport } from './transport';

/** What a command adds to OpenBoardOptions for SSH boards (see cli-options.ts). */
export interface SshBoardOptions {
  /** SSH settings from the command line; they win over the inventory's. */
  ssh?: SshSchemeOptions;
  /** --agentless: plain SSH, no agent on the board. */
  agentless?: boolean;
}

type Options = OpenBoardOptions & SshBoardOptions;

/** The inventory entry's SSH settings with the caller's on top. */
export function sshSettingsFor(target: BoardTarget, opts: Options): SshSchemeOptions {
  const fromInventory = schemeOptionsOf(target.entry) as SshSchemeOptions;
  const given = Object.fromEntries(Object.entries(opts.ssh ?? {}).filter(([, v]) => isGivenSetting(v)));
  return parseSshOptions({ ...fromInventory, ...given });
}

/**
 * The inventory's `identity`, when this open logs in with it, must be a file: checked before
 * connecting so a missing key names the axctl.yaml and board it came from, not only a path
 * the user never typed. A key given on the command line is read as given.
 */
async function checkInventoryIdentity(target: BoardTarget, ssh: SshSchemeOptions): Promise<void> {
  const entry = target.entry;
  if (!entry?.identity || ssh.identity !== entry.identity) return;
  const logsIn = target.url.toLowerCase().startsWith('ssh://') || (ssh.via ?? []).length > 0;
  if (!logsIn) return;
  try {
    await statRegularFile(entry.identity);
  } catch (err) {
    throw fromInventoryValue(entry, 'identity', err);
  }
}


export const openAgentlessBoard: BoardOpener = async (target, opts: Options): Promise<BoardSession> => {
  const ssh = sshSettingsFor(target, opts);
  if (!target.url.toLowerCase().startsWith('ssh://')) {
    throw new UsageError('AGENTLESS_NEEDS_SSH', `${target.given}: agentless mode works over ssh:// only, not ${target.url}`, { hint: 'give the board as ssh://user@host, or drop --agentless' });
  }
  await checkInventoryIdentity(target, ssh);
  return openAgentless({ ...boardNaming(target), timeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, ...ssh, ...(opts.signal && { signal: opts.signal }) });
};

/** The agent over ssh://, or over ws:// through jump hosts; agentless when asked for. */
export const openAgentOverSsh: BoardOpener = async (target, opts: Options): Promise<BoardSession> => {
  if (opts.agentless || target.mode === 'agentless') return openAgentlessBoard(target, opts);
  refuseAgentlessOptions(target, opts);
  const ssh = sshSettingsFor(target, opts);
  await checkInventoryIdentity(target, ssh);
  const reinstall = reinstallOf(target, ssh); // for a run_joint problem's hint
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const signal = opts.signal && { signal: opts.signal };
  // The token's error first: a token file that cannot be read is the user's to fix (exit 2)
  // whether or not the board is up. Only a missing one may still come from the board (an
  // installed agent over ssh:// keeps it), so that alone waits for the connection.
  const tokenRead = resolveToken(target, opts).then(
    (token) => ({ token }),
    (err: unknown) => {
      if (err instanceof AxError && err.code === 'TOKEN_MISSING' && target.url.toLowerCase().startsWith('ssh://')) return { missing: err };
      throw err;
    },
  );
  const { given, transport } = await connectWhileTokenRead(tokenRead, target.url, { connectTimeoutMs, schemeOptions: { ...ssh } }, opts.signal);
  let token: Uint8Array;
  if ('token' in given) token = given.token;
  else {
    const fromBoard = await agentTokenOf(transport);
    if (fromBoard === undefined) {
      transport.destroy();
      throw given.missing;
    }
    token = parseToken(fromBoard, `${target.url}: the installed agent's token`);
  }
  let client: AgentClient;
  try {
    client = await AgentClient.connect(transport, { token, timeoutMs: connectTimeoutMs, requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, ...signal });
  } catch (err) {
    // An agent command that died at once explains the failed handshake better than the handshake
    // does; so does a login shell that printed something and then never let the agent start.
    const ssh = transport instanceof SshAgentTransport ? transport : null;
    const silent = ssh && err instanceof AxError && err.code === 'CONNECT_TIMEOUT' ? ssh.silentStart(connectTimeoutMs) : undefined;
    // An installed agent of an earlier release that refused to start because its run_joint is
    // gone: say that, not its own words about --run-joint (an option the user never typed).
    // Today's agent starts anyway and says so at the handshake (runOnBoard reads it).
    throw (ssh && runJointMissingAtStart(ssh, { label: boardLabel(boardNaming(target)), given: target.given }, reinstall)) || ssh?.startFailure || silent || err;
  }
  return new AgentBoardSession(client, { ...boardNaming(target), reinstall });
};

/**
 * --run-joint and --board-cache on the command line act only in agentless mode: an agent runs
 * the run_joint it was installed with. Ignored, they would give a verdict on another run_joint
 * than the one the user named (comparing two runtimes): refused.
 */
function refuseAgentlessOptions(target: BoardTarget, opts: Options): void {
  const given = [opts.ssh?.runJoint !== undefined && '--run-joint', opts.ssh?.cacheDir !== undefined && '--board-cache'].filter((o): o is string => o !== false);
  if (given.length === 0) return;
  throw new UsageError('OPTION_NEEDS_AGENTLESS', `${given.join(' and ')} ${given.length === 1 ? 'acts' : 'act'} only with --agentless; ${target.given} is reached through its agent, which runs the run_joint it was installed with`, {
    hint: `add --agentless to run run_joint over plain SSH, or drop ${given.join(' and ')} (the agent's run_joint is set by axctl agent install --run-joint)`,
  });
}

/**
 * serial:// (and any scheme SSH cannot carry): the agent as usual. --agentless and jump hosts
 * are refused rather than ignored: a user who asked for them would otherwise get a different
 * path than the one they think they are testing.
 */
export const openSerialBoard: BoardOpener = async (target, opts: Options): Promise<BoardSession> => {
  if (opts.agentless) return openAgentlessBoard(target, opts); // which refuses anything but ssh://
  refuseAgentlessOptions(target, opts);
  if ((sshSettingsFor(target, opts).via ?? []).length > 0) {
    throw new UsageError('VIA_NEEDS_NETWORK', `${target.given}: jump hosts (--via) lead to ssh:// and ws:// boards, not to ${target.url}`, {
      hint: `drop --via${target.entry ? ` (and "via" from ${target.entry.source})` : ''}, or reach the board over ssh:// or ws://`,
    });
  }
  return openWithAgent(target, opts);
};
