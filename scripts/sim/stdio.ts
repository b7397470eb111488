/**
 * C stdio as a glibc program on the board sees it, so that a wrapper meets the same surprises:
 *
 * - stdout is line-buffered on a terminal and fully buffered otherwise (pipe, file): glibc
 *   writes it out only in whole 4096-byte blocks until exit() flushes the rest. A process that
 *   aborts (failed assert, SIGABRT, SIGKILL/SIGTERM) loses whatever was still in the buffer.
 * - stderr is unbuffered.
 * - assert() prints `prog: file:line: function: Assertion `expr' failed.` on stderr and
 *   raises SIGABRT; the exit status is "killed by SIGABRT", never an exit code.
 *
 * Writes go straight to file descriptors 1 and 2 with fs.writeSync (no Node stream buffering).
 * A C program writing to a closed pipe dies of SIGPIPE; Node ignores SIGPIPE and cannot
 * restore its default action, so the simulator exits with 141 (128 + SIGPIPE), what a shell
 * reports for such a death.
 */
import * as fs from 'node:fs';
import * as tty from 'node:tty';

/** glibc's buffer size for pipes and most files (st_blksize). */
export const STDIO_BLOCK = 4096;

/** The short program name glibc's assert prints (__progname). */
const PROGNAME = 'run_joint';

export class CStdout {
  private pending = Buffer.alloc(0);
  private readonly lineBuffered: boolean;

  constructor(private readonly fd = 1) {
    this.lineBuffered = tty.isatty(fd);
  }

  /** printf: text goes into the buffer; full blocks (or lines on a terminal) go out. */
  printf(text: string): void {
    this.pending = Buffer.concat([this.pending, Buffer.from(text, 'utf8')]);
    if (this.lineBuffered) {
      const nl = this.pending.lastIndexOf(0x0a);
      if (nl >= 0) this.emit(nl + 1);
    } else if (this.pending.length >= STDIO_BLOCK) {
      this.emit(this.pending.length - (this.pending.length % STDIO_BLOCK));
    }
  }

  /** exit()'s flush: everything still buffered goes out. */
  flush(): void {
    this.emit(this.pending.length);
  }

  private emit(bytes: number): void {
    writeAll(this.fd, this.pending.subarray(0, bytes));
    this.pending = this.pending.subarray(bytes);
  }
}

/** std::cerr / fprintf(stderr): unbuffered. */
export function writeStderr(text: string): void {
  writeAll(2, Buffer.from(text, 'utf8'));
}

/**
 * A failed assert(): the message on stderr, then SIGABRT. Buffered stdout is dropped, as
 * abort() does not flush stdio. Never returns.
 */
export function assertFail(file: string, line: number, fn: string, expr: string): never {
  writeStderr(`${PROGNAME}: ${file}:${line}: ${fn}: Assertion \`${expr}' failed.\n`);
  return killSelf('SIGABRT');
}

/** Dies by `signal` the way a C program does (no Node handler may intercept it). */
export function killSelf(signal: 'SIGABRT' | 'SIGTERM'): never {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // The signal is delivered asynchronously to the main thread; block until it lands.
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 1000);
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') process.exit(128 + 13);
      throw err;
    }
  }
}
