/**
 * axagent's command line: one table of options (type, value name, default, help), parsed with
 * Node 18's util.parseArgs (the board has no yargs), checked early with one clear line per
 * mistake. Checks that touch the disk (token file, run_joint, store) are in main.ts.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDecimal } from '../shared/decimal';
import { joinDashedValues as joinShared } from '../shared/dashed-values';
import { UsageError } from '../shared/errors';
import { firstLineOf } from '../shared/first-line';
import { LINE_RATE } from '../shared/serial/options';
import { version } from '../package.json';

export const AGENT_VERSION: string = version;

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in --help. */
  value?: string;
  /** Default as the user would write it (documented in --help). */
  default?: string;
  help: string;
}

export const AGENT_OPTIONS = {
  listen: { type: 'string', value: 'HOST:PORT', help: 'serve WebSocket connections on this address, e.g. 0.0.0.0:7007 (port 0: any free port, printed on start)' },
  stdio: { type: 'boolean', help: 'speak the protocol on stdin/stdout for one connection (e.g. run through ssh); logs go to stderr' },
  serial: { type: 'string', value: 'DEVICE', help: 'serve one host at a time over this serial line, e.g. /dev/ttyS1 (without serialport beside the agent, configure the line with stty first)' },
  baud: { type: 'string', value: 'RATE', default: '115200', help: 'serial line rate for --serial' },
  store: { type: 'string', value: 'DIR', help: 'blob store folder (created if missing)' },
  'run-joint': { type: 'string', value: 'PATH', help: 'the run_joint executable to run' },
  'token-file': { type: 'string', value: 'FILE', help: 'file holding the shared secret: one line of at least 16 characters (e.g. `openssl rand -hex 32`)' },
  'store-cap': { type: 'string', value: 'BYTES', help: 'most bytes the store may hold; suffixes K, M, G (powers of 1024). Default: 80% of what the store holds plus the free space' },
  'run-timeout': { type: 'string', value: 'SECONDS', default: '600', help: 'run_joint time limit for requests that set none' },
  'idle-timeout': { type: 'string', value: 'SECONDS', default: '30', help: 'drop a connection nothing has arrived on for this long (0: never)' },
  'auth-timeout': { type: 'string', value: 'SECONDS', default: '10', help: 'drop a connection that has not authenticated within this time' },
  'transfer-timeout': { type: 'string', value: 'SECONDS', default: '60', help: 'end an upload that gets no chunk, or a download that gets no acknowledgement, for this long (TRANSFER_TIMEOUT)' },
  version: { type: 'boolean', help: 'print the version and exit' },
  help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
} as const satisfies Record<string, OptionSpec>;

export type ServeMode = { kind: 'listen'; host: string; port: number } | { kind: 'stdio' } | { kind: 'serial'; device: string; baud: number };

export interface AgentConfig {
  mode: ServeMode;
  storeDir: string;
  /** Absolute path. */
  runJoint: string;
  tokenFile: string;
  storeCapBytes?: number;
  runTimeoutMs: number;
  idleTimeoutMs: number;
  authTimeoutMs: number;
  transferTimeoutMs: number;
}

export type AgentCommand = { action: 'version' } | { action: 'help' } | { action: 'serve'; config: AgentConfig };

const REQUIRED = ['store', 'run-joint', 'token-file'] as const;

export function parseAgentArgs(argv: string[]): AgentCommand {
  let values: Partial<Record<keyof typeof AGENT_OPTIONS, string | boolean>>;
  const args = joinDashedValues(argv);
  try {
    ({ values } = parseArgs({ args, options: AGENT_OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError('AGENT_BAD_OPTION', firstLineOf(err), { hint: 'see axagent --help' });
  }
  if (values.help) return { action: 'help' };
  if (values.version) return { action: 'version' };
  const modes = [values.listen !== undefined, !!values.stdio, values.serial !== undefined].filter(Boolean).length;
  if (modes > 1) {
    throw new UsageError('AGENT_MODE', '--listen, --stdio and --serial cannot be combined', { hint: 'serve WebSocket (--listen), one stdio connection (--stdio) or a serial line (--serial)' });
  }
  if (modes === 0) {
    throw new UsageError('AGENT_MODE', 'say how to serve: --listen HOST:PORT, --stdio or --serial DEVICE', { hint: 'see axagent --help' });
  }
  for (const name of REQUIRED) {
    if (typeof values[name] !== 'string' || values[name] === '') {
      throw new UsageError('AGENT_MISSING_OPTION', `--${name} ${AGENT_OPTIONS[name].value} is required`, { hint: 'see axagent --help' });
    }
  }
  const text = (name: keyof typeof AGENT_OPTIONS): string | undefined => values[name] as string | undefined;
  const seconds = (name: 'run-timeout' | 'idle-timeout' | 'auth-timeout' | 'transfer-timeout', min: number) =>
    Math.round(parseNumber(name, text(name) ?? AGENT_OPTIONS[name].default, min) * 1000);
  const cap = text('store-cap');
  return {
    action: 'serve',
    config: {
      mode: values.stdio
        ? { kind: 'stdio' }
        : values.serial !== undefined
          ? { kind: 'serial', device: text('serial')!, baud: parseBaud(text('baud') ?? AGENT_OPTIONS.baud.default) }
          : { kind: 'listen', ...parseListen(text('listen')!) },
      storeDir: path.resolve(text('store')!),
      runJoint: path.resolve(text('run-joint')!),
      tokenFile: path.resolve(text('token-file')!),
      storeCapBytes: cap === undefined ? undefined : parseBytes(cap),
      runTimeoutMs: seconds('run-timeout', 0.001),
      idleTimeoutMs: seconds('idle-timeout', 0),
      authTimeoutMs: seconds('auth-timeout', 0.001),
      transferTimeoutMs: seconds('transfer-timeout', 0.001),
    },
  };
}

/**
 * `--store-cap -5` → `--store-cap=-5` (shared/dashed-values.ts), judged by the option's own
 * check rather than util.parseArgs' "argument is ambiguous". Any other '-' word after an option
 * that takes a value (`--store --stdio`) is refused here: the value is missing, or needs writing
 * as --opt=VALUE. Tokens after `--` are left alone.
 */
function joinDashedValues(argv: readonly string[]): string[] {
  const specOf = (name: string): OptionSpec | undefined => (Object.prototype.hasOwnProperty.call(AGENT_OPTIONS, name) ? AGENT_OPTIONS[name as keyof typeof AGENT_OPTIONS] : undefined);
  const joined = joinShared(argv, (name) => specOf(name)?.type === 'string');
  for (let i = 0; i < joined.length - 1; i++) {
    const token = joined[i]!;
    if (token === '--') break;
    const spec = specOf(/^--([^=]+)$/.exec(token)?.[1] ?? '');
    const next = joined[i + 1]!;
    if (spec?.type === 'string' && next.startsWith('-') && next !== '-') {
      throw new UsageError('AGENT_BAD_OPTION', `${token} needs a value, got ${next}`, { hint: `give ${token} ${spec.value}; write ${token}=${next} if that is the value` });
    }
  }
  return joined;
}

function parseBaud(value: string): number {
  const baud = parseDecimal(value);
  if (!Number.isInteger(baud) || baud < LINE_RATE.min || baud > LINE_RATE.max) {
    throw new UsageError('AGENT_BAD_BAUD', `--baud ${value}: expected a line rate such as 115200 or 921600`, {
      hint: `a whole number of bit/s from ${LINE_RATE.min} to ${LINE_RATE.max}, the same as the host's serial:// URL baud=`,
    });
  }
  return baud;
}

/** "HOST:PORT", "[v6]:PORT", ":PORT" or "PORT" (the last two: all interfaces). */
export function parseListen(value: string): { host: string; port: number } {
  const text = value.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const colon = text.lastIndexOf(':');
  const host = bracketed ? bracketed[1]! : colon >= 0 ? text.slice(0, colon) || '0.0.0.0' : '0.0.0.0';
  const portText = bracketed ? bracketed[2]! : text.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535 || (!bracketed && host.includes(':'))) {
    throw new UsageError('AGENT_BAD_LISTEN', `--listen ${value}: expected HOST:PORT, e.g. 0.0.0.0:7007 or [::1]:7007`, {
      hint: 'a port from 0 to 65535 (0: any free port), after an address or alone for every interface',
    });
  }
  return { host, port };
}

/** Bytes with an optional K/M/G suffix (powers of 1024). */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  const scale = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').charAt(0).toLowerCase()] ?? NaN;
  const bytes = m ? Math.floor(Number(m[1]) * scale) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError('AGENT_BAD_NUMBER', `--store-cap ${value}: expected a size in bytes, e.g. 2G or 500M`, {
      hint: 'a number above 0, with K, M or G for powers of 1024; leave it out for 80% of the space',
    });
  }
  return bytes;
}

/**
 * A day, as for the host's time options: Node's timers overflow past ~24.8 days (a longer
 * --auth-timeout became 1 ms and closed every connection at once), and the agent refuses a
 * run's own timeout past a day, so a longer default would fail every run that sets none.
 */
const MAX_SECONDS = 86_400;

function parseNumber(name: string, value: string, min: number): number {
  // Decimal only, as on the host: Number() also read 0x10 as 16 and ' 5' as 5.
  const n = parseDecimal(value);
  if (!Number.isFinite(n) || n < min || n > MAX_SECONDS) {
    throw new UsageError('AGENT_BAD_NUMBER', `--${name} ${value}: expected a number of seconds${min > 0 ? ' above 0' : ' (0 or more)'}, at most ${MAX_SECONDS} (a day)`, {
      hint: `a decimal number, e.g. --${name} ${(AGENT_OPTIONS[name as keyof typeof AGENT_OPTIONS] as OptionSpec).default ?? 30}`,
    });
  }
  return n;
}

export function agentUsage(): string {
  const lines = [
    `axagent ${AGENT_VERSION}: the board side of axctl`,
    '',
    'usage: axagent --listen HOST:PORT --store DIR --run-joint PATH --token-file FILE [options]',
    '       axagent --stdio --store DIR --run-joint PATH --token-file FILE [options]',
    '       axagent --serial DEVICE [--baud RATE] --store DIR --run-joint PATH --token-file FILE [options]',
    '',
    'options:',
  ];
  for (const [name, spec] of Object.entries(AGENT_OPTIONS) as [string, OptionSpec][]) {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    lines.push(`  ${flag.padEnd(26)} ${spec.help}${spec.default ? ` (default ${spec.default})` : ''}`);
  }
  lines.push('', 'exit codes: 0 stopped cleanly, 1 the --stdio connection ended abnormally (bad bytes, idle, authentication), 2 bad option or file,', '5 the --serial port cannot be opened at start (missing, busy), 70 a bug in axagent (please report it)');
  return lines.join('\n') + '\n';
}
