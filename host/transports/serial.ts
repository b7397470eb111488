/**
 * `serial://` agent URLs: `--board serial:///dev/ttyUSB0?baud=921600` reaches an agent started
 * on the board as `axagent --serial /dev/ttyS1 --baud 921600`. Importing this module registers
 * the scheme with host/client/connect.ts.
 *
 * URL form: serial://<absolute path of the port>?<parameters>, i.e. three slashes before
 * /dev. Parameters (all optional):
 *   baud     line rate in bit/s, as set on the agent (default 115200)
 *   pace     bit/s the link paces its output at (default: baud; 0 turns pacing off for lines
 *            that ignore the baud rate, such as a USB gadget serial port)
 *   giveup   seconds of silence (cable pulled) survived before the connection fails
 *            (default: the connection's idle timeout, 30 s)
 *   payload  bytes per link frame (default 1024), window  frames in flight (default 32)
 * The same keys may come from OpenTransportOptions.schemeOptions; the URL wins.
 */
import { parseDecimal } from '../../shared/decimal';
import { UsageError } from '../../shared/errors';
import { connectSerial } from '../../shared/serial/connect';
import { LINE_RATE, LINK_OPTION_SPECS } from '../../shared/serial/options';
import { openWithSerialport } from '../../shared/serial/port-open';
import type { Transport } from '../../shared/transport/transport';
import { registerScheme, type OpenTransportOptions, type TransportFactory } from '../client/connect';
import { UNVERIFIED_MAX_BYTES } from '../client/channel';
import { peerText } from '../../shared/peer-text';

export const DEFAULT_BAUD = 115_200;

/**
 * Blob chunk size over a serial line (the transport's preferredChunkBytes, which AgentClient
 * honours): a lost connection costs at most this much when the upload resumes by offset.
 */
export { SERIAL_CHUNK_BYTES } from '../../shared/serial/serial-transport';

export interface SerialTarget {
  path: string;
  baud: number;
  paceBaud?: number;
  giveUpAfterMs?: number;
  maxPayload?: number;
  window?: number;
}

const PARAMS = {
  baud: { ...LINE_RATE, what: 'a baud rate such as 115200 or 921600' },
  pace: { min: 0, max: 20_000_000, what: 'bit/s (0: no pacing)' },
  giveup: { min: 0.05, max: 86_400, what: 'seconds' },
  payload: { min: LINK_OPTION_SPECS.maxPayload.min, max: LINK_OPTION_SPECS.maxPayload.max, what: 'bytes per frame' },
  window: { min: LINK_OPTION_SPECS.window.min, max: LINK_OPTION_SPECS.window.max, what: 'frames' },
} as const;
type ParamName = keyof typeof PARAMS;

const example = 'serial:///dev/ttyUSB0?baud=921600';

/** Parses and checks a serial:// URL; one UsageError line per mistake. */
export function parseSerialUrl(url: URL | string, schemeOptions: Record<string, unknown> = {}): SerialTarget {
  const parsed = typeof url === 'string' ? safeUrl(url) : url;
  const text = parsed.href;
  if (parsed.protocol !== 'serial:') throw badUrl(text, 'is not a serial:// URL');
  if (parsed.host !== '') throw badUrl(text, `names a host ('${parsed.host}'); the port path needs three slashes`);
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    throw badUrl(text, 'has a malformed %-escape in its port path');
  }
  if (process.platform === 'win32' && /^\/COM\d+$/i.test(path)) path = path.slice(1);
  if (path === '' || path === '/') throw badUrl(text, 'names no serial port');
  const values: Partial<Record<ParamName, number>> = {};
  for (const [key, raw] of queryParams(parsed.search)) {
    if (!Object.hasOwn(PARAMS, key)) throw badUrl(text, `has an unknown parameter '${peerText(key, 40)}' (known: ${Object.keys(PARAMS).join(', ')})`);
    // Which of baud=115200&baud=9600 was meant cannot be known: the last one silently won.
    if (values[key as ParamName] !== undefined) throw badUrl(text, `gives '${key}' more than once`);
    values[key as ParamName] = checkNumber(text, key as ParamName, raw);
  }
  for (const key of Object.keys(PARAMS) as ParamName[]) {
    const given = schemeOptions[key];
    if (values[key] === undefined && given !== undefined) values[key] = checkNumber(text, key, String(given));
  }
  const target: SerialTarget = { path, baud: values.baud ?? DEFAULT_BAUD };
  if (values.pace !== undefined) target.paceBaud = values.pace;
  if (values.giveup !== undefined) target.giveUpAfterMs = Math.round(values.giveup * 1000);
  if (values.payload !== undefined) target.maxPayload = values.payload;
  if (values.window !== undefined) target.window = values.window;
  return target;
}

/** Opens a serial Transport to the agent at `url` (the factory registered for serial://). */
export const openSerialUrl: TransportFactory = (url: URL, opts: OpenTransportOptions): Promise<Transport> => {
  const target = parseSerialUrl(url, opts.schemeOptions);
  const { schemeOptions: _scheme, ...transport } = opts;
  const link = {
    ...(target.maxPayload === undefined ? {} : { maxPayload: target.maxPayload }),
    ...(target.window === undefined ? {} : { window: target.window }),
  };
  return connectSerial({
    ...transport,
    path: target.path,
    baud: target.baud,
    role: 'initiator',
    peer: `serial://${target.path}`,
    open: () => openWithSerialport(target.path, target.baud),
    link,
    // Until the agent proves itself (Channel.agentVerified lifts it): refused from the header.
    unauthenticatedMaxMessageBytes: UNVERIFIED_MAX_BYTES,
    ...(target.paceBaud === undefined ? {} : { paceBaud: target.paceBaud }),
    ...(target.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: target.giveUpAfterMs }),
  });
};

registerScheme('serial', openSerialUrl);

function safeUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw badUrl(text, 'is not a URL');
  }
}

/**
 * The query's parameters as typed: unlike URLSearchParams, a '+' stays a '+' (baud=+921600,
 * giveup=1e+2 are numbers, not numbers with a space in them); %XX escapes are decoded.
 */
function queryParams(search: string): [string, string][] {
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return search.replace(/^\?/, '').split('&').filter((pair) => pair !== '').map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
  });
}

function checkNumber(url: string, key: ParamName, raw: string): number {
  const spec = PARAMS[key];
  // Decimal only: Number() read baud=0x100 as 256 baud, which axagent --baud refuses.
  const value = parseDecimal(raw);
  const integral = key !== 'giveup';
  if (!Number.isFinite(value) || (integral && !Number.isInteger(value)) || value < spec.min || value > spec.max) {
    throw badUrl(url, `${key}=${peerText(raw, 40)} is not valid: expected ${spec.what} from ${spec.min} to ${spec.max}`);
  }
  return value;
}

function badUrl(url: string, problem: string): UsageError {
  return new UsageError('SERIAL_BAD_URL', `${url}: ${problem}`, { hint: `write it like ${example}` });
}
