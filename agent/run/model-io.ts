/**
 * A model's inputs and outputs, in run_joint's order. `--data` takes files in input order, not
 * by name, so the agent must know that order before it can feed a request's named inputs.
 * run_joint prints the listing itself; a probe run (`run_joint MODEL --repeat 1`, no --data)
 * gets it: run_joint then feeds random data, which is fine for a probe. A model hash fully
 * determines its I/O, so the answer is kept per hash, in memory and in <store>/model-io.json.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RunFailedError } from '../../shared/errors';
import { parseRunJointLog, type RunJointTensor } from '../../shared/parsers/run-joint-log';
import type { BlobStore } from '../store/blob-store';
import { writeFileAtomic } from '../store/disk';
import type { RunnerOutcome } from './runner';

export interface ModelIo {
  /** In run_joint's order (index i is input[i]). */
  inputs: RunJointTensor[];
  outputs: RunJointTensor[];
  /** `Max Batch Size`: the batch run_joint dumps outputs for unless overridden. */
  maxBatchSize: number | null;
  dynamicBatch: boolean | null;
}

/** Runs run_joint with `args` in the folder `cwd` (the caller adds timeout, env, cancel). */
export type ProbeRun = (args: string[], cwd: string) => Promise<RunnerOutcome>;

/** A probe that did not yield a listing; `outcome` holds what run_joint printed. */
export class ModelProbeError extends RunFailedError {
  constructor(code: 'MODEL_PROBE_FAILED' | 'RUN_CANCELLED' | 'RUN_TIMEOUT', message: string, readonly outcome: RunnerOutcome) {
    super(code, message, { hint: code === 'MODEL_PROBE_FAILED' ? 'check that the model is a joint file built for this board' : undefined });
  }
}

const CACHE_FILE = 'model-io.json';
const CACHE_VERSION = 1;

export class ModelIoCache {
  private readonly known = new Map<string, ModelIo>();
  private readonly file: string;
  private loaded: Promise<void> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly store: BlobStore) {
    this.file = path.join(store.dir, CACHE_FILE);
  }

  async get(modelHash: string, modelPath: string, run: ProbeRun): Promise<ModelIo> {
    await (this.loaded ??= this.load());
    const cached = this.known.get(modelHash);
    if (cached) return cached;
    const io = await this.probe(modelPath, run);
    this.known.set(modelHash, io);
    await this.save();
    return io;
  }

  private async probe(modelPath: string, run: ProbeRun): Promise<ModelIo> {
    const job = await this.store.makeJobDir();
    let outcome: RunnerOutcome;
    try {
      outcome = await run([modelPath, '--repeat', '1'], job.dir);
    } finally {
      await job.remove();
    }
    if (outcome.cancelled) throw new ModelProbeError('RUN_CANCELLED', 'the run was cancelled while reading the model\'s inputs and outputs', outcome);
    if (outcome.timedOut) throw new ModelProbeError('RUN_TIMEOUT', `run_joint did not finish listing the model's inputs and outputs within ${outcome.durationMs} ms`, outcome);
    const log = parseRunJointLog(outcome.stdout);
    const incomplete = [...log.inputs, ...log.outputs].find((t) => t.size === null || t.shape.length === 0);
    const listed = log.inputs.length > 0 && log.outputs.length > 0 && !incomplete && inOrder(log.inputs) && inOrder(log.outputs);
    if (!listed) {
      const why = log.assertions[0] ?? log.errors[0] ?? lastLine(outcome.stderr) ?? `exit ${outcome.exitCode ?? outcome.signal}`;
      throw new ModelProbeError('MODEL_PROBE_FAILED', `run_joint did not list the model's inputs and outputs: ${why}`, outcome);
    }
    return { inputs: log.inputs, outputs: log.outputs, maxBatchSize: log.maxBatchSize, dynamicBatch: log.dynamicBatch };
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch {
      return; // no cache yet: probes will fill it
    }
    try {
      const data = JSON.parse(text) as { version?: number; models?: Record<string, ModelIo> };
      if (data.version !== CACHE_VERSION || typeof data.models !== 'object' || data.models === null) return;
      for (const [hash, io] of Object.entries(data.models)) {
        if (Array.isArray(io?.inputs) && Array.isArray(io?.outputs)) this.known.set(hash, io);
      }
    } catch {
      // A damaged cache costs one probe per model, nothing more.
    }
  }

  /** Writes the cache, dropping models no longer in the store. Writes never overlap. */
  private save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const models: Record<string, ModelIo> = {};
      for (const [hash, io] of this.known) {
        if (await this.store.has(hash)) models[hash] = io;
        else this.known.delete(hash);
      }
      // Best effort: the cache only saves probes; a failed write must not fail the run.
      await writeFileAtomic(this.file, JSON.stringify({ version: CACHE_VERSION, models })).catch(() => undefined);
    });
    return this.saving;
  }
}

function inOrder(tensors: RunJointTensor[]): boolean {
  return tensors.every((t, i) => t.index === i);
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}
