/**
 * A Run request: checked at the edge (hashes, tensor names), handed to the RunService, its
 * output lines and queue positions streamed as RunEvents, an alive event every few seconds so
 * the host can tell a long run from a dead agent, and the RunResult at the end. Cancel stops
 * run_joint; the result (cancelled = true) still follows.
 */
import type { RunRequest, RunResult as WireRunResult, RunStatus as WireRunStatus } from '../../shared/protocol/envelope';
import type { RunResult } from '../run/run-service';
import { inlineOutputs } from './inline-outputs';
import { QueuedOperation } from './queued-op';
import type { OperationHost } from './session';

const STATUS: Record<RunResult['status'], WireRunStatus> = {
  ok: 'RUN_STATUS_OK',
  'input-error': 'RUN_STATUS_INPUT_ERROR',
  failed: 'RUN_STATUS_FAILED',
};

export class RunOperation extends QueuedOperation {
  constructor(host: OperationHost, id: number, private readonly req: RunRequest) {
    super(host, id, 'run');
  }

  /** Cancel stops run_joint; the RunResult (cancelled) is still sent unless the connection is gone. */
  start(): Promise<void> {
    return this.whileAlive(async () => {
      try {
        const { req } = this;
        // The run service checks it all (shared/run/request.ts); 0 is the wire's "not given".
        const result = await this.host.ctx.runs.run(
          {
            modelHash: req.modelHash,
            inputs: req.inputs.map(({ name, hash }) => ({ name, hash })),
            repeat: req.repeat,
            warmup: req.warmup,
            timeoutMs: req.timeoutMs,
            extraArgs: req.extraArgs,
          },
          {
            onLine: (stream, text) => this.line(stream, text),
            onQueue: this.queuePosition,
            signal: this.abort.signal,
            keepOutputBytes: Math.min(req.inlineOutputBytes, this.host.maxChunkBytes),
          },
        );
        if (result.parsed.runJointVersion) await this.host.ctx.board.learn(result.parsed.runJointVersion);
        if (this.done) return;
        const wire = toWire(result);
        // The bytes kept while storing an output save reading it back from the store.
        const kept = (hash: string, size: number) => result.outputs.find((o) => o.hash === hash && o.bytes?.length === size)?.bytes;
        await inlineOutputs(wire, { requested: req.inlineOutputBytes, maxMessageBytes: this.host.maxChunkBytes }, async (hash, size) => kept(hash, size) ?? this.host.ctx.store.read(hash, 0, size)).catch(() => undefined);
        if (this.done) return;
        await this.host.send({ id: this.id, body: 'runResult', runResult: wire });
        this.finish();
      } catch (err) {
        this.finish(err);
      }
    });
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
    outputs: result.outputs.map(({ name, hash, size }) => ({ name, hash, size, data: new Uint8Array(0) })),
    problems: result.problems.map(({ code, message }) => ({ code, message })),
    durationMs: result.durationMs,
  };
}
