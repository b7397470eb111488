/**
 * One run, from a peer's request to a typed result. Checks the request, pins its blobs, waits
 * its turn (one run at a time), learns the model's input order, runs the configured run_joint
 * in a fresh job folder, classifies the outcome (shared/run/classify.ts) and stores the outputs.
 * Nothing but the configured run_joint is ever executed, with options from the allow-list only.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { allInOrder } from '../../shared/all-in-order';
import { AxError, UsageError } from '../../shared/errors';
import { parseRunJointLog } from '../../shared/parsers/run-joint-log';
import type { BlobStore } from '../store/blob-store';
import { assertHash } from '../store/hashing';
import { buildRunJointArgs } from '../../shared/run/args';
import { classifyRun, localDumpFolder, type RunProblem } from '../../shared/run/classify';
import { ModelProbeError, orderInputs, type ModelIo } from '../../shared/run/model-io';
import { failedResult, type RunResult } from '../../shared/run/result';
import { recordRun } from './leftover-runs';
import { ModelIoCache } from './model-io';
import { RunQueue } from './queue';
import { spawnRunJoint, type RunnerOutcome } from './runner';

export type { RunProblem, RunStatus } from '../../shared/run/classify';

import { RUN_LIMITS, checkRunRequest, checkWhole, type RunLimits, type RunPlan, type RunRequest } from '../../shared/run/request';
export type { RunRequest };

export type { RunResult } from '../../shared/run/result';

export interface RunHooks {
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Runs ahead of this one while it waits (see queue.ts); 0 when it starts after waiting. */
  onQueue?: (position: number) => void;
  signal?: AbortSignal;
  /** Outputs the caller sends on inline: up to this many bytes of them in all are kept in memory as they are stored. */
  keepOutputBytes?: number;
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


export class RunService {
  private readonly queue = new RunQueue();
  private readonly modelIo: ModelIoCache;
  private readonly store: BlobStore;

  private readonly limits: RunLimits;

  constructor(private readonly opts: RunServiceOptions) {
    this.store = opts.store;
    this.limits = {
      defaultTimeoutMs: opts.defaultTimeoutMs ?? RUN_LIMITS.defaultTimeoutMs,
      maxRepeat: opts.maxRepeat ?? RUN_LIMITS.maxRepeat,
      maxTimeoutMs: opts.maxTimeoutMs ?? RUN_LIMITS.maxTimeoutMs,
    };
    this.modelIo = new ModelIoCache(opts.store);
  }

  /** Requests waiting for their turn (the running one not counted). */
  get queueLength(): number {
    return this.queue.waitingCount;
  }

  /**
   * Resolves with the run's result (also for failed, cancelled and input-error runs). Rejects
   * only for a request that cannot be run: UsageError BAD_REQUEST, BAD_HASH, BAD_TENSOR_NAME,
   * BAD_REPEAT, BAD_WARMUP, BAD_TIMEOUT, INPUT_DUPLICATE, INPUT_MISSING, INPUT_UNKNOWN,
   * BLOB_MISSING, OPTION_* (checkRunRequest in shared/run/request.ts).
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
    const timeoutMs = checkWhole('BAD_TIMEOUT', 'timeoutMs', hooks.timeoutMs ?? this.limits.defaultTimeoutMs, 1, this.limits.maxTimeoutMs);
    const unpin = this.store.pin([hash]);
    try {
      await this.requireBlobs({ modelHash: hash, inputs: [] });
      return await this.queue.run(
        async () => this.modelIo.get(hash, await this.store.pathOf(hash), (args, cwd) => this.spawn(args, cwd, timeoutMs, { signal: hooks.signal }), timeoutMs),
        { onPosition: hooks.onQueue, signal: hooks.signal },
      );
    } finally {
      unpin();
    }
  }

  private check(req: RunRequest): RunPlan {
    return checkRunRequest(req, this.limits);
  }

  private async requireBlobs(plan: Pick<RunPlan, 'modelHash' | 'inputs'>): Promise<void> {
    const wanted = [{ what: `model ${plan.modelHash}`, hash: plan.modelHash }, ...plan.inputs.map((input) => ({ what: `input '${input.name}' ${input.hash}`, hash: input.hash }))];
    const held = await Promise.all(wanted.map((blob) => this.store.has(blob.hash)));
    const missing = wanted.filter((_, i) => !held[i]).map((blob) => blob.what);
    if (missing.length > 0) {
      throw new UsageError('BLOB_MISSING', `not on the board: ${missing.join(', ')}`, { hint: 'upload these blobs, then run again' });
    }
  }

  private async execute(plan: RunPlan, hooks: RunHooks): Promise<RunResult> {
    // The model and the inputs are looked up side by side (a stat each); the model's absence is
    // the error reported first, as when they were looked up in turn.
    const [model, ...inputs] = await allInOrder([plan.modelHash, ...plan.inputs.map((input) => input.hash)].map((hash) => this.store.use(hash)));
    const modelPath = model!.path;
    const held = new Map(plan.inputs.map((input, i) => [input.hash, inputs[i]!]));
    let io: ModelIo;
    try {
      io = await this.modelIo.get(plan.modelHash, modelPath, (args, cwd) => this.spawn(args, cwd, plan.timeoutMs, { signal: hooks.signal }), plan.timeoutMs);
    } catch (err) {
      if (err instanceof ModelProbeError) return probeFailedResult(err);
      if (err instanceof AxError && err.code.startsWith('RUN_JOINT_')) return notRun({ code: err.code, message: err.message }, false);
      throw err;
    }
    const ordered = orderInputs(plan.inputs, io);
    const inputPaths = ordered.map((input) => held.get(input.hash)!.path);
    const fed = ordered.map((input) => ({ ...input, size: held.get(input.hash)!.size }));
    const job = await this.store.makeJobDir();
    try {
      const outDir = path.join(job.dir, 'out');
      mkdirSync(outDir);
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
      // Each output is hashed, synced and moved into the store: side by side, as the disk allows.
      let keepLeft = hooks.keepOutputBytes ?? 0;
      const keep = (size: number): boolean => {
        if (size === 0 || size > keepLeft) return false;
        keepLeft -= size;
        return true;
      };
      const stored = await Promise.allSettled(verdict.outputFiles.map((output) => this.store.ingestFile(output.file, keepLeft > 0 ? { keep } : {})));
      stored.forEach((outcome, i) => {
        const output = verdict.outputFiles[i]!;
        if (outcome.status !== 'fulfilled') return;
        const { hash, size, bytes } = outcome.value;
        result.outputs.push({ name: output.name, hash, size, ...(bytes && { bytes }) });
      });
      const failed = stored.findIndex((outcome) => outcome.status === 'rejected');
      if (failed >= 0) {
        const err = (stored[failed] as PromiseRejectedResult).reason as Error;
        result.status = 'failed';
        result.outputs = []; // outputs are all or nothing
        result.problems.push({ code: err instanceof AxError ? err.code : 'OUTPUT_NOT_STORED', message: `output ${verdict.outputFiles[failed]!.name} could not be stored: ${err.message}` });
      }
      return result;
    } finally {
      // The job folder goes while the result is on its way: the host need not wait for an rm -r.
      // One this agent does not live to remove is cleared at its next start (store-folders.ts).
      void job.remove().catch(() => undefined);
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
      // cwd is the run's job folder: an agent started after this one dies finds it there.
      onSpawn: (pid) => recordRun(cwd, pid, this.opts.runJoint),
    });
  }
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
