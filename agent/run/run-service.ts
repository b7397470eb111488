/**
 * One run, from a peer's request to a typed result. Checks the request, pins its blobs, waits
 * its turn (one run at a time), learns the model's input order, runs the configured run_joint
 * in a fresh job folder, classifies the outcome (shared/run/classify.ts) and stores the outputs.
 * Nothing but the configured run_joint is ever executed, with options from the allow-list only.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AxError, UsageError } from '../../shared/errors';
import { parseRunJointLog } from '../../shared/parsers/run-joint-log';
import type { BlobStore } from '../store/blob-store';
import { assertHash } from '../store/hashing';
import { buildRunJointArgs, checkExtraArgs } from '../../shared/run/args';
import { classifyRun, localDumpFolder, type RunProblem } from '../../shared/run/classify';
import { ModelProbeError, orderInputs, type ModelIo } from '../../shared/run/model-io';
import { failedResult, type RunResult } from '../../shared/run/result';
import { ModelIoCache } from './model-io';
import { RunQueue } from './queue';
import { spawnRunJoint, type RunnerOutcome } from './runner';

export type { RunProblem, RunStatus } from '../../shared/run/classify';

import type { RunRequest } from '../../shared/run/request';
export type { RunRequest };

export type { RunResult } from '../../shared/run/result';

export interface RunHooks {
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Runs ahead of this one while it waits (see queue.ts); 0 when it starts after waiting. */
  onQueue?: (position: number) => void;
  signal?: AbortSignal;
}

export interface RunServiceOptions {
  store: BlobStore;
  /** Absolute path of run_joint (or a stand-in with the same interface). */
  runJoint: string;
  /** Default 10 minutes. */
  defaultTimeoutMs?: number;
  /** Upper bound of repeat and of warmup. Default 100000. */
  maxRepeat?: number;
  /** Upper bound of a request's timeoutMs. Default 24 hours. */
  maxTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace. Default 2000 ms. */
  killGraceMs?: number;
  /** run_joint's environment. Default: the agent's. */
  env?: NodeJS.ProcessEnv;
}

interface Plan {
  modelHash: string;
  inputs: { name: string; hash: string }[];
  repeat: number;
  warmup: number;
  timeoutMs: number;
  extra: string[];
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_MAX_REPEAT = 100_000;
const DEFAULT_MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;

export class RunService {
  private readonly queue = new RunQueue();
  private readonly modelIo: ModelIoCache;
  private readonly store: BlobStore;

  constructor(private readonly opts: RunServiceOptions) {
    this.store = opts.store;
    this.modelIo = new ModelIoCache(opts.store);
  }

  /** Requests waiting for their turn (the running one not counted). */
  get queueLength(): number {
    return this.queue.waitingCount;
  }

  /**
   * Resolves with the run's result (also for failed, cancelled and input-error runs). Rejects
   * only for a request that cannot be run: UsageError BAD_REQUEST, BAD_REPEAT, BAD_WARMUP,
   * BAD_TIMEOUT, INPUT_DUPLICATE, INPUT_MISSING, INPUT_UNKNOWN, BLOB_MISSING, OPTION_* (args.ts),
   * StoreError BAD_HASH.
   */
  async run(req: RunRequest, hooks: RunHooks = {}): Promise<RunResult> {
    const plan = this.check(req);
    const unpin = this.store.pin([plan.modelHash, ...plan.inputs.map((input) => input.hash)]);
    try {
      await this.requireBlobs(plan);
      return await this.queue.run(() => this.execute(plan, hooks), { onPosition: hooks.onQueue, signal: hooks.signal });
    } catch (err) {
      if (err instanceof AxError && err.code === 'RUN_CANCELLED') return notRun({ code: err.code, message: err.message }, true);
      throw err;
    } finally {
      unpin();
    }
  }

  /**
   * The model's inputs and outputs, in run_joint's order: from the cache, or learnt by a probe
   * run that waits its turn in the queue like any run (and then serves later runs too).
   * Rejects with StoreError BAD_HASH, UsageError BLOB_MISSING, RunFailedError RUN_CANCELLED
   * (while waiting), RUN_JOINT_* (runner.ts), and ModelProbeError (MODEL_PROBE_FAILED,
   * RUN_TIMEOUT, RUN_CANCELLED) with the probe's outcome (probeFailedResult makes it a run's).
   */
  async describe(modelHash: string, hooks: Pick<RunHooks, 'onQueue' | 'signal'> & { timeoutMs?: number } = {}): Promise<ModelIo> {
    const hash = assertHash(modelHash);
    const timeoutMs = bounded('BAD_TIMEOUT', 'timeoutMs', hooks.timeoutMs ?? this.opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS, 1, this.opts.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS);
    const unpin = this.store.pin([hash]);
    try {
      await this.requireBlobs({ modelHash: hash, inputs: [] });
      return await this.queue.run(
        async () => this.modelIo.get(hash, await this.store.pathOf(hash), (args, cwd) => this.spawn(args, cwd, timeoutMs, { signal: hooks.signal })),
        { onPosition: hooks.onQueue, signal: hooks.signal },
      );
    } finally {
      unpin();
    }
  }

  private check(req: RunRequest): Plan {
    if (typeof req !== 'object' || req === null || !Array.isArray(req.inputs)) {
      throw new UsageError('BAD_REQUEST', 'a run request needs modelHash and an inputs list');
    }
    const modelHash = assertHash(req.modelHash);
    const names = new Set<string>();
    const inputs = req.inputs.map((input, i) => {
      if (typeof input?.name !== 'string' || input.name === '') throw new UsageError('BAD_REQUEST', `input #${i + 1} of the run request has no name`);
      if (names.has(input.name)) throw new UsageError('INPUT_DUPLICATE', `input '${input.name}' is given twice`, { hint: 'give every model input once' });
      names.add(input.name);
      return { name: input.name, hash: assertHash(input.hash) };
    });
    const maxRepeat = this.opts.maxRepeat ?? DEFAULT_MAX_REPEAT;
    const maxTimeout = this.opts.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS;
    return {
      modelHash,
      inputs,
      repeat: bounded('BAD_REPEAT', 'repeat', req.repeat ?? 1, 1, maxRepeat),
      warmup: bounded('BAD_WARMUP', 'warmup', req.warmup ?? 0, 0, maxRepeat),
      timeoutMs: bounded('BAD_TIMEOUT', 'timeoutMs', req.timeoutMs ?? this.opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS, 1, maxTimeout),
      extra: checkExtraArgs(req.extraArgs ?? []),
    };
  }

  private async requireBlobs(plan: Pick<Plan, 'modelHash' | 'inputs'>): Promise<void> {
    const missing: string[] = [];
    if (!(await this.store.has(plan.modelHash))) missing.push(`model ${plan.modelHash}`);
    for (const input of plan.inputs) {
      if (!(await this.store.has(input.hash))) missing.push(`input '${input.name}' ${input.hash}`);
    }
    if (missing.length > 0) {
      throw new UsageError('BLOB_MISSING', `not on the board: ${missing.join(', ')}`, { hint: 'upload these blobs, then run again' });
    }
  }

  private async execute(plan: Plan, hooks: RunHooks): Promise<RunResult> {
    const modelPath = await this.store.pathOf(plan.modelHash);
    let io: ModelIo;
    try {
      io = await this.modelIo.get(plan.modelHash, modelPath, (args, cwd) => this.spawn(args, cwd, plan.timeoutMs, { signal: hooks.signal }));
    } catch (err) {
      if (err instanceof ModelProbeError) return probeFailedResult(err);
      if (err instanceof AxError && err.code.startsWith('RUN_JOINT_')) return notRun({ code: err.code, message: err.message }, false);
      throw err;
    }
    const ordered = orderInputs(plan.inputs, io);
    const inputPaths = await Promise.all(ordered.map((input) => this.store.pathOf(input.hash)));
    const fed = await Promise.all(ordered.map(async (input) => ({ ...input, size: (await this.store.has(input.hash))?.size ?? 0 })));
    const job = await this.store.makeJobDir();
    try {
      const outDir = path.join(job.dir, 'out');
      await fsp.mkdir(outDir);
      const args = buildRunJointArgs({ modelPath, inputPaths, outDir, repeat: plan.repeat, warmup: plan.warmup, extra: plan.extra });
      let outcome: RunnerOutcome;
      try {
        outcome = await this.spawn(args, job.dir, plan.timeoutMs, hooks);
      } catch (err) {
        if (err instanceof AxError && err.code.startsWith('RUN_JOINT_')) return notRun({ code: err.code, message: err.message }, false);
        throw err;
      }
      const overrideAt = plan.extra.indexOf('--override_batch_size');
      const verdict = await classifyRun(outcome, {
        io,
        dumps: localDumpFolder(outDir),
        timeoutMs: plan.timeoutMs,
        overrideBatch: overrideAt >= 0 ? Number(plan.extra[overrideAt + 1]) : null,
        fed,
      });
      const result: RunResult = {
        ...failedResult(outcome, undefined, verdict.parsed),
        status: verdict.status,
        problems: verdict.problems,
      };
      for (const output of verdict.outputFiles) {
        try {
          const stored = await this.store.ingestFile(output.file);
          result.outputs.push({ name: output.name, hash: stored.hash, size: stored.size });
        } catch (err) {
          result.status = 'failed';
          result.outputs = []; // outputs are all or nothing
          result.problems.push({ code: err instanceof AxError ? err.code : 'OUTPUT_NOT_STORED', message: `output ${output.name} could not be stored: ${(err as Error).message}` });
          break;
        }
      }
      return result;
    } finally {
      await job.remove();
    }
  }

  private spawn(args: string[], cwd: string, timeoutMs: number, hooks: Pick<RunHooks, 'onLine' | 'signal'>): Promise<RunnerOutcome> {
    return spawnRunJoint({
      runJoint: this.opts.runJoint,
      args,
      cwd,
      timeoutMs,
      killGraceMs: this.opts.killGraceMs,
      env: this.opts.env,
      onLine: hooks.onLine,
      signal: hooks.signal,
    });
  }
}

function bounded(code: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(code, `${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}


/** A probe that learnt no listing, as a failed run with its evidence (exit, signal, log, assertions). */
export function probeFailedResult(err: ModelProbeError): RunResult {
  const result = failedResult(err.outcome, { code: err.code, message: err.message });
  // A model that aborts takes its listing with it (stdout is lost); the assertion stays.
  for (const text of parseRunJointLog(err.outcome.stderr).assertions) result.problems.push({ code: 'RUN_ASSERTION', message: text });
  return result;
}

/** A run that never reached run_joint (cancelled while waiting, run_joint missing). */
function notRun(problem: RunProblem, cancelled: boolean): RunResult {
  return failedResult({ exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, cancelled, durationMs: 0 }, problem);
}
