/**
 * The board's part of verify: make sure the model and gt inputs are there (uploading only
 * what is missing, so a model changed since deploy is sent again), run them, and fetch the
 * outputs. On a model's first run the host may not know its input names; the agent's refusal
 * then lists them, the gt files are mapped again and the run is retried once.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { GtFolder } from '../../shared/parsers/gt-folder';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import type { BoardSession, RunResult } from '../board/session';
import { ensureOnBoard, type BlobOutcome } from '../deploy/ensure';
import { planInputs, type InputPlan } from '../deploy/gt-inputs';
import type { HashCache } from '../deploy/hash-cache';
import type { HashedInput } from '../deploy/prepare';
import type { Progress } from '../deploy/progress';
import type { FileRecord } from '../state/axctl-state';
import { inputNamesFromRefusal } from './input-names';

export interface BoardRunRequest {
  model: FileRecord;
  gt: GtFolder;
  plan: InputPlan;
  inputs: HashedInput[];
  repeat?: number;
  warmup?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  progress: Progress;
  hashes: HashCache;
}

export interface BoardRun {
  result: RunResult;
  /** The plan the run was made with (re-mapped if names were learnt). */
  plan: InputPlan;
  inputs: HashedInput[];
  uploads: BlobOutcome[];
  /** Queue positions the agent reported while the run waited. */
  queuePositions: number[];
}

export async function runOnBoard(session: BoardSession, req: BoardRunRequest): Promise<BoardRun> {
  let { plan, inputs } = req;
  const uploads = await upload(session, req.model, inputs, req.progress);
  const queuePositions: number[] = [];
  const run = () =>
    session.run(
      {
        modelHash: req.model.hash,
        inputs: inputs.map((i) => ({ name: i.name, hash: i.hash })),
        ...(req.repeat !== undefined && { repeat: req.repeat }),
        ...(req.warmup !== undefined && { warmup: req.warmup }),
        ...(req.timeoutMs !== undefined && { timeoutMs: req.timeoutMs }),
      },
      {
        ...(req.signal && { signal: req.signal }),
        onQueue: (position) => {
          queuePositions.push(position);
          req.progress.note(position > 0 ? `queued on the board: ${position} run${position === 1 ? '' : 's'} ahead` : 'running on the board');
        },
      },
    );
  req.progress.note('running run_joint on the board');
  let result: RunResult;
  try {
    result = await run();
  } catch (err) {
    const names = plan.namesKnown ? null : inputNamesFromRefusal(err);
    if (!names) throw err;
    plan = await planInputs(req.gt, { names });
    inputs = await hashInputs(plan, req.hashes);
    if (plan.problems.length > 0) return { result: notRun(), plan, inputs, uploads, queuePositions };
    uploads.push(...(await upload(session, null, inputs, req.progress)));
    result = await run();
  }
  return { result, plan, inputs, uploads, queuePositions };
}

/** Fetches every output of an ok run into `dir` as <name with '/' → '_'>.bin. */
export async function fetchOutputs(session: BoardSession, result: RunResult, dir: string): Promise<Map<string, string>> {
  await fsp.mkdir(dir, { recursive: true });
  const files = new Map<string, string>();
  for (const out of result.outputs) {
    const file = path.join(dir, `${tensorFileName(out.name)}.bin`);
    await session.download(out.hash, out.size, file);
    files.set(out.name, file);
  }
  return files;
}

async function upload(session: BoardSession, model: FileRecord | null, inputs: HashedInput[], progress: Progress): Promise<BlobOutcome[]> {
  return ensureOnBoard(
    session,
    [...(model ? [{ label: 'model', ...model }] : []), ...inputs.map((i) => ({ label: i.name, path: i.file, hash: i.hash, size: i.size }))],
    progress,
  );
}

async function hashInputs(plan: InputPlan, hashes: HashCache): Promise<HashedInput[]> {
  const out: HashedInput[] = [];
  for (const input of plan.inputs) out.push({ ...input, hash: (await hashes.digest(input.file)).hash });
  await hashes.save();
  return out;
}

/** The result of a run that was never started (a gt input is missing). */
export function notRun(): RunResult {
  return {
    status: 'input-error',
    exitCode: null,
    signal: null,
    timedOut: false,
    cancelled: false,
    log: '',
    stderr: '',
    parsed: emptyLog(),
    outputs: [],
    problems: [],
    durationMs: 0,
  };
}

function emptyLog(): RunResult['parsed'] {
  return {
    runJointVersion: null, toolsVersion: null, toolsCommit: null, npuMode: null, wbt: null, maxBatchSize: null, dynamicBatch: null,
    filterMode: null, quantization: null, inputs: [], outputs: [], batchSize: null, fallbacks: [], dumps: [], cmmUsage: null,
    createHandle: null, run: null, components: [], npuPerf: null, assertions: [], errors: [], problems: [], unrecognized: [],
  };
}
