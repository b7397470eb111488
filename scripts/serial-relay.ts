#!/usr/bin/env node
/**
 * A serial line you can break: a relay between two byte streams (two pty endpoints from
 * socat, or any two Duplex streams) that carries each direction at a real line rate and can
 * drop, corrupt, delay and cut what it carries. A socat pty pair moves ~45 MiB/s whatever the
 * baud rate; putting this relay between two pairs gives tests and the bench a line that
 * behaves like a 921600-baud cable:
 *
 *   host ⇄ socat pty pair ⇄ relay ⇄ socat pty pair ⇄ board
 *
 * Faults are decided by a seeded PRNG (the same seed and traffic give the same faults).
 * Frame faults count runs of bytes between 0x00 delimiters, the serial link's framing.
 *
 * CLI:  node dist/scripts/serial-relay.js --ptys DIR [--baud 921600] [--corrupt-frames 0.01]
 *       [--drop-frames R] [--flip-bytes R] [--drop-bytes R] [--delay MS] [--seed N]
 *       [--cut-every S --cut-for S]
 * makes DIR/host and DIR/board (the ends to open) and relays until Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { SerialPort } from 'serialport';
import { mulberry32 as prng } from './prng';

export interface WireFaults {
  /** Probability that a frame (0x00-delimited run) loses one bit. */
  corruptFrames?: number;
  /** Probability that a frame vanishes whole. */
  dropFrames?: number;
  /** Per-byte probabilities: lose it, or flip one of its bits. */
  dropBytes?: number;
  flipBytes?: number;
  /** Added to every byte's trip (USB latency timers, long cables...). */
  delayMs?: number;
}

export interface RelayOptions extends WireFaults {
  /** Line rate in bit/s; 0 carries bytes as fast as they come. */
  baud?: number;
  /** Bits on the wire per byte (10 for 8N1). */
  bitsPerByte?: number;
  /** Bytes held per direction before the relay stops reading (a UART FIFO plus driver buffer). */
  maxQueueBytes?: number;
  seed?: number;
}

export interface WireStats {
  bytesIn: number;
  bytesOut: number;
  /** Waiting for their turn on the line. */
  bytesQueued: number;
  bytesLost: number;
  framesCorrupted: number;
  framesDropped: number;
}

export interface LineRelay {
  /** a→b and b→a. */
  readonly stats: { ab: WireStats; ba: WireStats };
  /** Pull the cable for `ms` (everything in flight and everything sent meanwhile is lost). */
  cut(ms: number): void;
  /** Pull it for good. */
  freeze(): void;
  /** Stop reading from both ends (a peer that does not read; buffers fill up). */
  stall(): void;
  close(): void;
}


interface Wire {
  stats: WireStats;
  clear(): void;
  /** Lets go of both streams (they may be used by a new relay). */
  stop(): void;
}

export function relayLine(a: Duplex, b: Duplex, options: RelayOptions = {}): LineRelay {
  let cutUntil = 0;
  let frozen = false;
  let stalled = false;
  const isCut = () => frozen || performance.now() < cutUntil;
  const isStalled = () => stalled;
  const seed = options.seed ?? 1;
  const ab = wire(a, b, options, prng(seed), isCut, isStalled);
  const ba = wire(b, a, options, prng(seed ^ 0x5bd1e995), isCut, isStalled);
  return {
    stats: { ab: ab.stats, ba: ba.stats },
    cut(ms) {
      cutUntil = performance.now() + ms;
      ab.clear();
      ba.clear();
    },
    freeze() {
      frozen = true;
      ab.clear();
      ba.clear();
    },
    stall() {
      stalled = true;
      a.pause();
      b.pause();
    },
    close() {
      ab.stop();
      ba.stop();
    },
  };
}

function wire(from: Duplex, to: Duplex, o: RelayOptions, random: () => number, isCut: () => boolean, isStalled: () => boolean): Wire {
  const bytesPerMs = (o.baud ?? 0) / (o.bitsPerByte ?? 10) / 1000;
  const maxQueue = o.maxQueueBytes ?? 4096;
  const stats: WireStats = { bytesIn: 0, bytesOut: 0, bytesQueued: 0, bytesLost: 0, framesCorrupted: 0, framesDropped: 0 };
  const queue: { bytes: Uint8Array; readyAt: number }[] = [];
  let queued = 0;
  let partial: Uint8Array = new Uint8Array(0);
  let lineFreeAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let blocked = false;
  let paused = false;
  let stopped = false;

  const frameFaults = (frame: Uint8Array): Uint8Array | undefined => {
    if (frame.length <= 1) return frame; // a lone delimiter
    if (random() < (o.dropFrames ?? 0)) {
      stats.framesDropped++;
      return undefined;
    }
    if (random() < (o.corruptFrames ?? 0)) {
      stats.framesCorrupted++;
      const copy = frame.slice();
      copy[Math.floor(random() * (copy.length - 1))]! ^= 1 << Math.floor(random() * 8);
      return copy;
    }
    return frame;
  };

  const byteFaults = (bytes: Uint8Array): Uint8Array => {
    if (!o.dropBytes && !o.flipBytes) return bytes;
    const out: number[] = [];
    for (const byte of bytes) {
      if (random() < (o.dropBytes ?? 0)) continue;
      out.push(random() < (o.flipBytes ?? 0) ? byte ^ (1 << Math.floor(random() * 8)) : byte);
    }
    return Uint8Array.from(out);
  };

  const enqueue = (bytes: Uint8Array): void => {
    if (bytes.length === 0) return;
    queue.push({ bytes, readyAt: performance.now() + (o.delayMs ?? 0) });
    queued += bytes.length;
    stats.bytesQueued = queued;
    if (queued >= maxQueue && !paused) {
      paused = true;
      from.pause();
    }
    schedule(0);
  };

  const onData = (chunk: Uint8Array): void => {
    stats.bytesIn += chunk.length;
    if (isCut()) {
      stats.bytesLost += chunk.length;
      partial = new Uint8Array(0);
      return;
    }
    const frameLevel = Boolean(o.corruptFrames || o.dropFrames);
    let data = chunk;
    if (frameLevel) {
      // Split at delimiters; a frame still open waits for its end (bounded, for noise).
      data = partial.length ? Buffer.concat([partial, chunk]) : chunk;
      const out: Uint8Array[] = [];
      let start = 0;
      for (let zero = data.indexOf(0); zero !== -1; zero = data.indexOf(0, start)) {
        const frame = frameFaults(data.subarray(start, zero + 1));
        if (frame) out.push(frame);
        start = zero + 1;
      }
      partial = data.subarray(start);
      if (partial.length > 65_536) {
        out.push(partial);
        partial = new Uint8Array(0);
      }
      data = Buffer.concat(out);
    }
    enqueue(byteFaults(data));
  };
  from.on('data', onData);

  const schedule = (ms: number): void => {
    if (timer || stopped) return;
    timer = setTimeout(release, Math.max(0, ms));
  };

  /** Hands the destination every byte whose turn on the line has come. */
  function release(): void {
    timer = undefined;
    if (blocked || stopped) return;
    const now = performance.now();
    const out: Uint8Array[] = [];
    while (queue.length > 0) {
      const head = queue[0]!;
      const start = Math.max(lineFreeAt, head.readyAt);
      if (start > now) break;
      const n = bytesPerMs ? Math.min(head.bytes.length, Math.floor((now - start) * bytesPerMs) + 1) : head.bytes.length;
      out.push(head.bytes.subarray(0, n));
      lineFreeAt = bytesPerMs ? start + n / bytesPerMs : now;
      if (n === head.bytes.length) queue.shift();
      else head.bytes = head.bytes.subarray(n);
      queued -= n;
      stats.bytesQueued = queued;
    }
    if (out.length > 0) {
      const bytes = Buffer.concat(out);
      stats.bytesOut += bytes.length;
      if (!to.write(bytes)) {
        blocked = true;
        to.once('drain', () => {
          blocked = false;
          release();
        });
      }
    }
    if (paused && queued < maxQueue / 2 && !isStalled()) {
      paused = false;
      from.resume();
    }
    if (queue.length > 0) schedule(Math.max(1, Math.max(lineFreeAt, queue[0]!.readyAt) - now));
  }

  return {
    stats,
    clear() {
      stats.bytesLost += queued;
      queue.length = 0;
      queued = stats.bytesQueued = 0;
      partial = new Uint8Array(0);
      if (paused && !isStalled()) {
        paused = false;
        from.resume();
      }
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      from.off('data', onData);
      if (paused) from.resume();
    },
  };
}

/** A socat pty pair: two linked device paths, bytes written to one come out of the other. */
export interface PtyPair {
  readonly a: string;
  readonly b: string;
  readonly process: ChildProcess;
  /** Ends socat (both ends vanish: open ports see a disconnect). */
  stop(): Promise<void>;
}

export async function startPtyPair(a: string, b: string, timeoutMs = 5000): Promise<PtyPair> {
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`socat: ${err.message} (install it: apt-get install socat)`)));
    void exited.then(() => reject(new Error(`socat exited: ${stderr.trim()}`)));
  });
  const ready = (async () => {
    const until = Date.now() + timeoutMs;
    while (!(fs.existsSync(a) && fs.existsSync(b))) {
      if (Date.now() > until) throw new Error(`socat did not create ${a} and ${b} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await Promise.race([ready, failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  failed.catch(() => undefined);
  return { a, b, process: child, stop };
}

/** Opens a pty end for the relay (serialport; the baud rate is meaningless on a pty). */
export async function openPtyEnd(file: string): Promise<SerialPort> {
  const port = new SerialPort({ path: file, baudRate: 921_600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  return port;
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

/** host ⇄ pair ⇄ relay ⇄ pair ⇄ board, in `dir`: open `host` and `board` from either side. */
export interface SerialTestLine {
  host: string;
  board: string;
  relay: LineRelay;
  /** Restarts the host-side socat (a USB adapter unplugged and plugged back), down for `ms`. */
  replugHost(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSerialTestLine(dir: string, options: RelayOptions = {}): Promise<SerialTestLine> {
  const host = path.join(dir, 'host');
  const board = path.join(dir, 'board');
  const hostRelay = path.join(dir, 'relay-host');
  const boardRelay = path.join(dir, 'relay-board');
  let hostPair = await startPtyPair(host, hostRelay);
  const boardPair = await startPtyPair(board, boardRelay).catch(async (err) => {
    await hostPair.stop();
    throw err;
  });
  let ends: [SerialPort, SerialPort];
  try {
    ends = await Promise.all([openPtyEnd(hostRelay), openPtyEnd(boardRelay)]);
  } catch (err) {
    await Promise.all([hostPair.stop(), boardPair.stop()]);
    throw err;
  }
  let [relayHostEnd] = ends;
  const [, relayBoardEnd] = ends;
  let relay = relayLine(relayHostEnd, relayBoardEnd, options);
  return {
    host,
    board,
    get relay() {
      return relay;
    },
    async replugHost(ms) {
      relay.close();
      await closePort(relayHostEnd);
      await hostPair.stop();
      await new Promise((r) => setTimeout(r, ms));
      hostPair = await startPtyPair(host, hostRelay);
      relayHostEnd = await openPtyEnd(hostRelay);
      relay = relayLine(relayHostEnd, relayBoardEnd, options);
    },
    async close() {
      relay.close();
      await Promise.all([closePort(relayHostEnd), closePort(relayBoardEnd)]);
      await Promise.all([hostPair.stop(), boardPair.stop()]);
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ptys: { type: 'string' },
      baud: { type: 'string', default: '921600' },
      'corrupt-frames': { type: 'string' },
      'drop-frames': { type: 'string' },
      'flip-bytes': { type: 'string' },
      'drop-bytes': { type: 'string' },
      delay: { type: 'string' },
      seed: { type: 'string' },
      'cut-every': { type: 'string' },
      'cut-for': { type: 'string' },
    },
  });
  if (!values.ptys) throw new Error('--ptys DIR is required (the folder for the host and board pty links)');
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  fs.mkdirSync(values.ptys, { recursive: true });
  const line = await startSerialTestLine(values.ptys, {
    baud: num(values.baud)!,
    corruptFrames: num(values['corrupt-frames']),
    dropFrames: num(values['drop-frames']),
    flipBytes: num(values['flip-bytes']),
    dropBytes: num(values['drop-bytes']),
    delayMs: num(values.delay),
    seed: num(values.seed),
  });
  process.stdout.write(`serial-relay: host end ${line.host}, board end ${line.board}, ${values.baud} baud; Ctrl-C to stop\n`);
  const every = num(values['cut-every']);
  const cutFor = num(values['cut-for']) ?? 3;
  const cutter = every ? setInterval(() => line.relay.cut(cutFor * 1000), every * 1000) : undefined;
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  if (cutter) clearInterval(cutter);
  await line.close();
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`serial-relay: ${err.message}\n`);
    process.exitCode = 2;
  });
}
