/**
 * The board's part of verify: make sure the model and gt inputs are there (uploading only
 * what is missing, so a model changed since deploy is sent again), run them, and fetch the
 * outputs. The host cannot read a joint file, so before a model's first run (no listing in
 * the host's cache) it asks the board to describe the model and maps the gt files to the
 * model's own input names; a board that cannot describe (an older agent) gets the gt file
 * names, which fit every model whose input names hold no '/'.
 */
import * as path from 'node:path';
import { UsageError } from '../../shared/errors';
import type { GtFolder } from '../../shared/parsers/gt-folder';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import { DescribeUnsupportedError, ModelProbeFailedError, type BoardSession, type ModelDescriptionResult, type RunResult } from '../board/session';
import { runJointProblemIn, runJointProblemOf, withRunJointHints } from '../board/run-joint-missing';
import type { RunProblem } from '../../shared/run/classify';
import { ensureOnBoard, storeShareText } from '../deploy/ensure';
import { planInputs, type InputPlan } from '../deploy/gt-inputs';
import type { HashCache } from '../deploy/hash-cache';
import { hashPlannedInputs, type HashedInput } from '../deploy/prepare';
import { queueNote, type Progress } from '../deploy/progress';
import type { FileRecord } from '../state/axctl-state';
import { makeFolder } from '../../shared/fs/atomic';

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
  /** Told when uploads start (true) and end (false): Ctrl-C stops those at once (they resume). */
  onTransfer?: (active: boolean) => void;
  /** Told each time the run has been asked for (local work can then go on beside it). */
  onRunAsked?: () => void;
}

export interface BoardRun {
  result: RunResult;
  /** The plan the run was made with (re-mapped when the board described the model). */
  plan: InputPlan;
  inputs: HashedInput[];
  /** Queue positions the agent reported while the run (or the description) waited. */
  queuePositions: number[];
  /** The model's listing as the board described it; null when it was known or not asked. */
  described: ModelDescriptionResult | null;
}

export async function runOnBoard(session: BoardSession, req: BoardRunRequest): Promise<BoardRun> {
  let { plan, inputs } = req;
  // The agent's run_joint is gone (the handshake said so): nothing can run, so nothing is sent;
  // the run that never started is the verdict's evidence (run-failed), its report says what to do.
  const broken = runJointProblemOf(session.identity);
  if (broken) return { result: notStarted(broken), plan, inputs, queuePositions: [], described: null };
  const queuePositions: number[] = [];
  const onQueue = (position: number) => {
    queuePositions.push(position);
    req.progress.note(queueNote(position, 'running on the board'));
  };
  let described: ModelDescriptionResult | null = null;
  // With the model's listing known, the run is asked for at once: after a deploy its blobs are
  // on the board, and the board's BLOB_MISSING (checked before anything runs) says when they
  // are not. That saves a has() round trip per verify — one network round trip each on a board
  // behind a gateway. A first run of a model still describes it first, as its plan needs that.
  let sent = false;
  if (!plan.namesKnown && session.describeModel) {
    await upload(session, req.model, [], req);
    try {
      described = await describe(session, req, onQueue);
    } catch (err) {
      // The model failed run_joint while the board read it: that run is the verdict's evidence.
      if (err instanceof ModelProbeFailedError) return { result: err.result, plan, inputs, queuePositions, described };
      // run_joint went missing since the handshake: as when the handshake says so.
      const missing = runJointProblemIn(err, session.identity, session.reinstall);
      if (missing) return { result: notStarted(missing), plan, inputs, queuePositions, described };
      // Ctrl-C while the board reads the model: reported like a cancelled run.
      if (req.signal?.aborted) return { result: { ...notRun(), status: 'failed', cancelled: true }, plan, inputs, queuePositions, described };
      throw err;
    }
    if (described) {
      plan = await planInputs(req.gt, { names: described.inputs.map((t) => t.name), tensors: described.inputs, maxBatchSize: described.maxBatchSize });
      inputs = await hashPlannedInputs(plan, req.hashes);
      // As with a listing known beforehand: only an input without a file keeps the run from the board.
      if (plan.problems.some((p) => p.code === 'GT_INPUT_MISSING')) return { result: notRun(), plan, inputs, queuePositions, described };
    }
    await upload(session, null, inputs, req);
    sent = true;
  }
  const run = () => {
    req.progress.note('running run_joint on the board');
    const asked = session.run(
      {
        modelHash: req.model.hash,
        inputs: inputs.map((i) => ({ name: i.name, hash: i.hash })),
        ...(req.repeat !== undefined && { repeat: req.repeat }),
        ...(req.warmup !== undefined && { warmup: req.warmup }),
        ...(req.timeoutMs !== undefined && { timeoutMs: req.timeoutMs }),
      },
      { ...(req.signal && { signal: req.signal }), onQueue },
    );
    req.onRunAsked?.();
    return asked;
  };
  let result: RunResult | undefined;
  let resent = false;
  while (result === undefined) {
    try {
      // A run_joint removed since the handshake fails the run: its problem gets what to do.
      result = withRunJointHints(await run(), session.identity, session.reinstall);
    } catch (err) {
      if ((err as { code?: string }).code !== 'BLOB_MISSING') throw err;
      if (resent) {
        // They fit the cap (ensureOnBoard checked): the rest of it goes to other hosts' blobs.
        const share = storeShareText(session, [...(req.model ? [req.model] : []), ...inputs]);
        throw new UsageError('BLOB_MISSING', `${(err as Error).message}, again after sending it once more: the board's store keeps evicting this run's model or inputs (${share}; other hosts' uploads need the rest)`, {
          hint: "the agent's store cap is too small for what its hosts use at once: raise it (axagent --store-cap) or spread the models over more boards",
        });
      }
      // Another host's uploads made room on a shared board by evicting one of ours between the
      // upload and the run (a farm's boards under a store cap): send what is missing once more.
      if (sent) {
        req.progress.note('the board dropped a blob of this run meanwhile (store cap); sending it again');
        resent = true;
      }
      await upload(session, req.model, inputs, req);
      sent = true;
    }
  }
  return { result, plan, inputs, queuePositions, described };
}

/** The board's description of the model, or null when the board cannot give one. */
async function describe(session: BoardSession, req: BoardRunRequest, onQueue: (position: number) => void): Promise<ModelDescriptionResult | null> {
  req.progress.note("running run_joint on the board to list the model's inputs and outputs");
  try {
    return await session.describeModel!(req.model.hash, {
      onQueue,
      ...(req.signal && { signal: req.signal }),
      ...(req.timeoutMs !== undefined && { runTimeoutMs: req.timeoutMs }),
    });
  } catch (err) {
    if (err instanceof DescribeUnsupportedError) return null;
    throw err;
  }
}

/** Fetches `outputs` of a run into `dir` as <name with '/' → '_'>.bin. */
export async function fetchOutputs(session: BoardSession, outputs: RunResult['outputs'], dir: string): Promise<Map<string, string>> {
  await makeFolder(dir);
  const files = new Map<string, string>();
  for (const out of outputs) {
    const file = path.join(dir, `${tensorFileName(out.name)}.bin`);
    await session.download(out.hash, out.size, file);
    files.set(out.name, file);
  }
  return files;
}

async function upload(session: BoardSession, model: FileRecord | null, inputs: HashedInput[], req: Pick<BoardRunRequest, 'progress' | 'onTransfer'>): Promise<void> {
  req.onTransfer?.(true);
  try {
    await ensureOnBoard(
      session,
      [...(model ? [{ label: 'model', ...model }] : []), ...inputs.map((i) => ({ label: i.name, path: i.file, hash: i.hash, size: i.size }))],
      req.progress,
    );
  } finally {
    req.onTransfer?.(false);
  }
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

/** The result of a run that could not start on the board (its run_joint is gone): a failed run with `problem`. */
export function notStarted(problem: RunProblem): RunResult {
  return { ...notRun(), status: 'failed', problems: [problem] };
}

function emptyLog(): RunResult['parsed'] {
  return {
    runJointVersion: null, toolsVersion: null, toolsCommit: null, npuMode: null, wbt: null, maxBatchSize: null, dynamicBatch: null,
    filterMode: null, quantization: null, inputs: [], outputs: [], batchSize: null, fallbacks: [], dumps: [], cmmUsage: null,
    createHandle: null, run: null, components: [], npuPerf: null, assertions: [], errors: [], problems: [], unrecognized: [],
  };
}
