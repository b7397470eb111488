/**
 * What a Run and a DescribeModel share: both wait in the run queue and may run run_joint, so
 * both stream RunEvents under their id (queue positions, an alive event every few seconds so
 * the host can tell a long wait from a dead agent), stop on Cancel, and treat any other
 * message under their id as a confused host.
 */
import { ProtocolError } from '../../shared/protocol/errors';
import type { Envelope, RunEvent } from '../../shared/protocol/envelope';
import type { Operation, OperationHost } from './session';

/**
 * Output-line events sent but not yet taken by the transport (it holds a few MiB before send()
 * waits): past this, further lines are counted, not sent, until it drains. A run_joint that
 * prints 100 MB over a slow link held every line in memory (616 MB peak on a 40 Mbit/s link);
 * the RunResult carries the log either way (bounded, shared/run/output-capture.ts).
 */
export const MAX_UNSENT_LINE_BYTES = 1024 * 1024;

export abstract class QueuedOperation implements Operation {
  protected readonly abort = new AbortController();
  protected done = false;
  private unsentLineBytes = 0;
  private droppedLines = 0;

  constructor(protected readonly host: OperationHost, protected readonly id: number, private readonly what: string) {}

  abstract start(): Promise<void>;

  /** Runs `work` with alive events flowing until it settles. */
  protected async whileAlive(work: () => Promise<void>): Promise<void> {
    const receivedAt = performance.now(); // monotonic: the board's clock may jump (NTP)
    const alive = setInterval(() => void this.event({ event: 'aliveMs', aliveMs: Math.round(performance.now() - receivedAt) }), this.host.opts.aliveIntervalMs);
    alive.unref();
    try {
      await work();
    } finally {
      clearInterval(alive);
    }
  }

  /** Nothing may follow the request under its id (Cancel has its own). */
  onMessage(env: Envelope): void {
    this.abort.abort();
    this.finish(new ProtocolError('PROTO_UNEXPECTED', `${env.body} for ${this.what} ${this.id}`));
  }

  /** Stops run_joint or takes the request out of the queue. */
  cancel(): void {
    this.abort.abort();
  }

  /** Sends `event` under this request's id; resolves when the transport has taken it. */
  protected event(event: RunEvent): Promise<void> {
    return this.done ? Promise.resolve() : this.host.send({ id: this.id, body: 'runEvent', runEvent: event });
  }

  protected queuePosition = (position: number): void => void this.event({ event: 'queuePosition', queuePosition: position });

  /** One line of run_joint's output, streamed while the link keeps up (MAX_UNSENT_LINE_BYTES). */
  protected line(stream: 'stdout' | 'stderr', text: string): void {
    if (this.done) return;
    if (this.unsentLineBytes > MAX_UNSENT_LINE_BYTES) {
      this.droppedLines++;
      return;
    }
    if (this.droppedLines > 0) {
      const dropped = this.droppedLines;
      this.droppedLines = 0;
      this.sendLine('stderr', `axagent: ${dropped} line${dropped === 1 ? '' : 's'} of run_joint's output not streamed (printed faster than the link carries them); the run's result has its log`);
    }
    this.sendLine(stream, text);
  }

  private sendLine(stream: 'stdout' | 'stderr', text: string): void {
    const bytes = text.length + 16; // the envelope around it, roughly
    this.unsentLineBytes += bytes;
    void this.event({ event: 'line', line: { stream: stream === 'stderr' ? 'OUTPUT_STREAM_STDERR' : 'OUTPUT_STREAM_STDOUT', text } }).finally(() => (this.unsentLineBytes -= bytes));
  }

  protected finish(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (err === undefined) this.host.end(this.id);
    else this.host.fail(this.id, err);
  }
}
