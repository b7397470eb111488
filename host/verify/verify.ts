/**
 * `axctl verify`: run the gt inputs on the board and judge its outputs against the simulator.
 *
 *   local checks (gt folder, input sizes when the model's listing is known), hashes
 *   → connect → upload what the board lacks → (a model's first run: the board describes it)
 *   → run → fetch outputs
 *   → compare with gt/joint (board stage) and gt/onnx with gt/joint (compile stage)
 *   → one verdict with its evidence and advice (report.ts)
 *
 * Every network wait is bounded (connect and request timeouts, run_joint's own time limit);
 * aborting `signal` (Ctrl-C) cancels the run on the board, or closes the connection during a
 * transfer.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadFileError, fileWriteError, isAxError, writeProblem, type AxError } from '../../shared/errors';
import { findGtFile, type GtFile, type GtFolder } from '../../shared/parsers/gt-folder';
import { openBoard, type OpenBoardOptions } from '../board/open-board';
import type { BoardIdentity, BoardSession, RunResult } from '../board/session';
import { closeQuietly, withAbort } from '../board/lifecycle';
import { planInputs, type InputPlan, type InputProblem } from '../deploy/gt-inputs';
import { HashCache } from '../deploy/hash-cache';
import { prepare, type HashedInput } from '../deploy/prepare';
import type { Progress } from '../deploy/progress';
import type { OutputComparison, VerifyReport } from '../report/model';
import { readState, STATE_DIR, stateFile, writeState, type FileRecord } from '../state/axctl-state';
import { sameBoard } from '../boards/inventory';
import { modelIoOf, ModelIoStore, type ModelIo } from '../state/model-io';
import { fetchOutputs, notRun, notStarted, runOnBoard } from './board-run';
import { newerThanReference } from './gt-age';
import { runJointProblemIn } from '../board/run-joint-missing';
import { compareBoardOutput } from './compare-output';
import { compareCompileStage } from './compile-stage';
import { GtTensors } from './tensors';
import { VERDICT_EXIT } from './exit-codes';
import { buildReport } from './report';
import { moveOutputsInto, prepareOutputFolder } from './save-outputs';

/** Fields an opener adds to OpenBoardOptions (e.g. host/ssh's `ssh`, `agentless`) pass through to openBoard as given. */
export interface VerifyOptions extends Omit<OpenBoardOptions, 'cwd'> {
  model: string;
  gt: string;
  /** The project folder (.axctl/). */
  cwd: string;
  /** Timed inferences (run_joint --repeat; the agent's default is 1). */
  repeat?: number;
  warmup?: number;
  /** run_joint's time limit on the board; default the agent's. */
  timeoutMs?: number;
  /** Keep the board's outputs in this folder (<name>.bin); default: a temporary folder. */
  saveOutputs?: string;
  progress: Progress;
  hashes?: HashCache;
  ioStore?: ModelIoStore;
  /** Ctrl-C: cancels the run on the board. */
  signal?: AbortSignal;
  /**
   * Told once the local checks passed and the board was reached (its session open): an error
   * from then on is the board's or the link's, or found with its outputs, not a mistake of the
   * job's that no board would change (the CLI writes --junit for those).
   */
  onBoardReached?: () => void;
}

export interface VerifyOutcome {
  report: VerifyReport;
  /** The run was cancelled by `signal`. */
  interrupted: boolean;
  /** Queue positions the board reported while the run waited (empty: it ran at once). */
  queuePositions: number[];
  /** run_joint's own time on the board (ms), for overhead measurements. */
  runJointMs: number;
  /** Where the time went (ms): local checks and hashes, connecting, uploads + the run request, fetching and comparing outputs, the rest. */
  phases: { local: number; connect: number; board: number; outputs: number; report: number };
  /** Why --save-outputs could not keep the outputs (the verdict stands; the CLI exits 2 after printing it). */
  saveOutputsError?: AxError;
  /** Why the verdict is not in the folder's deploy record (one line; the verdict and exit code stand). */
  notRecorded?: string;
}

/** How long a cancelled run may take to report back before the connection is cut. */
const CANCEL_GRACE_MS = 5000;

export async function verify(opts: VerifyOptions): Promise<VerifyOutcome> {
  const startedAt = new Date();
  const phases = { local: 0, connect: 0, board: 0, outputs: 0, report: 0 };
  let lapStart = performance.now();
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] += now - lapStart;
    lapStart = now;
  };
  const hashes = opts.hashes ?? new HashCache();
  const ioStore = opts.ioStore ?? new ModelIoStore();
  // Local checks first: a bad local file (exit 2) is reported without touching the network.
  const prepared = await prepare(opts.model, opts.gt, { hashes, ioStore, progress: opts.progress });
  if (opts.saveOutputs) await prepareOutputFolder(opts.saveOutputs);
  const { gt, model } = prepared;
  // An input with no file, or (with the model's listing known) of the wrong size, is an
  // input-error found here: nothing is sent to the board and nothing runs there.
  const knownInputError = prepared.plan.problems.some((p) => p.code === 'GT_INPUT_MISSING' || (prepared.io !== null && p.code === 'GT_INPUT_SIZE'));
  // The compile stage (local files only) is compared once. With the model's listing known it runs
  // beside the board run: started once the run is asked for, not before, as its few ms on this
  // thread would hold up the connection's handshake messages. gt/joint is read once for both stages.
  const gtTensors = new GtTensors();
  let compileStage: ReturnType<typeof compareCompileStage> | undefined;
  const compileWith = (outputs: ModelIo['outputs']) => (compileStage ??= compareCompileStage(gt, outputs, gtTensors));
  const startCompile = () => {
    if (prepared.io) compileWith(prepared.io.outputs).catch(() => undefined);
  };
  lap('local');

  let board: BoardIdentity | { url: string } = { url: opts.board };
  let result: RunResult = notRun();
  let plan = prepared.plan;
  let inputs: HashedInput[] = prepared.inputs;
  let outputs: OutputComparison[] = [];
  let queuePositions: number[] = [];
  let described: ModelIo | null = null;
  let saveOutputsError: AxError | undefined;
  // The board is let go while the report is built (a WebSocket close takes a round trip or
  // two); verify returns once it is gone, so nothing is left open behind it.
  let closing: Promise<void> = Promise.resolve();
  const session = knownInputError ? null : await withAbort(opts.signal, () => openBoard({ ...opts, cwd: opts.cwd })).catch((err: unknown) => {
    // An agent of an earlier release that refuses to start without its run_joint (ssh://):
    // reached, but nothing can run there; a failed run, as when today's agent says so.
    const missing = runJointProblemIn(err);
    if (!missing) throw err;
    result = notStarted(missing);
    return null;
  });
  if (session) {
    opts.onBoardReached?.();
    board = session.identity;
    lap('connect');
    const stopOnAbort = guardAbort(session, opts.signal);
    try {
      const run = await runOnBoard(session, { model, gt, plan, inputs, repeat: opts.repeat, warmup: opts.warmup, timeoutMs: opts.timeoutMs, signal: opts.signal, progress: opts.progress, hashes, onTransfer: stopOnAbort.transferring, onRunAsked: startCompile });
      ({ result, plan, inputs, queuePositions, described } = run);
      stopOnAbort.runOver();
      lap('board');
      // A failed run's outputs that run_joint did dump whole are compared too: evidence beside
      // RUN FAILED, and kept by --save-outputs. Only as far as it goes: a link that drops now
      // (an NPU fault often takes the board down) must not cost that verdict and its log.
      const compared = result.status === 'ok' || (result.status === 'failed' && result.outputs.length > 0);
      if (compared && !opts.signal?.aborted) {
        try {
          ({ outputs, saveOutputsError } = await fetchAndCompare(session, result, gt, prepared.io ?? described, opts.saveOutputs, gtTensors));
        } catch (err) {
          if (result.status === 'ok') throw err;
          result = { ...result, problems: [...result.problems, { code: 'OUTPUTS_NOT_COMPARED', message: `the outputs it dumped could not be compared: ${(err as Error).message}` }] };
        }
      }
      lap('outputs');
    } finally {
      stopOnAbort.dispose();
      closing = closeQuietly(session);
    }
  }
  // The folder's deploy record is read while the report is built (it is updated at the end).
  const recorded = readState(opts.cwd);
  recorded.catch(() => undefined);
  try {
    const io = modelIoOf(result.parsed) ?? prepared.io ?? described;
    if (io && !prepared.io) await ioStore.remember(model.hash, io);
    const problems = await localProblems(gt, plan, io, prepared.io ?? described);
    const compile = await compileWith(io?.outputs ?? []);
    const newerThanGt = outputs.some((o) => !o.pass) ? await newerThanReference(model.path, gt) : null;
    const report = buildReport({
      board,
      model: { path: displayPath(opts.cwd, model.path), hash: model.hash },
      gt: { path: displayPath(opts.cwd, gt.dir), layout: gt.layout },
      result,
      io,
      plan,
      problems,
      outputs,
      compile,
      timeoutMs: opts.timeoutMs ?? null,
      ...(opts.repeat !== undefined && { repeat: opts.repeat }),
      ...(opts.warmup !== undefined && { warmup: opts.warmup }),
      startedAt,
      newerThanGt,
    });
    const interrupted = result.cancelled || opts.signal?.aborted === true;
    // A run the user interrupted says nothing about the board: the last verdict stays as it was.
    const notRecorded = interrupted ? undefined : await recordVerdict(opts, recorded, report, model, gt.dir, inputs);
    lap('report');
    return { report, interrupted, queuePositions, runJointMs: result.durationMs, phases, ...(saveOutputsError && { saveOutputsError }), ...(notRecorded && { notRecorded }) };
  } finally {
    await closing;
  }
}

/**
 * Ctrl-C during a transfer closes the connection; during the run the client cancels it (the
 * signal is passed to run) and the result follows — unless the board does not answer within
 * a grace period, then the connection is closed too.
 */
function guardAbort(session: BoardSession, signal: AbortSignal | undefined): { transferring(active: boolean): void; runOver(): void; dispose(): void } {
  let running = true;
  let transfer = false;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    // An upload has nothing on the board to cancel and resumes next time: stop it now.
    if (!running || transfer) void session.close();
    else timer = setTimeout(() => void session.close(), CANCEL_GRACE_MS);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    transferring: (active: boolean) => {
      transfer = active;
      if (active && signal?.aborted) void session.close();
    },
    runOver: () => {
      running = false;
      clearTimeout(timer);
    },
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

async function fetchAndCompare(
  session: BoardSession,
  result: RunResult,
  gt: GtFolder,
  known: ModelIo | null,
  saveTo: string | undefined,
  gtTensors: GtTensors,
): Promise<{ outputs: OutputComparison[]; saveOutputsError?: AxError }> {
  // Outputs that came back with the result are compared from memory: no temporary folder, no
  // file written and read back. --save-outputs wants files, so then everything goes to files.
  const held = new Map<string, Uint8Array>();
  if (!saveTo) {
    for (const out of result.outputs) {
      const bytes = session.heldOutput?.(out.hash, out.size);
      if (bytes) held.set(out.name, bytes);
    }
  }
  const toFetch = result.outputs.filter((out) => !held.has(out.name));
  const dir = toFetch.length === 0 ? null : await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-verify-')).catch((err: unknown) => {
    // The temporary folder comes from TMPDIR: the user's setting, so a user error.
    throw new BadFileError(fileWriteError(os.tmpdir(), err).code, os.tmpdir(), `cannot hold the board's outputs while they are compared: ${writeProblem(err).problem}`, {
      hint: 'set TMPDIR to a folder you can write to',
      cause: err,
    });
  });
  try {
    const files = dir ? await fetchOutputs(session, toFetch, dir) : new Map<string, string>();
    const listing = result.parsed.outputs.length > 0 ? result.parsed.outputs : (known?.outputs ?? []);
    const comparisons: OutputComparison[] = [];
    for (const out of result.outputs) {
      const gtFile = gtOutputFile(gt, out.name, result.outputs.length);
      const bytes = held.get(out.name);
      const dump = bytes ? { dumpFile: `the board's output '${out.name}'`, dumpBytes: bytes } : { dumpFile: files.get(out.name)! };
      comparisons.push(await compareBoardOutput({ name: out.name, tensor: listing.find((t) => t.name === out.name) ?? null, ...dump }, gtFile, gtTensors));
    }
    if (!saveTo) return { outputs: comparisons };
    try {
      await moveOutputsInto(saveTo, files);
      return { outputs: comparisons };
    } catch (err) {
      return { outputs: comparisons, saveOutputsError: fileWriteError(saveTo, err) };
    }
  } finally {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** gt/joint/<name with '/' → '_'> (or the one file of the older gt/output/ for a one-output model). */
function gtOutputFile(gt: GtFolder, name: string, outputCount: number): GtFile {
  const files = gt.layout === 'input-output' ? gt.output : gt.joint;
  const found = findGtFile(files, name) ?? (outputCount === 1 && files.length === 1 ? files[0] : undefined);
  if (found) return found;
  const folder = path.join(gt.dir, gt.layout === 'input-output' ? 'output' : 'joint');
  throw new BadFileError('GT_OUTPUT_MISSING', folder, `has no file for the model's output '${name}' (expected ${name.replace(/\//g, '_')}.npy or .bin)`, {
    hint: 'the gt folder was made for another model: run `pulsar run --output_gt` with this model',
  });
}

/**
 * The plan's problems, checked again with the run's listing when the plan was made without it
 * (`planned`: the listing the plan was made with, if any); the same inputs need no second check.
 */
async function localProblems(gt: GtFolder, plan: InputPlan, io: ModelIo | null, planned: ModelIo | null): Promise<InputProblem[]> {
  if (!io || plan.problems.some((p) => p.code === 'GT_INPUT_MISSING')) return plan.problems;
  if (planned && sameInputs(planned, io)) return plan.problems;
  const checked = await planInputs(gt, { names: io.inputs.map((t) => t.name), tensors: io.inputs, maxBatchSize: io.maxBatchSize });
  return checked.problems;
}

/** The same inputs as far as planInputs looks: names, order, sizes, shapes, dtypes, batch. */
function sameInputs(a: ModelIo, b: ModelIo): boolean {
  const key = (io: ModelIo) => JSON.stringify([io.maxBatchSize, io.inputs.map((t) => [t.name, t.size, t.shape, t.dtype, t.layout, t.colorSpace])]);
  return key(a) === key(b);
}

/**
 * Updates the deploy record of the folder (`recorded`: as read) when this verify checked what
 * it records (same board, model and gt folder): new hashes if the files changed, and the verdict. A verify of
 * another board or model leaves it alone, so a bare `axctl verify` keeps meaning the deploy.
 * Returns why a record that is there could not be read or updated: the verdict stands without
 * it, but a bare verify's `lastVerify` silently going stale would mislead whoever reads it.
 */
async function recordVerdict(opts: VerifyOptions, recorded: ReturnType<typeof readState>, report: VerifyReport, model: FileRecord, gtDir: string, inputs: HashedInput[]): Promise<string | undefined> {
  let state;
  try {
    state = await recorded;
  } catch (err) {
    return `the verdict could not be recorded: ${isAxError(err) ? err.describe() : String(err)}`;
  }
  if (!state) return undefined;
  try {
    const sameTarget = sameBoard(state.board, opts.board) && path.resolve(opts.cwd, state.model.path) === model.path && path.resolve(opts.cwd, state.gt.path) === path.resolve(opts.cwd, gtDir);
    if (!sameTarget) return undefined;
    await writeState(opts.cwd, {
      ...state,
      ...(opts.tokenFile && { tokenFile: opts.tokenFile }),
      model,
      gt: { path: path.resolve(opts.cwd, gtDir), inputs: inputs.map((i) => ({ path: i.file, hash: i.hash, size: i.size })) },
      lastVerify: { verdict: report.verdict, exitCode: VERDICT_EXIT[report.verdict], at: report.meta.startedAt },
    });
    return undefined;
  } catch (err) {
    return stateNotWritten(opts.cwd, err);
  }
}

/** "could not be recorded in .../state.json: <errno in words> (<how to fix>)", from writeState's error. */
function stateNotWritten(cwd: string, err: unknown): string {
  // writeState's error names the file and a deploy's fix (run elsewhere); the errno is its cause.
  const errno = (err as Error | undefined)?.cause ?? err;
  const full = ['ENOSPC', 'EDQUOT'].includes((errno as NodeJS.ErrnoException).code ?? '');
  const fix = full ? 'free some space on its disk' : `make ${path.join(cwd, STATE_DIR)} writable`;
  return `the verdict could not be recorded in ${stateFile(cwd)}: ${writeProblem(errno).problem} (${fix}; the next verify records its verdict)`;
}

/** `p` as reports show it: relative to `cwd` when inside it, else absolute. */
export function displayPath(cwd: string, p: string): string {
  const rel = path.relative(cwd, path.resolve(cwd, p));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(cwd, p);
}
