/**
 * What the host has learned about each model's inputs and outputs, by model hash. A joint
 * file is opaque to the host; only run_joint's listing on the board tells its input names,
 * order and sizes. Every run's listing is kept here, so the next deploy or verify of the same
 * model can map gt files to input names and check their sizes before uploading anything.
 * Kept beside the hash cache (XDG_CACHE_HOME/axctl/model-io.json); a model hash fully
 * determines its I/O, so an entry never goes stale. Losing the file costs nothing but the
 * early checks of one run.
 */
import * as path from 'node:path';
import { readJsonIfExists } from '../../shared/fs/atomic';
import { updateJsonFile } from '../../shared/fs/shared-json';
import type { RunJointLog, RunJointTensor } from '../../shared/parsers/run-joint-log';
import { defaultHashCacheFile } from '../deploy/hash-cache';

export interface ModelIo {
  /** In run_joint's order. */
  inputs: RunJointTensor[];
  outputs: RunJointTensor[];
  maxBatchSize: number | null;
}

interface CacheFile {
  version: number;
  models: Record<string, ModelIo & { seenAt: string }>;
}

const VERSION = 1;
/** Models remembered; the least recently seen are dropped beyond this. */
const MAX_MODELS = 200;

export function defaultModelIoFile(): string {
  return path.join(path.dirname(defaultHashCacheFile()), 'model-io.json');
}

/** The listing of a run, if it is complete enough to rely on (every block has shape and size). */
export function modelIoOf(log: RunJointLog): ModelIo | null {
  const tensors = [...log.inputs, ...log.outputs];
  const complete = log.inputs.length > 0 && log.outputs.length > 0 && tensors.every((t) => t.size !== null && t.shape.length > 0 && t.dtype !== null);
  const inOrder = (list: RunJointTensor[]) => list.every((t, i) => t.index === i);
  if (!complete || !inOrder(log.inputs) || !inOrder(log.outputs)) return null;
  return { inputs: log.inputs, outputs: log.outputs, maxBatchSize: log.maxBatchSize };
}

export class ModelIoStore {
  private data: CacheFile | undefined;

  constructor(private readonly file: string = defaultModelIoFile()) {}

  async get(modelHash: string): Promise<ModelIo | null> {
    const entry = (await this.load()).models[modelHash];
    return entry ? { inputs: entry.inputs, outputs: entry.outputs, maxBatchSize: entry.maxBatchSize } : null;
  }

  /** Remembers `io` for the model; best effort (a read-only cache folder only costs speed). */
  async remember(modelHash: string, io: ModelIo): Promise<void> {
    const entry = { ...io, seenAt: new Date().toISOString() };
    (await this.load()).models[modelHash] = entry;
    // Into the file as other processes left it (a farm verifies several boards at once).
    const add = (current: unknown): CacheFile => {
      const data = cacheOf(current);
      data.models[modelHash] = entry;
      const hashes = Object.keys(data.models);
      if (hashes.length > MAX_MODELS) {
        hashes.sort((a, b) => data.models[a]!.seenAt.localeCompare(data.models[b]!.seenAt));
        for (const old of hashes.slice(0, hashes.length - MAX_MODELS)) delete data.models[old];
      }
      return data;
    };
    await updateJsonFile(this.file, add).catch(() => undefined);
  }

  private async load(): Promise<CacheFile> {
    if (this.data) return this.data;
    this.data = cacheOf(await readJsonIfExists(this.file, null).catch(() => null)); // a damaged cache is rebuilt
    return this.data;
  }
}

/** The cache in a file's content: its well-formed entries, or none. */
function cacheOf(content: unknown): CacheFile {
  const data = content as Partial<CacheFile> | null | undefined;
  const usable = data?.version === VERSION && typeof data.models === 'object' && data.models !== null && !Array.isArray(data.models);
  return { version: VERSION, models: usable ? validEntries(data.models!) : {} };
}

/** The entries of a well-formed shape; a damaged one is dropped (the board lists the model again). */
function validEntries(models: Record<string, unknown>): CacheFile['models'] {
  const valid: CacheFile['models'] = Object.create(null) as CacheFile['models'];
  for (const [hash, entry] of Object.entries(models)) {
    const e = entry as Partial<ModelIo & { seenAt: string }> | null;
    const tensors = (list: unknown) => Array.isArray(list) && list.every(isTensor);
    if (typeof e?.seenAt === 'string' && tensors(e.inputs) && tensors(e.outputs) && (e.maxBatchSize === null || typeof e.maxBatchSize === 'number')) {
      valid[hash] = e as ModelIo & { seenAt: string };
    }
  }
  return valid;
}

function isTensor(value: unknown): boolean {
  const t = value as Partial<RunJointTensor> | null;
  return (
    typeof t?.name === 'string' &&
    typeof t.index === 'number' &&
    Array.isArray(t.shape) &&
    t.shape.every((d) => typeof d === 'number') &&
    (t.size === null || typeof t.size === 'number') &&
    (t.dtype === null || typeof t.dtype === 'string')
  );
}
