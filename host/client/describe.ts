/**
 * DescribeModel (protocol 1.1): the model's inputs and outputs as run_joint lists them, which
 * the agent knows from its cache or learns by probing the model in its run queue. Queue
 * positions and alive events may come first (like a run), so the request timeout measures
 * silence, not how long the board is busy. A probe that fails comes back as a failed run
 * (ModelProbeFailedError.result). An agent older than 1.1 does not know the request:
 * DescribeUnsupportedError, which callers catch to do without.
 */
import { ConnectError, RunFailedError, type AxErrorOptions } from '../../shared/errors';
import type { RunJointTensor, TensorLayout } from '../../shared/parsers/run-joint-log';
import type { ModelDescription, TensorDescription } from '../../shared/protocol/envelope';
import { ProtocolError } from '../../shared/protocol/errors';
import { checkBlobHash } from '../../shared/protocol/names';
import type { Channel } from './channel';
import { streamedCall } from './streamed-call';
import { fromWire as runFromWire, type RunResult } from './run';

/** The first protocol minor (of major 1) with DescribeModel. */
export const DESCRIBE_MIN_MINOR = 1;

/** A model's I/O listing, in run_joint's order. */
export interface ModelDescriptionResult {
  inputs: RunJointTensor[];
  outputs: RunJointTensor[];
  /** run_joint's `Max Batch Size`; null when it printed none. */
  maxBatchSize: number | null;
}

export interface DescribeOptions {
  /** Runs ahead of the probe on the board; 0 when it starts after waiting. */
  onQueue?: (position: number) => void;
  signal?: AbortSignal;
  /** Time limit of the probe run on the board (default: the agent's). */
  runTimeoutMs?: number;
}

/** The agent predates DescribeModel (protocol < 1.1). Exit 5, like other version problems. */
export class DescribeUnsupportedError extends ConnectError {
  constructor(peer: string, agentVersion: string, options: AxErrorOptions = {}) {
    super('DESCRIBE_UNSUPPORTED', `${peer}: axagent ${agentVersion || '?'} cannot describe a model (protocol 1.${DESCRIBE_MIN_MINOR} or newer needed)`, {
      hint: 'install axagent from this axctl release on the board',
      ...options,
    });
  }
}

/**
 * The board ran the model to learn its listing and run_joint failed (crash, assertion,
 * timeout): `result` is that run, with its evidence, to be reported as a failed run.
 */
export class ModelProbeFailedError extends RunFailedError {
  constructor(readonly result: RunResult, peer: string) {
    const problem = result.problems[0];
    super(problem?.code ?? 'MODEL_PROBE_FAILED', `${peer}: ${problem?.message ?? "run_joint did not list the model's inputs and outputs"}`);
  }
}

export function describeOnAgent(channel: Channel, modelHash: string, opts: DescribeOptions = {}): Promise<ModelDescriptionResult> {
  checkBlobHash(modelHash, 'model hash');
  return streamedCall<ModelDescriptionResult>(channel, 'the model description', {
    // The agent learns a model's inputs and outputs by running run_joint: as lost as a run.
    phase: 'run',
    request: (id) => ({ id, body: 'describeModel', describeModel: { modelHash, timeoutMs: opts.runTimeoutMs ?? 0 } }),
    onEnvelope: (env, call) => {
      if (env.body === 'runEvent') {
        if (env.runEvent.event === 'queuePosition') opts.onQueue?.(env.runEvent.queuePosition);
      } else if (env.body === 'modelDescription') {
        call.done(fromWire(env.modelDescription));
      } else if (env.body === 'runResult') {
        call.fail(new ModelProbeFailedError(runFromWire(env.runResult), channel.peer));
      } else {
        call.fail(new ProtocolError('PROTO_UNEXPECTED', `${channel.peer} sent ${env.body} while describing a model`));
      }
    },
    signal: opts.signal,
    notStartedError: () => new RunFailedError('RUN_CANCELLED', 'describing the model was cancelled before it started'),
  });
}

function fromWire(wire: ModelDescription): ModelDescriptionResult {
  return { inputs: wire.inputs.map(tensorOf), outputs: wire.outputs.map(tensorOf), maxBatchSize: wire.maxBatchSize || null };
}

function tensorOf(t: TensorDescription, index: number): RunJointTensor {
  return {
    index,
    name: t.name,
    shape: [...t.shape],
    layout: t.layout === 'NHWC' || t.layout === 'NCHW' ? (t.layout as TensorLayout) : null,
    dtype: t.dtype || null,
    colorSpace: t.colorSpace || null,
    q: t.q || null,
    memory: null,
    size: t.size || null,
    line: 0,
  };
}
