/**
 * What deploy and verify tell a person while they work: hashing, upload bars, the board's
 * queue, the run. A bar (cli-progress) only when stderr is a terminal; plain lines when asked
 * for on a pipe (`--progress`, for CI logs); nothing otherwise, so scripts see only results.
 * Everything goes to stderr: stdout carries the report.
 */
import type { SingleBar } from 'cli-progress';

export type ProgressMode = 'bar' | 'lines' | 'quiet';

export interface Progress {
  /** A one-line status: "hashing model.joint", "queued: 1 run ahead". */
  note(line: string): void;
  /** Starts a byte count (uploads of `totalBytes` in all). */
  startBytes(label: string, totalBytes: number): void;
  /** Bytes done so far of the current count; `label` names the file being sent. */
  updateBytes(doneBytes: number, label?: string): void;
  endBytes(): void;
  /** Ends any bar (also on errors and Ctrl-C). */
  stop(): void;
}

/**
 * `--progress` true: always (a bar on a terminal, lines elsewhere); false: never; undefined:
 * a bar on a terminal, else nothing.
 */
export function progressMode(flag: boolean | undefined, stream: { isTTY?: boolean } = process.stderr): ProgressMode {
  if (flag === false) return 'quiet';
  if (stream.isTTY) return 'bar';
  return flag === true ? 'lines' : 'quiet';
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WritableStream = process.stderr): Progress {
  if (mode === 'quiet') return { note() {}, startBytes() {}, updateBytes() {}, endBytes() {}, stop() {} };
  if (mode === 'lines') return linesProgress(stream);
  return barProgress(stream);
}

function linesProgress(stream: NodeJS.WritableStream): Progress {
  let count: { label: string; total: number; started: number; done: number } | null = null;
  return {
    note: (line) => stream.write(`axctl: ${line}\n`),
    startBytes(label, total) {
      count = { label, total, started: Date.now(), done: 0 };
      stream.write(`axctl: uploading ${label} (${formatBytes(total)})\n`);
    },
    updateBytes(done) {
      if (count) count.done = done;
    },
    endBytes() {
      if (count) stream.write(`axctl: uploaded ${formatBytes(count.done)} in ${Date.now() - count.started} ms\n`);
      count = null;
    },
    stop() {
      count = null;
    },
  };
}

function barProgress(stream: NodeJS.WritableStream): Progress {
  let bar: SingleBar | null = null;
  let total = 0;
  let startedAt = 0;
  const end = () => {
    bar?.stop();
    bar = null;
  };
  return {
    note(line) {
      if (bar) return; // a bar owns the line; notes between bars only
      stream.write(`axctl: ${line}\n`);
    },
    startBytes(label, totalBytes) {
      end();
      total = totalBytes;
      startedAt = Date.now();
      // Loaded for a bar only (a terminal): not at every axctl start, nor in CI, which prints lines.
      const { SingleBar: Bar } = require('cli-progress') as typeof import('cli-progress');
      bar = new Bar({
        stream,
        format: 'uploading {label} [{bar}] {percentage}% {done}/{size} {rate}',
        hideCursor: true,
        barsize: 30,
        fps: 10,
      });
      bar.start(totalBytes, 0, { label, done: formatBytes(0), size: formatBytes(totalBytes), rate: '' });
    },
    updateBytes(done, label) {
      if (!bar) return;
      const seconds = (Date.now() - startedAt) / 1000;
      const rate = seconds > 0.2 ? `${formatBytes(done / seconds)}/s` : '';
      bar.update(Math.min(done, total), { ...(label && { label }), done: formatBytes(done), rate });
    },
    endBytes: end,
    stop: end,
  };
}

/** What a progress line says of a queue position from the board: waiting, or `started` once it runs. */
export function queueNote(position: number, started: string): string {
  return position > 0 ? `queued on the board: ${position} run${position === 1 ? '' : 's'} ahead` : started;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
