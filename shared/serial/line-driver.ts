/**
 * Wires a ReliableLink to a real byte line (a serial port, a tty, a pty): bytes from the port
 * go to link.receive(), frames from link.pull() go to the port while it accepts them. The
 * adaptor only moves bytes; every decision is the link's.
 *
 * When the port itself disappears (a USB adapter unplugged: `close` with disconnected=true,
 * or EIO on a tty) the link is told the line is down and the driver reopens the same path
 * every `reopenIntervalMs` until it succeeds or the link gives up; the link then resends what
 * the peer lacks. When the link closes, its last frame (RESET or final ACK) is written and the
 * port is closed; `done` resolves once the port is really released (so it can be reopened).
 */
import type { Duplex } from 'node:stream';
import type { ReliableLink } from './link';

/** An open port: its bytes, and how to let go of it (a stream's destroy() does not always). */
export interface OpenLine {
  stream: Duplex;
  /** Closes the device (releases its lock); resolves when done, never rejects. */
  close(): Promise<void>;
}

/** Opens the port (again: same path, same settings). */
export type LineOpener = () => Promise<OpenLine>;

export interface LineDriverOptions {
  /** Reopen the port when it vanishes (default true). */
  reopen?: boolean;
  reopenIntervalMs?: number;
  /** Longest wait for the last frame to be written before the port is closed anyway. */
  finalWriteMs?: number;
}

export class LineDriver {
  /** Resolves when the link has closed and the port is released. */
  readonly done: Promise<void>;
  /** Times the port vanished and was opened again. */
  reopens = 0;
  private port: OpenLine | undefined;
  private blocked = false;
  private pumping = false;
  private pumpAgain = false;
  private released!: () => void;
  private readonly options: Required<LineDriverOptions>;

  constructor(private readonly link: ReliableLink, first: OpenLine, private readonly reopen: LineOpener, options: LineDriverOptions = {}) {
    this.options = { reopen: true, reopenIntervalMs: 500, finalWriteMs: 500, ...options };
    this.done = new Promise((resolve) => (this.released = resolve));
    link.on('output', () => this.pump());
    link.on('close', () => this.shutDown());
    this.attach(first);
  }

  private attach(port: OpenLine): void {
    const stream = port.stream;
    this.port = port;
    this.blocked = false;
    let gone = false;
    const lost = (): void => {
      if (gone) return;
      gone = true;
      stream.removeAllListeners('data');
      stream.removeAllListeners('drain');
      stream.on('error', () => undefined); // a late error from a dead port is not news
      if (this.port !== port) return;
      this.port = undefined;
      void port.close().then(() => this.portGone());
    };
    stream.on('data', (chunk: Uint8Array) => this.link.receive(chunk));
    stream.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
    stream.on('error', lost);
    stream.on('close', lost);
    stream.on('end', lost);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.port && !this.blocked && !this.link.closed) {
          const bytes = this.link.pull();
          if (!bytes) break;
          if (!this.port.stream.write(bytes)) this.blocked = true;
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private portGone(): void {
    if (this.link.closed) return this.released();
    this.link.lineLost();
    if (!this.options.reopen) {
      this.link.destroy();
      return this.released();
    }
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    setTimeout(() => {
      if (this.link.closed) return this.released();
      this.reopen().then(
        (port) => {
          if (this.link.closed) return void port.close().then(() => this.released());
          this.reopens++;
          this.attach(port);
          this.link.lineReopened();
        },
        () => this.scheduleReopen(),
      );
    }, this.options.reopenIntervalMs);
  }

  private shutDown(): void {
    const port = this.port;
    if (!port) {
      // Lost: released once the dead port is closed, or by the pending reopen attempt.
      return;
    }
    this.port = undefined;
    let closing = false;
    const close = (): void => {
      if (closing) return;
      closing = true;
      clearTimeout(timer);
      port.stream.removeAllListeners('data');
      void port.close().then(() => this.released());
    };
    const timer = setTimeout(close, this.options.finalWriteMs);
    const last: Uint8Array[] = [];
    for (let bytes = this.link.pull(); bytes; bytes = this.link.pull()) last.push(bytes);
    if (last.length === 0 || port.stream.destroyed) return close();
    last.forEach((bytes, i) => port.stream.write(bytes, i === last.length - 1 ? () => close() : undefined));
  }
}
