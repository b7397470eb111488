/**
 * Serial goodput: application bytes per second through the serial transport over a line
 * throttled to 921600 baud (host ⇄ socat pty pair ⇄ relay ⇄ socat pty pair ⇄ board), as a
 * share of the line rate, on a clean line and with 1% of frames corrupted.
 *
 * Baseline, measured in the same run: raw bytes pushed through the same relay with no link
 * at all (what the throttled line itself carries). Target: clean goodput ≥ 85% of the line
 * rate. Needs socat. Runs in about 35 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSerialTransport } from '../../agent/serial';
import { openTransport } from '../../host/client/connect';
import '../../host/transports/serial';
import type { SerialTransport } from '../../shared/serial/serial-transport';
import { openPtyEnd, startSerialTestLine, type RelayOptions } from '../serial-relay';

const BAUD = 921_600;
const LINE_BYTES_PER_S = BAUD / 10;
const PAYLOAD_BYTES = 1024 * 1024;
const MESSAGE_BYTES = 64 * 1024;
const TARGET = 0.85;

interface Run {
  name: string;
  bytesPerS: number;
  detail: string;
}

async function withLine<T>(relay: RelayOptions, body: (line: Awaited<ReturnType<typeof startSerialTestLine>>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'axctl-bench-serial-'));
  const line = await startSerialTestLine(dir, relay);
  try {
    return await body(line);
  } finally {
    await line.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Raw bytes through the relay, no framing, no acknowledgements: the line's own capacity. */
async function baseline(): Promise<Run> {
  return withLine({ baud: BAUD }, async (line) => {
    const [host, board] = await Promise.all([openPtyEnd(line.host), openPtyEnd(line.board)]);
    const total = 460_800; // 5 s of line
    let got = 0;
    let first = 0;
    const done = new Promise<number>((resolve) =>
      board.on('data', (chunk: Buffer) => {
        if (got === 0) first = performance.now();
        got += chunk.length;
        if (got >= total) resolve(performance.now());
      }),
    );
    host.write(Buffer.alloc(total, 0x55));
    const end = await done;
    await Promise.all([host, board].map((p) => new Promise<void>((r) => p.close(() => r()))));
    return { name: 'raw line (baseline)', bytesPerS: total / ((end - first) / 1000), detail: `${total} bytes, no link` };
  });
}

/** The serial transport, host → board, `PAYLOAD_BYTES` in 64 KiB messages. */
async function goodput(name: string, relay: RelayOptions): Promise<Run> {
  return withLine({ baud: BAUD, ...relay }, async (line) => {
    const boardOpen = openSerialTransport(line.board, BAUD);
    const host = (await openTransport(`serial://${line.host}?baud=${BAUD}`)) as SerialTransport;
    const board = await boardOpen;
    let got = 0;
    const done = new Promise<number>((resolve) =>
      board.on('message', (m) => {
        got += m.length;
        if (got >= PAYLOAD_BYTES) resolve(performance.now());
      }),
    );
    const start = performance.now();
    const message = new Uint8Array(MESSAGE_BYTES).fill(0xa5);
    for (let sent = 0; sent < PAYLOAD_BYTES; sent += MESSAGE_BYTES) await host.send(message);
    const end = await done;
    const stats = host.linkStats;
    const corrupted = line.relay.stats.ab.framesCorrupted + line.relay.stats.ba.framesCorrupted;
    await host.close();
    await Promise.all([host.released, (board as SerialTransport).released]);
    const detail = `${stats.dataFramesSent} frames sent, ${stats.framesResent} resent, ${corrupted} corrupted on the line, ${stats.timeouts} timeouts, srtt ${stats.srttMs?.toFixed(1)} ms`;
    return { name, bytesPerS: PAYLOAD_BYTES / ((end - start) / 1000), detail };
  });
}

async function main(): Promise<number> {
  const runs: Run[] = [];
  runs.push(await baseline());
  runs.push(await goodput('serial transport, clean line', {}));
  runs.push(await goodput('serial transport, 1% frames corrupted', { corruptFrames: 0.01, seed: 1 }));
  const [raw, clean, lossy] = runs as [Run, Run, Run];
  process.stdout.write(`line: ${BAUD} baud, 8N1 = ${LINE_BYTES_PER_S} bytes/s; payload ${PAYLOAD_BYTES} bytes host → board\n`);
  for (const r of runs) {
    const ofLine = (100 * r.bytesPerS) / LINE_BYTES_PER_S;
    const ofRaw = (100 * r.bytesPerS) / raw.bytesPerS;
    process.stdout.write(`  ${r.name.padEnd(40)} ${(r.bytesPerS / 1024).toFixed(1).padStart(6)} KiB/s  ${ofLine.toFixed(1).padStart(5)}% of line  ${ofRaw.toFixed(1).padStart(5)}% of baseline  (${r.detail})\n`);
  }
  const cleanShare = clean.bytesPerS / LINE_BYTES_PER_S;
  process.stdout.write(`goodput ${(100 * cleanShare).toFixed(1)}% of the line rate (target ≥ ${100 * TARGET}%: ${cleanShare >= TARGET ? 'met' : 'MISSED'}); `);
  process.stdout.write(`1% corrupted frames cost ${(100 * (1 - lossy.bytesPerS / clean.bytesPerS)).toFixed(1)}% of the clean goodput\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`bench serial: ${err.message}\n`);
    process.exitCode = 1;
  },
);
