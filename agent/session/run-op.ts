/**
 * A Run request: checked at the edge (hashes, tensor names), handed to the RunService, its
 * output lines and queue positions streamed as RunEvents, an alive event every few seconds so
 * the host can tell a long run from a dead agent, and the RunResult at the end. Cancel stops
 * run_joint; the result (cancelled = true) still follows.
 */
import { ProtocolError } from '../../shared/protocol/errors';
import { checkBlobHash, checkTensorName } from '../../shared/protocol/names';
import type { Envelope, RunEvent, RunRequest, RunResult as WireRunResult, RunStatus as WireRunStatus } from '../../shared/protocol/envelope';
import type { RunResult } from '../run/run-service';
import type { Operation, OperationHost } from './session';

const STATUS: Record<RunResult['status'], WireRunStatus> = {
  ok: 'RUN_STATUS_OK',
  'input-error': 'RUN_STATUS_INPUT_ERROR',
  failed: 'RUN_STATUS_FAILED',
};

export class RunOperation implements Operation {
  private readonly abort = new AbortController();
  private done = false;

  constructor(private readonly host: OperationHost, private readonly id: number, private readonly req: RunRequest) {}

  async start(): Promise<void> {
    const receivedAt = Date.now();
    const alive = setInterval(() => this.event({ event: 'aliveMs', aliveMs: Date.now() - receivedAt }), this.host.opts.aliveIntervalMs);
    alive.unref();
    try {
      const { req } = this;
      checkBlobHash(req.modelHash, 'model hash');
      for (const input of req.inputs) {
        checkTensorName(input.name);
        checkBlobHash(input.hash, `hash of input '${input.name}'`);
      }
      const result = await this.host.ctx.runs.run(
        {
          modelHash: req.modelHash,
          inputs: req.inputs.map(({ name, hash }) => ({ name, hash })),
          repeat: req.repeat || undefined,
          warmup: req.warmup,
          timeoutMs: req.timeoutMs || undefined,
          extraArgs: req.extraArgs,
        },
        {
          onLine: (stream, text) => this.event({ event: 'line', line: { stream: stream === 'stderr' ? 'OUTPUT_STREAM_STDERR' : 'OUTPUT_STREAM_STDOUT', text } }),
          onQueue: (position) => this.event({ event: 'queuePosition', queuePosition: position }),
          signal: this.abort.signal,
        },
      );
      if (result.parsed.runJointVersion) this.host.ctx.board.runJointVersion = result.parsed.runJointVersion;
      if (this.done) return;
      await this.host.send({ id: this.id, body: 'runResult', runResult: toWire(result) });
      this.finish();
    } catch (err) {
      this.finish(err);
    } finally {
      clearInterval(alive);
    }
  }

  /** Nothing may follow a Run under its id (Cancel has its own): a confused host loses the run. */
  onMessage(env: Envelope): void {
    this.abort.abort();
    this.finish(new ProtocolError('PROTO_UNEXPECTED', `${env.body} for run ${this.id}`));
  }

  /** Stops run_joint; the RunResult (cancelled) is still sent unless the connection is gone. */
  cancel(): void {
    this.abort.abort();
  }

  private event(event: RunEvent): void {
    if (!this.done) void this.host.send({ id: this.id, body: 'runEvent', runEvent: event });
  }

  private finish(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (err === undefined) this.host.end(this.id);
    else this.host.fail(this.id, err);
  }
}

export function toWire(result: RunResult): WireRunResult {
  const ended =
    result.exitCode !== null
      ? { ended: 'exitCode' as const, exitCode: result.exitCode }
      : result.signal !== null
        ? { ended: 'signal' as const, signal: result.signal }
        : {};
  return {
    status: STATUS[result.status],
    ...ended,
    timedOut: result.timedOut,
    cancelled: result.cancelled,
    log: result.log,
    stderr: result.stderr,
    parsedLogJson: JSON.stringify(result.parsed),
    outputs: result.outputs.map(({ name, hash, size }) => ({ name, hash, size })),
    problems: result.problems.map(({ code, message }) => ({ code, message })),
    durationMs: result.durationMs,
  };
}
