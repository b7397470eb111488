/**
 * The host service behind `axctl agent install|status|uninstall`: resolves the board, opens
 * one SSH connection, runs the operation and always closes the connection.
 */
import * as path from 'node:path';
import { AxError, UsageError } from '../../shared/errors';
import { readTextFile } from '../../shared/fs/regular-file';
import { version as AXCTL_VERSION } from '../../package.json';
import { asTyped, secondsOption } from '../cli-numbers';
import type { BoardLink } from './board-link';
import { INSTALL_DEFAULTS, installAgent, loadAgentBundle, type InstallOptions, type InstallReport } from './install';
import { DEFAULT_PORT, SERVICE_KINDS, checkBoardPath, type ServiceKind } from './layout';
import { openSshLink } from './ssh-link';
import { agentStatus, type StatusReport } from './status';
import { resolveAgentTarget, type AgentTargetArgs } from './target';
import { uninstallAgent, type UninstallReport } from './uninstall';

/** dist/axagent.js beside the compiled CLI (dist/host/agent-install/ → dist/). */
export const DEFAULT_AGENT_BUNDLE = path.resolve(__dirname, '..', '..', 'axagent.js');

export interface CommonArgs extends AgentTargetArgs {
  prefix?: string;
  initdDir?: string;
  cwd?: string;
  inventoryFiles?: string[];
  env?: NodeJS.ProcessEnv;
  /** Opens the link (tests may hand in another); default: SSH. */
  openLink?: typeof openSshLink;
}

export interface InstallArgs extends CommonArgs {
  service?: string;
  runJoint?: string;
  port?: number;
  listenHost?: string;
  store?: string;
  node?: string;
  agentFile?: string;
  /** Seconds. */
  checkTimeout?: number;
  /** Write the service file over one axctl did not write. */
  replaceServiceFile?: boolean;
}

async function withLink<T>(args: CommonArgs, run: (link: BoardLink, runJoint: string | undefined) => Promise<T>): Promise<T> {
  const target = await resolveAgentTarget(args, { ...(args.cwd && { cwd: args.cwd }), ...(args.inventoryFiles && { inventoryFiles: args.inventoryFiles }) });
  if (target.ssh.identity !== undefined) await checkIdentityFile(target.ssh.identity, target.ssh.identity === args.identity ? '--identity' : `the identity of board "${args.board}" in the inventory`);
  const link = await (args.openLink ?? openSshLink)(target.url, target.ssh);
  try {
    return await run(link, target.runJoint);
  } finally {
    await link.close();
  }
}

/**
 * The SSH key must be a readable file: checked before connecting, so a wrong path is the
 * user's to fix (exit 2) whether or not the board answers. Its content is judged at login.
 */
async function checkIdentityFile(file: string, given: string): Promise<void> {
  try {
    await readTextFile(file, { what: 'an SSH private key', maxBytes: 1024 * 1024 });
  } catch (err) {
    if (!(err instanceof AxError)) throw err;
    throw new AxError(err.code, err.message, err.exitCode, { hint: `${given} names the SSH private key file${err.hint ? `: ${err.hint}` : ''}`, cause: err });
  }
}

function commonPaths(args: CommonArgs): { prefix: string; initdDir: string } {
  return {
    prefix: checkBoardPath('--prefix', args.prefix ?? INSTALL_DEFAULTS.prefix),
    initdDir: checkBoardPath('--initd-dir', args.initdDir ?? INSTALL_DEFAULTS.initdDir),
  };
}

export function parseInstallOptions(args: InstallArgs, inventoryRunJoint?: string): InstallOptions {
  const service = (args.service ?? 'auto') as ServiceKind | 'auto';
  if (service !== 'auto' && !SERVICE_KINDS.includes(service)) {
    throw new UsageError('BAD_SERVICE_KIND', `--service ${args.service}: expected auto, systemd, initd or none`, {
      hint: 'auto (the default) picks systemd where it runs, else init.d, else none; see axctl agent --help',
    });
  }
  const port = args.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError('BAD_PORT', `--port ${asTyped('port', port)}: expected a port number from 1 to 65535`, { hint: `e.g. --port ${DEFAULT_PORT}, the default` });
  }
  const listenHost = (args.listenHost ?? INSTALL_DEFAULTS.listenHost).trim();
  if (!/^[0-9A-Za-z.:-]+$/.test(listenHost)) throw new UsageError('BAD_LISTEN_HOST', `--listen-host ${args.listenHost}: expected an address such as 0.0.0.0 or 127.0.0.1`, {
      hint: 'give one address: 0.0.0.0 (every interface, the default) or 127.0.0.1 (the board itself)',
    });
  const checkTimeoutMs = secondsOption('check-timeout', args.checkTimeout, { code: 'BAD_TIMEOUT' }) ?? INSTALL_DEFAULTS.checkTimeoutMs;
  const runJoint = args.runJoint ?? inventoryRunJoint;
  return {
    ...commonPaths(args),
    service,
    port,
    listenHost,
    checkTimeoutMs,
    agentBundle: path.resolve(args.agentFile ?? DEFAULT_AGENT_BUNDLE),
    ...(runJoint && { runJoint: checkBoardPath('--run-joint', runJoint) }),
    ...(args.store && { store: checkBoardPath('--store', args.store) }),
    ...(args.node && { node: checkBoardPath('--node', args.node) }),
    ...(args.env && { env: args.env }),
    ...(args.replaceServiceFile && { replaceServiceFile: true }),
  };
}

export async function runInstall(args: InstallArgs): Promise<InstallReport> {
  // Bad options and local files are refused before connecting (exit 2, board up or not).
  const loadedBundle = await loadAgentBundle(parseInstallOptions(args).agentBundle);
  return withLink(args, (link, inventoryRunJoint) => installAgent(link, { ...parseInstallOptions(args, inventoryRunJoint), loadedBundle }));
}

export async function runStatus(args: CommonArgs & { checkTimeout?: number }): Promise<StatusReport> {
  const paths = commonPaths(args);
  const checkTimeoutMs = secondsOption('check-timeout', args.checkTimeout, { code: 'BAD_TIMEOUT' }) ?? 10_000;
  return withLink(args, (link) => agentStatus(link, { ...paths, thisVersion: AXCTL_VERSION, checkTimeoutMs, ...(args.env && { env: args.env }) }));
}

export async function runUninstall(args: CommonArgs & { purgeStore?: boolean }): Promise<UninstallReport> {
  const paths = commonPaths(args);
  return withLink(args, (link) => uninstallAgent(link, { ...paths, purgeStore: args.purgeStore ?? false }));
}
