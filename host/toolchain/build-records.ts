/**
 * `.axctl/builds.json`: what each `axctl build` produced, so `axctl sim` can tell the
 * output_config a build wrote from any other config (the guide's step 3.1) and every later
 * report can name the toolchain a joint came from. Files are identified by sha256; paths are
 * kept absolute. The file is rewritten atomically, under a lock file so that builds finishing
 * at once all get recorded, and keeps the newest MAX_RECORDS builds.
 */
import * as path from 'node:path';
import { BadFileError, fileSystemError, isAxError } from '../../shared/errors';
import { readJsonIfExists } from '../../shared/fs/atomic';
import { LockTimeoutError } from '../../shared/fs/lock-file';
import { rewriteJsonFile } from '../../shared/fs/shared-json';
import type { ToolchainVersion } from './version';

export const BUILD_RECORDS_FILE = path.join('.axctl', 'builds.json');
const MAX_RECORDS = 100;

export interface FileRecord {
  /** Absolute path at the time of the build. */
  readonly path: string;
  readonly sha256: string;
}

export interface BuildRecord {
  /** ISO 8601 time the build finished. */
  readonly createdAt: string;
  readonly onnx: FileRecord;
  /** The config pulsar build read (`--config`). */
  readonly config: FileRecord;
  /** The config pulsar build wrote (`--output_config`): the one pulsar run must get. */
  readonly outputConfig: FileRecord;
  readonly joint: FileRecord;
  /** The quantized intermediate model, when the build left one. */
  readonly lavaJoint: FileRecord | null;
  readonly targetHardware: string | null;
  readonly toolchain: ToolchainVersion;
  /** The pulsar command template used. */
  readonly pulsar: string;
}

interface RecordsFile {
  version: 1;
  builds: BuildRecord[];
}

export function buildRecordsPath(stateDir: string): string {
  return path.resolve(stateDir, BUILD_RECORDS_FILE);
}

export async function readBuildRecords(file: string): Promise<BuildRecord[]> {
  let data: Partial<RecordsFile> | null;
  try {
    data = (await readJsonIfExists(file, { version: 1, builds: [] })) as Partial<RecordsFile> | null;
  } catch (err) {
    if (isAxError(err)) throw err; // unreadable, or not a regular file: that error names it
    throw new BadFileError('BUILD_RECORDS_CORRUPT', file, `cannot be read (${(err as Error).message})`, {
      hint: 'delete it; the next axctl build writes a new one',
    });
  }
  if (typeof data !== 'object' || data === null || !Array.isArray(data.builds)) {
    throw new BadFileError('BUILD_RECORDS_CORRUPT', file, 'is not an axctl build record file', { hint: 'delete it; the next axctl build writes a new one' });
  }
  // A hand-edited entry would otherwise surface later as a TypeError deep inside sim or diagnose.
  data.builds.forEach((entry: unknown, index) => {
    const problem = buildRecordProblem(entry);
    if (problem) {
      throw new BadFileError('BUILD_RECORDS_CORRUPT', file, `has a damaged build record (builds[${index}]: ${problem})`, {
        hint: 'delete that entry or the whole file; the next axctl build writes it again',
      });
    }
  });
  return data.builds;
}

/** What is wrong with one entry of the builds array; null if it is a BuildRecord. */
function buildRecordProblem(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not an object';
  const r = entry as Record<string, unknown>;
  for (const key of ['onnx', 'config', 'outputConfig', 'joint', 'lavaJoint'] as const) {
    if (key === 'lavaJoint' && r[key] === null) continue;
    const f = r[key] as Record<string, unknown> | null | undefined;
    if (typeof f !== 'object' || f === null || typeof f.path !== 'string' || typeof f.sha256 !== 'string') return `${key} needs a path and a sha256`;
  }
  for (const key of ['createdAt', 'pulsar'] as const) if (typeof r[key] !== 'string') return `${key} must be a string`;
  if (r.targetHardware !== null && typeof r.targetHardware !== 'string') return 'targetHardware must be a string or null';
  const t = r.toolchain as Record<string, unknown> | null | undefined;
  if (typeof t !== 'object' || t === null || typeof t.raw !== 'string') return 'toolchain needs its version text (raw)';
  for (const key of ['version', 'commit'] as const) if (t[key] !== null && typeof t[key] !== 'string') return `toolchain.${key} must be a string or null`;
  return null;
}

/** How long a build waits for another one to finish writing its record (that takes milliseconds). */
export const RECORD_LOCK_TIMEOUT_MS = 10_000;

/**
 * Adds a record; an older record for the same joint path is replaced. The read-modify-write
 * holds `<file>.lock`: two builds finishing at once would otherwise both read the old list and
 * the second write would drop the first build's record.
 */
export async function addBuildRecord(file: string, record: BuildRecord, lockTimeoutMs = RECORD_LOCK_TIMEOUT_MS): Promise<void> {
  const lockFile = `${file}.lock`;
  try {
    await rewriteJsonFile(file, async () => {
      const builds = (await readBuildRecords(file)).filter((b) => b.joint.path !== record.joint.path);
      builds.push(record);
      return { version: 1, builds: builds.slice(-MAX_RECORDS) } satisfies RecordsFile;
    }, lockTimeoutMs);
  } catch (err) {
    if (err instanceof LockTimeoutError) {
      const owner = err.ownerPid !== null ? ` by process ${err.ownerPid}` : '';
      throw new BadFileError('BUILD_RECORDS_LOCKED', file, `the build finished but was not recorded: ${lockFile} stayed locked${owner} for ${Math.round(err.waitedMs / 1000)} s`, {
        hint: `if no other axctl build is running, delete ${lockFile} and run the build again`,
      });
    }
    if (isAxError(err)) throw err;
    throw fileSystemError(file, err);
  }
}

/**
 * Every build whose joint or lava_joint has this sha256, newest first. Builds are
 * deterministic, so the same model built into two folders gives two records of one joint.
 */
export function findBuildsOfModel(records: readonly BuildRecord[], sha256: string): BuildRecord[] {
  return records.filter((r) => r.joint.sha256 === sha256 || r.lavaJoint?.sha256 === sha256).reverse();
}

/** The newest build whose joint or lava_joint has this sha256. */
export function findBuildOfModel(records: readonly BuildRecord[], sha256: string): BuildRecord | undefined {
  return findBuildsOfModel(records, sha256)[0];
}
