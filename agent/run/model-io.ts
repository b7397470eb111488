/**
 * The store's memory of each model's inputs and outputs (what they are and why a probe run
 * learns them: shared/run/model-io.ts). A model hash fully determines its I/O, so the answer is
 * kept per hash, in memory and in <store>/model-io.json.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { looksLikeModelIo, modelIoFromProbe, probeArgs, type ModelIo } from '../../shared/run/model-io';
import type { BlobStore } from '../store/blob-store';
import { writeFileAtomic } from '../store/disk';
import type { RunnerOutcome } from './runner';

/** Runs run_joint with `args` in the folder `cwd` (the caller adds timeout, env, cancel). */
export type ProbeRun = (args: string[], cwd: string) => Promise<RunnerOutcome>;

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

  /** `timeoutMs`: the limit `run` stops the probe at, for its RUN_TIMEOUT message. */
  async get(modelHash: string, modelPath: string, run: ProbeRun, timeoutMs: number): Promise<ModelIo> {
    await (this.loaded ??= this.load());
    const cached = this.known.get(modelHash);
    if (cached) return cached;
    const io = await this.probe(modelPath, run, timeoutMs);
    this.known.set(modelHash, io);
    await this.save();
    return io;
  }

  private async probe(modelPath: string, run: ProbeRun, timeoutMs: number): Promise<ModelIo> {
    const job = await this.store.makeJobDir();
    let outcome: RunnerOutcome;
    try {
      outcome = await run(probeArgs(modelPath), job.dir);
    } finally {
      await job.remove();
    }
    return modelIoFromProbe(outcome, timeoutMs);
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
        if (looksLikeModelIo(io)) this.known.set(hash, io);
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
