/**
 * A simulated serial line in virtual time, for deterministic link tests: two ReliableLinks,
 * a clock that jumps from event to event, and a wire per direction that takes len/rate to
 * carry each frame and applies a fault plan (drop, flip bits, duplicate, garbage, cut).
 * Nothing sleeps: hours of line time run in milliseconds, and a seed replays a run exactly.
 */
import type { Clock } from '../../shared/serial/clock';
import { ReliableLink, type LinkRole } from '../../shared/serial/link';
import type { LinkOptions } from '../../shared/serial/options';
import { mulberry32 } from '../../scripts/prng';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private time = 0;
  private order = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { at: this.time + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    if (handle) (handle as Timer).cancelled = true;
  }

  /** Runs events in time order until `done()` holds, nothing is left, or `limitMs` passes. */
  run(done: () => boolean, limitMs: number): void {
    const end = this.time + limitMs;
    let sameTime = 0;
    while (!done()) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      if (this.timers.length === 0) return;
      let next = this.timers[0]!;
      for (const t of this.timers) if (t.at < next.at || (t.at === next.at && t.order < next.order)) next = t;
      if (next.at > end) {
        this.time = end;
        return;
      }
      sameTime = next.at > this.time ? 0 : sameTime + 1;
      if (sameTime > 100_000) throw new Error(`livelock: 100000 events at t=${this.time} ms`);
      this.time = Math.max(this.time, next.at);
      next.cancelled = true;
      next.fn();
    }
  }
}

/** Deterministic PRNG (mulberry32). */
export const seeded = mulberry32;

export interface FaultPlan {
  /** Probability that a frame vanishes. */
  drop?: number;
  /** Probability that a frame gets 1–3 flipped bits. */
  flip?: number;
  /** Probability that a frame arrives twice. */
  duplicate?: number;
  /** Probability that random noise bytes are inserted before a frame. */
  garbage?: number;
  /** Windows of line time [from, to) in which everything sent is lost (a pulled cable). */
  cuts?: [number, number][];
}

export interface SimEndpoint {
  link: ReliableLink;
  received: Uint8Array[];
  ended: boolean;
  closed: boolean;
  closeError: unknown;
}

export class SimLine {
  readonly clock = new VirtualClock();
  readonly a: SimEndpoint;
  readonly b: SimEndpoint;
  private readonly random: () => number;

  constructor(
    private readonly plan: { ab?: FaultPlan; ba?: FaultPlan; seed?: number; baud?: number; latencyMs?: number; options?: Partial<LinkOptions> },
  ) {
    this.random = seeded(plan.seed ?? 1);
    const baud = plan.baud ?? 921_600;
    const make = (role: LinkRole, session: number): SimEndpoint => {
      const link = new ReliableLink({ role, label: `sim-${role}`, clock: this.clock, options: { baud, ...plan.options }, randomSession: () => session });
      const end: SimEndpoint = { link, received: [], ended: false, closed: false, closeError: undefined };
      link.on('data', (bytes: Uint8Array) => end.received.push(bytes));
      link.on('end', () => (end.ended = true));
      link.on('close', (err: unknown) => {
        end.closed = true;
        end.closeError = err;
      });
      return end;
    };
    this.a = make('initiator', 0x1111);
    this.b = make('responder', 0x2222);
    this.wire(this.a, this.b, plan.ab ?? {}, baud);
    this.wire(this.b, this.a, plan.ba ?? {}, baud);
  }

  start(): void {
    this.b.link.start();
    this.a.link.start();
  }

  /** Carries frames from `from` to `to`: line time per byte, one frame after another. */
  private wire(from: SimEndpoint, to: SimEndpoint, faults: FaultPlan, baud: number): void {
    const msPerByte = baud ? 10_000 / baud : 0.001;
    const latency = this.plan.latencyMs ?? 1;
    let busyUntil = 0;
    const send = (bytes: Uint8Array): void => {
      const now = this.clock.now();
      const start = Math.max(now, busyUntil);
      busyUntil = start + bytes.length * msPerByte;
      if ((faults.cuts ?? []).some(([f, t]) => start < t && busyUntil > f)) return;
      if (this.random() < (faults.drop ?? 0)) return;
      let wire = bytes;
      if (this.random() < (faults.flip ?? 0)) {
        wire = bytes.slice();
        const flips = 1 + Math.floor(this.random() * 3);
        for (let i = 0; i < flips; i++) wire[Math.floor(this.random() * wire.length)]! ^= 1 << Math.floor(this.random() * 8);
      }
      if (this.random() < (faults.garbage ?? 0)) {
        const noise = Uint8Array.from({ length: 1 + Math.floor(this.random() * 40) }, () => Math.floor(this.random() * 256));
        wire = concat([noise, wire]);
      }
      const copies = this.random() < (faults.duplicate ?? 0) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        this.clock.setTimer(() => {
          if (!to.link.closed) to.link.receive(wire);
        }, busyUntil + latency - now);
      }
    };
    let pumpTimer: unknown;
    const pump = (): void => {
      // Like a UART's FIFO: take a frame only when the wire is nearly idle.
      for (;;) {
        const now = this.clock.now();
        if (busyUntil - now > 2 + 1e-6) {
          this.clock.clearTimer(pumpTimer);
          pumpTimer = this.clock.setTimer(pump, busyUntil - now - 2);
          return;
        }
        const frame = from.link.pull();
        if (!frame) return;
        send(frame);
      }
    };
    from.link.on('output', pump);
    from.link.on('close', () => {
      for (let frame = from.link.pull(); frame; frame = from.link.pull()) send(frame);
    });
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes 0..n-1 of a deterministic pattern that makes misplaced or repeated data visible. */
export function pattern(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >>> 8) * 7 + salt) & 0xff;
  return out;
}
