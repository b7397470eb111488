/**
 * Where an installed agent lives on the board, and the settings file that ties it together.
 *
 *   PREFIX/bin/axagent        sh wrapper: starts the agent with this installation's settings
 *   PREFIX/lib/axagent.js     the single-file agent (dist/axagent.js)
 *   PREFIX/etc/axagent.conf   settings (sh variables), sourced by the wrapper, read by status
 *   PREFIX/etc/token          the shared secret, mode 600
 *   PREFIX/store/             blob store (unless --store names another folder)
 *   PREFIX/run/axagent.pid    pid of the init.d service
 *   PREFIX/log/axagent.log    the init.d service's log (systemd keeps its own journal)
 *
 * Every path that ends up in a shell script, a unit file or a command line is checked here
 * first: absolute, and free of whitespace, quotes, `$`, backquotes and backslashes, so it can be
 * written between single quotes everywhere without escaping rules of three languages.
 */
import { UsageError } from '../../shared/errors';

export const DEFAULT_PREFIX = '/opt/axagent';
export const DEFAULT_PORT = 7007;
export const DEFAULT_INITD_DIR = '/etc/init.d';
export const DEFAULT_SYSTEMD_DIR = '/etc/systemd/system';
/** The service's name: systemd unit axagent.service, init.d script S99axagent. */
export const SERVICE_NAME = 'axagent';
/** BusyBox's rcS starts /etc/init.d/S??* in order; 99 runs after the network is up. */
export const INITD_SCRIPT_NAME = 'S99axagent';

export type ServiceKind = 'systemd' | 'initd' | 'none';
export const SERVICE_KINDS: readonly ServiceKind[] = ['systemd', 'initd', 'none'];

export interface Layout {
  prefix: string;
  wrapper: string;
  agentFile: string;
  confFile: string;
  tokenFile: string;
  defaultStore: string;
  pidFile: string;
  logFile: string;
}

export function layoutOf(prefix: string): Layout {
  const p = prefix.replace(/\/+$/, '');
  return {
    prefix: p,
    wrapper: `${p}/bin/axagent`,
    agentFile: `${p}/lib/axagent.js`,
    confFile: `${p}/etc/axagent.conf`,
    tokenFile: `${p}/etc/token`,
    defaultStore: `${p}/store`,
    pidFile: `${p}/run/axagent.pid`,
    logFile: `${p}/log/axagent.log`,
  };
}

export function serviceFileOf(kind: ServiceKind, dirs: { initdDir: string; systemdDir?: string }): string | undefined {
  if (kind === 'systemd') return `${dirs.systemdDir ?? DEFAULT_SYSTEMD_DIR}/${SERVICE_NAME}.service`;
  if (kind === 'initd') return `${dirs.initdDir.replace(/\/+$/, '')}/${INITD_SCRIPT_NAME}`;
  return undefined;
}

const SAFE_PATH = /^\/[^\s'"`$\\;&|<>(){}*?[\]!#~]*$/;

/** A board path given by the user (`--prefix /opt/axagent`): absolute and shell-safe. */
export function checkBoardPath(option: string, value: string): string {
  const p = value.trim();
  if (!SAFE_PATH.test(p)) {
    throw new UsageError('BOARD_PATH_BAD', `${option} ${JSON.stringify(value)}: give an absolute path on the board without spaces, quotes or shell characters`, {
      hint: `e.g. ${option} ${DEFAULT_PREFIX}`,
    });
  }
  const normal = p.replace(/\/+/g, '/').replace(/\/$/, '');
  if (normal === '' || normal.split('/').some((part) => part === '..' || part === '.')) {
    throw new UsageError('BOARD_PATH_BAD', `${option} ${value}: give a folder below / without . or .. parts`, { hint: `e.g. ${option} ${DEFAULT_PREFIX}` });
  }
  return normal;
}

/** Single-quoted for sh (paths are already checked to hold no quote). */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The settings file's variables (PREFIX/etc/axagent.conf). */
export interface AgentConf {
  version: string;
  node: string;
  store: string;
  runJoint: string;
  listenHost: string;
  port: number;
  service: ServiceKind;
  /** The unit file or init.d script, when a service is installed. */
  serviceFile?: string;
}

const CONF_KEYS: Record<keyof AgentConf, string> = {
  version: 'AXAGENT_VERSION',
  node: 'AXAGENT_NODE',
  store: 'AXAGENT_STORE',
  runJoint: 'AXAGENT_RUN_JOINT',
  listenHost: 'AXAGENT_LISTEN_HOST',
  port: 'AXAGENT_PORT',
  service: 'AXAGENT_SERVICE',
  serviceFile: 'AXAGENT_SERVICE_FILE',
};

/** One setting of what renderConf wrote (the store, for a host reaching the agent's socket); undefined if absent. */
export function confValue(text: string, field: keyof AgentConf): string | undefined {
  return confValues(text).get(CONF_KEYS[field]);
}

function confValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)='((?:[^']|'\\'')*)'$/.exec(line.trim());
    if (m) values.set(m[1]!, m[2]!.replace(/'\\''/g, "'"));
  }
  return values;
}

export function renderConf(conf: AgentConf): string {
  const lines = ['# Written by `axctl agent install`; sourced by bin/axagent. Re-install to change it.'];
  for (const [field, key] of Object.entries(CONF_KEYS) as [keyof AgentConf, string][]) {
    const value = conf[field];
    if (value !== undefined) lines.push(`${key}=${shq(String(value))}`);
  }
  return lines.join('\n') + '\n';
}

/** Reads what renderConf wrote; undefined when the text is not a complete settings file. */
export function parseConf(text: string): AgentConf | undefined {
  const values = confValues(text);
  const get = (field: keyof AgentConf) => values.get(CONF_KEYS[field]);
  const service = get('service') as ServiceKind | undefined;
  const port = Number(get('port'));
  const [version, node, store, runJoint, listenHost] = [get('version'), get('node'), get('store'), get('runJoint'), get('listenHost')];
  if (!version || !node || !store || !runJoint || !listenHost || !service || !SERVICE_KINDS.includes(service) || !Number.isInteger(port)) return undefined;
  const serviceFile = get('serviceFile');
  return { version, node, store, runJoint, listenHost, port, service, ...(serviceFile && { serviceFile }) };
}
