/**
 * `axctl agent install`: puts the single-file agent on a board over SSH, with a token, a
 * wrapper and (optionally) a service, then checks that it answers. Idempotent: run again, it
 * upgrades the agent in place, keeps the board's token and settings not given anew, and
 * restarts the service. Nothing is decided on the board: one probe reads its state, the host
 * decides, and a few scripts apply the decision.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { BadFileError, UsageError } from '../../shared/errors';
import { MIN_TOKEN_CHARS } from '../../shared/protocol/token';
import type { BoardLink } from './board-link';
import { parseKeyValues, runScript, text } from './board-shell';
import { checkError, checkService, checkStdio, type CheckResult } from './checks';
import { hostTokenFile, newToken, readHostToken, writeHostToken } from './host-token';
import { DEFAULT_INITD_DIR, DEFAULT_PORT, DEFAULT_PREFIX, layoutOf, serviceFileOf, type AgentConf, type ServiceKind } from './layout';
import { chooseService, nodeMajor, probeBoard, type BoardProbe } from './probe';
import { prepareStoreScript, receiveAgentCommand, removeMadeFoldersScript, removeServiceScript, serviceLogScript, startServiceScript, undoReceiveScript, writeInstallationScript } from './remote-scripts';

export const MIN_BOARD_NODE_MAJOR = 18;

export interface InstallOptions {
  prefix: string;
  service: ServiceKind | 'auto';
  /** run_joint on the board; default: the installed setting, $PATH, then the usual places. */
  runJoint?: string;
  /** The service's WebSocket port. */
  port: number;
  /** Address the service listens on. */
  listenHost: string;
  /** Blob store folder on the board; default: the installed setting, else PREFIX/store. */
  store?: string;
  /** Where init.d scripts live (tests point it into a temp folder). */
  initdDir: string;
  /** Node on the board; default: the installed setting, else `node` or `nodejs` on $PATH. */
  node?: string;
  /** The local agent bundle (dist/axagent.js). */
  agentBundle: string;
  /** The bundle already read and run (loadAgentBundle, before connecting); else read here. */
  loadedBundle?: AgentBundle;
  /** How long each answer check may take. */
  checkTimeoutMs: number;
  /** Environment for the host token folder (XDG_CONFIG_HOME, HOME). */
  env?: NodeJS.ProcessEnv;
  /** Write the service file over one that `axctl agent install` did not write (refused otherwise). */
  replaceServiceFile?: boolean;
}

export const INSTALL_DEFAULTS = {
  prefix: DEFAULT_PREFIX,
  service: 'auto' as const,
  port: DEFAULT_PORT,
  listenHost: '0.0.0.0',
  initdDir: DEFAULT_INITD_DIR,
  checkTimeoutMs: 20_000,
};

export interface InstallReport {
  board: string;
  prefix: string;
  wrapper: string;
  version: string;
  /** The version that was installed before, when this was an upgrade. */
  previousVersion?: string;
  service: ServiceKind;
  serviceFile?: string;
  /** Why `auto` chose what it chose, or what replaced an earlier service. */
  serviceNote?: string;
  listen?: string;
  node: string;
  nodeVersion: string;
  runJoint: string;
  store: string;
  boardTokenFile: string;
  hostTokenFile: string;
  /** The board's token was kept (re-install) rather than made or copied from the host. */
  tokenKept: boolean;
  checks: { stdio: CheckResult; service?: CheckResult };
}

/** The version a bundle reports (`node axagent.js --version`), which also proves it loads. */
export function bundleVersion(bundle: string): string {
  let version: string;
  try {
    version = execFileSync(process.execPath, [bundle, '--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim().split('\n')[0];
    throw new BadFileError('AGENT_BUNDLE_BAD', bundle, `does not run as the agent${stderr ? `: ${stderr}` : ''}`, { hint: 'run `npm run build` to make dist/axagent.js' });
  }
  // An empty file runs and prints nothing: not the agent either.
  if (!/^\d+\.\d+\.\d+\S*$/.test(version)) {
    throw new BadFileError('AGENT_BUNDLE_BAD', bundle, `is not the agent: \`--version\` printed ${version === '' ? 'nothing' : JSON.stringify(version.slice(0, 60))}`, { hint: 'run `npm run build` to make dist/axagent.js' });
  }
  return version;
}

export interface AgentBundle {
  data: Buffer;
  version: string;
}

/** The local agent bundle and its version; a missing or broken one is refused (exit 2). */
export async function loadAgentBundle(file: string): Promise<AgentBundle> {
  const data = await readBundle(file);
  return { data, version: bundleVersion(file) };
}

export async function installAgent(link: BoardLink, opts: InstallOptions): Promise<InstallReport> {
  const { data: bundle, version } = opts.loadedBundle ?? (await loadAgentBundle(opts.agentBundle));
  const layout = layoutOf(opts.prefix);
  const probe = await probeBoard(link.shell, link.label, { prefix: layout.prefix, initdDir: opts.initdDir, ...(opts.node && { node: opts.node }), ...(opts.runJoint && { runJoint: opts.runJoint }), ...(opts.store && { store: opts.store }) });
  const plan = planInstall(link.label, probe, opts, layout.defaultStore);
  const previous = probe.conf;

  const tokenFile = hostTokenFile(link.label, opts.env);
  const boardToken = probe.token && probe.token.length >= MIN_TOKEN_CHARS ? probe.token : undefined;
  const token = boardToken ?? (await readHostToken(tokenFile)) ?? newToken();

  const serviceFile = serviceFileOf(plan.service, { initdDir: opts.initdDir });
  const conf: AgentConf = { version, node: plan.node, store: plan.store, runJoint: plan.runJoint, listenHost: opts.listenHost, port: opts.port, service: plan.service, ...(serviceFile && { serviceFile }) };

  // A store outside the prefix is made (and proved writable) first: one that cannot be is
  // refused before anything else changes, and what this made is removed again.
  const storeOutside = plan.store !== layout.prefix && !plan.store.startsWith(`${layout.prefix}/`);
  let storeMade: string | undefined;
  if (storeOutside) {
    const prepared = await link.shell.exec('sh -s', { stdin: prepareStoreScript(plan.store), timeoutMs: 60_000 });
    if (prepared.code !== 0) {
      const why = text(prepared.stderr).trim().split('\n').pop() || `exit code ${prepared.code}`;
      const which = opts.store ? `--store ${plan.store}` : `the store ${plan.store} (as installed)`;
      throw new UsageError('AGENT_STORE_UNUSABLE', `${link.label}: ${which} cannot be used as the agent's store: ${why}`, {
        hint: 'give --store DIR of a folder the SSH user may create and write in, not on a read-only or virtual file system such as /proc',
      });
    }
    storeMade = parseKeyValues(text(prepared.stdout)).get('made') || undefined;
  }

  // An earlier service of another kind (or at another place) goes before the new one comes.
  let serviceNote = plan.serviceNote;
  if (previous && previous.service !== 'none' && (previous.service !== plan.service || previous.serviceFile !== serviceFile)) {
    await runScript(link.shell, link.label, `removing the earlier ${previous.service} service`, removeServiceScript(previous.service, previous.serviceFile));
    serviceNote = `replaced the earlier ${previous.service} service${serviceNote ? `; ${serviceNote}` : ''}`;
  }

  const received = await link.shell.exec(receiveAgentCommand(layout, plan.store, bundle.length), { stdin: bundle, timeoutMs: 120_000 });
  if (received.code !== 0) {
    // A first install leaves nothing behind: a prefix of empty folders would be refused next time.
    if (probe.prefixState === 'absent' || probe.prefixState === 'empty') {
      const undo = [undoReceiveScript(layout, probe.prefixState === 'absent', plan.store), ...(storeMade ? [removeMadeFoldersScript(plan.store, storeMade)] : [])].join('\n');
      await runScript(link.shell, link.label, `removing what this install made under ${layout.prefix}`, undo).catch(() => undefined);
    }
    throw new UsageError('AGENT_UPLOAD_FAILED', `${link.label}: cannot write ${layout.agentFile}: ${text(received.stderr).trim().split('\n').pop() || `exit code ${received.code}`}`, {
      hint: 'connect as a user who may write there (root), or choose --prefix in its home with --service none',
    });
  }
  await runScript(link.shell, link.label, `writing ${layout.confFile}, ${layout.tokenFile} and ${layout.wrapper}`, writeInstallationScript(layout, conf, token));
  await writeHostToken(tokenFile, token);
  await runScript(link.shell, link.label, `starting the ${plan.service} service`, startServiceScript(plan.service, serviceFile, layout, conf), { timeoutMs: 60_000 });

  const stdio = await checkStdio(link, layout.prefix, token, opts.checkTimeoutMs);
  if (!stdio.ok) throw checkError(`the agent at ${layout.wrapper}`, stdio);
  let service: CheckResult | undefined;
  if (plan.service !== 'none') {
    service = await checkService(link, opts.port, token, opts.checkTimeoutMs);
    if (!service.ok) {
      const log = (await runScript(link.shell, link.label, 'reading the service log', serviceLogScript(plan.service, layout)).catch(() => ({ stdout: '' }))).stdout;
      throw checkError(`the ${plan.service} service`, service, log);
    }
  }

  return {
    board: link.label,
    prefix: layout.prefix,
    wrapper: layout.wrapper,
    version,
    ...(previous && { previousVersion: previous.version }),
    service: plan.service,
    ...(serviceFile && { serviceFile }),
    ...(serviceNote && { serviceNote }),
    ...(plan.service !== 'none' && { listen: `${opts.listenHost}:${opts.port}` }),
    node: plan.node,
    nodeVersion: plan.nodeVersion,
    runJoint: plan.runJoint,
    store: plan.store,
    boardTokenFile: layout.tokenFile,
    hostTokenFile: tokenFile,
    tokenKept: boardToken !== undefined,
    checks: { stdio, ...(service && { service }) },
  };
}

interface Plan {
  node: string;
  nodeVersion: string;
  runJoint: string;
  store: string;
  service: ServiceKind;
  serviceNote?: string;
}

/** Checks what the board offers against what was asked; refuses early, before any change. */
export function planInstall(board: string, probe: BoardProbe, opts: Pick<InstallOptions, 'service' | 'store' | 'prefix' | 'initdDir' | 'node' | 'replaceServiceFile'>, defaultStore: string): Plan {
  if (probe.prefixState === 'foreign') {
    throw new UsageError('PREFIX_NOT_OURS', `${board}: ${opts.prefix} exists and holds something other than an axagent installation`, {
      hint: 'choose another --prefix, or empty that folder first',
    });
  }
  if (!probe.node || !probe.nodeVersion) {
    throw new UsageError('BOARD_NODE_MISSING', `${board}: ${opts.node ? `${opts.node} does not run` : 'no Node.js found (node or nodejs on $PATH)'}`, {
      hint: `the agent needs Node.js ${MIN_BOARD_NODE_MAJOR} or later on the board: install it, or give --node PATH`,
    });
  }
  if (!(nodeMajor(probe.nodeVersion) >= MIN_BOARD_NODE_MAJOR)) {
    throw new UsageError('BOARD_NODE_TOO_OLD', `${board}: ${probe.node} is Node.js ${probe.nodeVersion}; the agent needs ${MIN_BOARD_NODE_MAJOR} or later`, {
      hint: 'install a newer Node.js on the board, or give --node PATH of one',
    });
  }
  if (!probe.runJoint || !probe.runJointExecutable) {
    throw new UsageError('BOARD_RUN_JOINT_MISSING', probe.runJoint ? `${board}: ${probe.runJoint} is not an executable file` : `${board}: run_joint not found ($PATH, /opt/bin, /usr/local/bin, /usr/bin, /soc/bin)`, {
      hint: 'give --run-joint PATH of run_joint on the board',
    });
  }
  const service = chooseService(opts.service, probe);
  if (service === 'systemd' && !probe.systemd) {
    throw new UsageError('SERVICE_UNAVAILABLE', `${board}: --service systemd, but systemd is not running there (no /run/systemd/system)`, { hint: 'use --service initd or --service none' });
  }
  if (service === 'initd' && !probe.initdDirExists) {
    throw new UsageError('SERVICE_UNAVAILABLE', `${board}: --service initd, but ${opts.initdDir} does not exist there`, { hint: 'use --initd-dir DIR, or --service none' });
  }
  // One board has one axagent.service and one S99axagent: writing ours over another
  // installation's would orphan its running agent (which then answers our checks on the port).
  const owner = service === 'none' ? undefined : probe.serviceOwners[service];
  if (owner !== undefined && owner !== opts.prefix.replace(/\/+$/, '')) {
    throw new UsageError('SERVICE_TAKEN', `${board}: the ${service} service (${serviceFileOf(service, { initdDir: opts.initdDir })}) already starts the agent installed at ${owner}`, {
      hint: `remove that one first (axctl agent uninstall --prefix ${owner}), or install this one with --service none`,
    });
  }
  // A unit or script of the user's own at our file's place (no axctl prefix in it): replacing
  // it silently would lose whatever it started, so only when asked to.
  const foreignFile = service !== 'none' && owner === undefined && probe.serviceFilesPresent[service] ? serviceFileOf(service, { initdDir: opts.initdDir }) : undefined;
  if (foreignFile && !opts.replaceServiceFile) {
    throw new UsageError('SERVICE_FILE_NOT_OURS', `${board}: ${foreignFile} exists and was not written by axctl agent install`, {
      hint: 'look at it first; to replace it, run again with --replace-service-file, or keep it and install with --service none',
    });
  }
  const chosen = opts.service === 'auto'
    ? service === 'systemd' ? 'systemd runs on the board' : service === 'initd' ? `no systemd; ${opts.initdDir} exists` : `neither systemd nor ${opts.initdDir}: no service, the agent runs only through ssh://`
    : undefined;
  const replaced = foreignFile ? `replaced ${foreignFile}, which axctl did not write` : undefined;
  const serviceNote = [chosen, replaced].filter(Boolean).join('; ') || undefined;
  return {
    node: probe.node,
    nodeVersion: probe.nodeVersion,
    runJoint: probe.runJoint,
    store: opts.store ?? probe.conf?.store ?? defaultStore,
    service,
    ...(serviceNote && { serviceNote }),
  };
}

async function readBundle(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BadFileError('AGENT_BUNDLE_MISSING', file, 'the agent bundle is missing', { hint: 'run `npm run build` (it makes dist/axagent.js)' });
    }
    throw new BadFileError('AGENT_BUNDLE_MISSING', file, `cannot be read (${(err as Error).message})`, { hint: 'check --agent-file, or run `npm run build` (it makes dist/axagent.js)' });
  }
}
