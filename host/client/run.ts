/**
 * A run on the board: the request goes out, RunEvents come back as onLine/onQueue calls, the
 * RunResult ends it. The agent sends an alive event every few seconds while the run waits or
 * runs, so the request timeout measures silence, not run length. Aborting the signal asks the
 * agent to stop run_joint; the result (cancelled = true) still arrives.
 */
import { RunFailedError } from '../../shared/errors';
import type { RunJointLog } from '../../shared/parsers/run-joint-log';
import type { RunResult as WireRunResult } from '../../shared/protocol/envelope';
import { ProtocolError } from '../../shared/protocol/errors';
import { checkBlobHash, checkTensorName } from '../../shared/protocol/names';
import type { Channel } from './channel';
import { INLINE_OUTPUT_BYTES, type InlineBlobs } from './inline-blobs';
import { streamedCall } from './streamed-call';
import type { RunResult } from '../../shared/run/result';

import type { RunRequest } from '../../shared/run/request';
export type { RunRequest };

export type { RunStatus } from '../../shared/run/classify';
export type { RunResult } from '../../shared/run/result';

export interface RunOptions {
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Runs ahead of this one on the board; 0 when it starts after waiting. */
  onQueue?: (position: number) => void;
  signal?: AbortSignal;
  /** Silence (no event at all) after which the run is given up (default: the client's request timeout). */
  timeoutMs?: number;
}

const STATUS = { RUN_STATUS_OK: 'ok', RUN_STATUS_INPUT_ERROR: 'input-error', RUN_STATUS_FAILED: 'failed' } as const;

/** `inline`: where outputs the agent sends inside its result are kept (none asked for without it). */
export async function runOnAgent(channel: Channel, req: RunRequest, opts: RunOptions = {}, inline?: InlineBlobs): Promise<RunResult> {
  checkBlobHash(req.modelHash, 'model hash');
  for (const input of req.inputs) {
    checkTensorName(input.name);
    checkBlobHash(input.hash, `hash of input '${input.name}'`);
  }
  return streamedCall<RunResult>(channel, 'the run', {
    phase: 'run',
    request: (id) => ({
      id,
      body: 'run',
      run: {
        modelHash: req.modelHash,
        inputs: req.inputs.map(({ name, hash }) => ({ name, hash })),
        repeat: req.repeat ?? 0,
        warmup: req.warmup ?? 0,
        timeoutMs: req.timeoutMs ?? 0,
        extraArgs: req.extraArgs ?? [],
        inlineOutputBytes: inline ? INLINE_OUTPUT_BYTES : 0,
      },
    }),
    onEnvelope: (env, call) => {
      if (env.body === 'runEvent') {
        const ev = env.runEvent;
        if (ev.event === 'line') opts.onLine?.(ev.line.stream === 'OUTPUT_STREAM_STDERR' ? 'stderr' : 'stdout', ev.line.text);
        else if (ev.event === 'queuePosition') opts.onQueue?.(ev.queuePosition);
      } else if (env.body === 'runResult') {
        const result = fromWire(env.runResult);
        inline?.keep(env.runResult.outputs);
        call.done(result);
      } else {
        throw new ProtocolError('PROTO_UNEXPECTED', `${channel.peer} sent ${env.body} during a run`);
      }
    },
    signal: opts.signal,
    notStartedError: () => new RunFailedError('RUN_CANCELLED', 'the run was cancelled before it started'),
    timeoutMs: opts.timeoutMs,
  });
}

export function fromWire(wire: WireRunResult): RunResult {
  let parsed: RunJointLog;
  try {
    parsed = JSON.parse(wire.parsedLogJson) as RunJointLog;
  } catch (err) {
    throw new ProtocolError('PROTO_BAD_MESSAGE', `the run result's parsed log is not JSON: ${(err as Error).message}`);
  }
  return {
    status: STATUS[wire.status],
    exitCode: wire.ended === 'exitCode' ? wire.exitCode : null,
    signal: wire.ended === 'signal' ? wire.signal : null,
    timedOut: wire.timedOut,
    cancelled: wire.cancelled,
    log: wire.log,
    stderr: wire.stderr,
    parsed,
    outputs: wire.outputs.map(({ name, hash, size }) => ({ name, hash, size })),
    problems: wire.problems.map(({ code, message }) => ({ code, message })),
    durationMs: wire.durationMs,
  };
}
