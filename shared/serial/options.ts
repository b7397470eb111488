/**
 * The link's tunables: one table with each key's default, range and reason. Callers pass only
 * what they change; `resolveLinkOptions` spreads the defaults under it and refuses values out
 * of range with one line naming the key.
 */
import { UsageError } from '../errors';
import { MAX_PAYLOAD_LIMIT } from './frame';

interface OptionSpec {
  default: number;
  min: number;
  max: number;
  /** What the key does and why the default is what it is (shown in docs/parts/serial.md). */
  doc: string;
}

/** The line rates a serial URL's `baud=` and `axagent --baud` accept: the two ends must agree. */
export const LINE_RATE = { min: 50, max: 20_000_000 } as const;

export const LINK_OPTION_SPECS = {
  baud: {
    default: 0, min: 0, max: LINE_RATE.max,
    doc: 'line rate in bit/s; paces output to it and scales timer floors (0: unpaced, for in-memory pipes)',
  },
  bitsPerByte: {
    default: 10, min: 7, max: 12,
    doc: 'bits on the wire per byte: 10 for 8N1 (start + 8 data + stop)',
  },
  maxPayload: {
    default: 1024, min: 16, max: MAX_PAYLOAD_LIMIT,
    doc: 'largest payload of a DATA frame; 1024 keeps overhead at 1.3% and a resend at 11 ms at 921600 baud',
  },
  window: {
    default: 32, min: 1, max: 32,
    doc: 'frames sent and not yet acknowledged; 32 frames is 355 ms of a 921600-baud line, ten times its round trip (SACK covers 32)',
  },
  keepaliveMs: {
    default: 1000, min: 10, max: 600_000,
    doc: 'after this long without hearing the peer, ask it for an ACK (PING)',
  },
  downAfterMs: {
    default: 3000, min: 20, max: 3_600_000,
    doc: 'silence after which the line is reported down (cable pulled); sending continues as probes',
  },
  giveUpAfterMs: {
    default: 60_000, min: 50, max: 86_400_000,
    doc: 'silence after which the link fails with SERIAL_LINK_LOST',
  },
  connectTimeoutMs: {
    default: 10_000, min: 10, max: 3_600_000,
    doc: 'the initiating side fails with SERIAL_NO_PEER if no HELLO answers within this',
  },
  helloIntervalMs: {
    default: 250, min: 5, max: 60_000,
    doc: 'how often the initiator repeats HELLO until answered',
  },
  rtoMinMs: {
    default: 30, min: 1, max: 60_000,
    doc: 'lower bound of the retransmission timeout (raised to 3 frame times on slow lines)',
  },
  rtoMaxMs: {
    default: 1000, min: 10, max: 600_000,
    doc: 'upper bound of the backed-off retransmission timeout: after a cut, data resumes within this',
  },
  closeTimeoutMs: {
    default: 2000, min: 1, max: 600_000,
    doc: 'a graceful close stops waiting for the ACK of its FIN after the peer has been silent this long',
  },
  sendHighWater: {
    default: 65_536, min: 1, max: 1 << 30,
    doc: 'queued bytes above which send() returns false until "drain"',
  },
} satisfies Record<string, OptionSpec>;

export type LinkOptions = { [K in keyof typeof LINK_OPTION_SPECS]: number };

export function resolveLinkOptions(given: Partial<LinkOptions> = {}): LinkOptions {
  const out = {} as LinkOptions;
  for (const [key, spec] of Object.entries(LINK_OPTION_SPECS) as [keyof LinkOptions, OptionSpec][]) {
    const value = given[key] ?? spec.default;
    if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
      throw new UsageError('SERIAL_BAD_OPTION', `serial link option ${key}=${String(value)} is out of range`, {
        hint: `use an integer from ${spec.min} to ${spec.max} (${spec.doc})`,
      });
    }
    out[key] = value;
  }
  if (out.downAfterMs > out.giveUpAfterMs) {
    throw new UsageError('SERIAL_BAD_OPTION', `serial link option downAfterMs=${out.downAfterMs} exceeds giveUpAfterMs=${out.giveUpAfterMs}`, {
      hint: 'the line must be reported down before the link gives up on it',
    });
  }
  return out;
}
