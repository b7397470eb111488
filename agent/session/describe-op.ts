/**
 * A DescribeModel request: the model's I/O listing from the RunService, which answers from its
 * cache or probes the model in the run queue. Like a run it may wait behind other runs, so it
 * sends queue positions and an alive event every few seconds (RunEvents under its id) until
 * the ModelDescription ends it; a probe that learnt nothing (crash, assertion, timeout) ends
 * it with a failed RunResult carrying its evidence, as a run would; a request that cannot be
 * served ends with an Error (BAD_HASH, BLOB_MISSING, RUN_CANCELLED, RUN_JOINT_*...).
 */
import { checkBlobHash } from '../../shared/protocol/names';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';
import type { DescribeModelRequest, ModelDescription, TensorDescription } from '../../shared/protocol/envelope';
import { ModelProbeError, type ModelIo } from '../../shared/run/model-io';
import { probeFailedResult } from '../run/run-service';
import { toWire } from './run-op';
import { QueuedOperation } from './queued-op';
import type { OperationHost } from './session';

export class DescribeOperation extends QueuedOperation {
  constructor(host: OperationHost, id: number, private readonly req: DescribeModelRequest) {
    super(host, id, 'describe request');
  }

  start(): Promise<void> {
    return this.whileAlive(async () => {
      try {
        checkBlobHash(this.req.modelHash, 'model hash');
        const io = await this.host.ctx.runs.describe(this.req.modelHash, {
          onQueue: this.queuePosition,
          signal: this.abort.signal,
          ...(this.req.timeoutMs > 0 && { timeoutMs: this.req.timeoutMs }),
        });
        if (this.done) return;
        await this.host.send({ id: this.id, body: 'modelDescription', modelDescription: describeWire(io) });
        this.finish();
      } catch (err) {
        if (err instanceof ModelProbeError && err.code !== 'RUN_CANCELLED' && !this.done) {
          // The model did not list its I/O (crash, assertion, timeout): answered as a run is, with the evidence.
          await this.host.send({ id: this.id, body: 'runResult', runResult: toWire(probeFailedResult(err)) });
          this.finish();
        } else {
          this.finish(err);
        }
      }
    });
  }
}

/** A model's listing as the protocol carries it (absent values as proto3 zeros). */
export function describeWire(io: ModelIo): ModelDescription {
  return { inputs: io.inputs.map(tensorWire), outputs: io.outputs.map(tensorWire), maxBatchSize: io.maxBatchSize ?? 0 };
}

function tensorWire(t: RunJointTensor): TensorDescription {
  return { name: t.name, shape: [...t.shape], layout: t.layout ?? '', dtype: t.dtype ?? '', colorSpace: t.colorSpace ?? '', q: t.q ?? 0, size: t.size ?? 0 };
}
