/**
 * Bounded capture of a child's output. run_joint's log is small, but a broken build or a
 * runaway loop can print without end: keep the head (the model listing lives there) and the
 * tail (dump lines and the final error live there) and count what was dropped between.
 * Used by the agent's runner and by agentless SSH's remote runs alike.
 */
import { StringDecoder } from 'node:string_decoder';

export const DEFAULT_CAPTURE_CHARS = 1024 * 1024;
/** A "line" longer than this (binary garbage, no newline) is handed on in pieces. */
const MAX_LINE_CHARS = 64 * 1024;

export class OutputCapture {
  private head = '';
  private tail: string[] = [];
  private tailChars = 0;
  private omitted = 0;
  private readonly half: number;

  constructor(limitChars = DEFAULT_CAPTURE_CHARS) {
    this.half = Math.max(1, Math.floor(limitChars / 2));
  }

  push(text: string): void {
    if (this.head.length < this.half) {
      const room = this.half - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (text.length === 0) return;
    this.tail.push(text);
    this.tailChars += text.length;
    while (this.tailChars > this.half) {
      const excess = this.tailChars - this.half;
      const first = this.tail[0];
      if (first.length <= excess) {
        this.tail.shift();
        this.tailChars -= first.length;
        this.omitted += first.length;
      } else {
        this.tail[0] = first.slice(excess);
        this.tailChars -= excess;
        this.omitted += excess;
      }
    }
  }

  text(): string {
    const tail = this.tail.join('');
    if (this.omitted === 0) return this.head + tail;
    return `${this.head}\n[... ${this.omitted} characters of output omitted ...]\n${tail}`;
  }
}

/** Turns a byte stream into text lines (UTF-8 safe across chunk borders, \r\n tolerated). */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds bytes; returns their decoded text (for capture). */
  write(bytes: Buffer): string {
    const text = this.decoder.write(bytes);
    this.split(text);
    return text;
  }

  /** Ends the stream; returns any text still held by the decoder. */
  end(): string {
    const text = this.decoder.end();
    this.split(text);
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = '';
    return text;
  }

  private split(text: string): void {
    this.pending += text;
    let start = 0;
    let newline: number;
    while ((newline = this.pending.indexOf('\n', start)) >= 0) {
      this.emit(this.pending.slice(start, newline));
      start = newline + 1;
    }
    this.pending = this.pending.slice(start);
    while (this.pending.length > MAX_LINE_CHARS) {
      this.emit(this.pending.slice(0, MAX_LINE_CHARS));
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
  }

  private emit(line: string): void {
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}
