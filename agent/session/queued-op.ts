/**
 * What a Run and a DescribeModel share: both wait in the run queue and may run run_joint, so
 * both stream RunEvents under their id (queue positions, an alive event every few seconds so
 * the host can tell a long wait from a dead agent), stop on Cancel, and treat any other
 * message under their id as a confused host.
 */
import { ProtocolError } from '../../shared/protocol/errors';
import type { Envelope, RunEvent } from '../../shared/protocol/envelope';
import type { Operation, OperationHost } from './session';

export abstract class QueuedOperation implements Operation {
  protected readonly abort = new AbortController();
  protected done = false;

  constructor(protected readonly host: OperationHost, protected readonly id: number, private readonly what: string) {}

  abstract start(): Promise<void>;

  /** Runs `work` with alive events flowing until it settles. */
  protected async whileAlive(work: () => Promise<void>): Promise<void> {
    const receivedAt = Date.now();
    const alive = setInterval(() => this.event({ event: 'aliveMs', aliveMs: Date.now() - receivedAt }), this.host.opts.aliveIntervalMs);
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

  protected event(event: RunEvent): void {
    if (!this.done) void this.host.send({ id: this.id, body: 'runEvent', runEvent: event });
  }

  protected queuePosition = (position: number): void => this.event({ event: 'queuePosition', queuePosition: position });

  protected finish(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (err === undefined) this.host.end(this.id);
    else this.host.fail(this.id, err);
  }
}
