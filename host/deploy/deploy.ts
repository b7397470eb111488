/**
 * `axctl deploy`: put the model and the gt inputs on the board and remember what went where.
 * Checks the gt folder first (locally, before any byte is sent), hashes with the hash cache,
 * asks the board once what it already holds, uploads only the rest, and records board, model
 * and gt in .axctl/ so a bare `axctl verify` knows what to check.
 */
import { openBoard, type OpenBoardOptions } from '../board/open-board';
import { closeQuietly, withAbort } from '../board/lifecycle';
import type { BoardIdentity } from '../board/session';
import { stateFile, writeState } from '../state/axctl-state';
import { ModelIoStore } from '../state/model-io';
import { ensureOnBoard, type BlobOutcome } from './ensure';
import { HashCache } from './hash-cache';
import { inputProblemsError, prepare } from './prepare';
import type { Progress } from './progress';

/** Fields an opener adds to OpenBoardOptions (e.g. host/ssh's `ssh`, `agentless`) pass through to openBoard as given. */
export interface DeployOptions extends Omit<OpenBoardOptions, 'cwd'> {
  model: string;
  gt: string;
  /** The project folder: .axctl/ goes here. */
  cwd: string;
  progress: Progress;
  hashes?: HashCache;
  ioStore?: ModelIoStore;
  /** Aborting closes the connection (Ctrl-C); the deploy then fails. */
  signal?: AbortSignal;
}

export interface DeployResult {
  board: { given: string } & BoardIdentity;
  model: BlobOutcome;
  inputs: BlobOutcome[];
  /** Data bytes sent in all. */
  sentBytes: number;
  /** Whether the input names are the model's own (the host saw this model run before). */
  inputNamesKnown: boolean;
  durationMs: number;
  stateFile: string;
}

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const prepared = await prepare(opts.model, opts.gt, {
    hashes: opts.hashes ?? new HashCache(),
    ioStore: opts.ioStore ?? new ModelIoStore(),
    progress: opts.progress,
  });
  if (prepared.plan.problems.length > 0) throw inputProblemsError(prepared.plan.problems);
  const session = await withAbort(opts.signal, () => openBoard({ ...opts, cwd: opts.cwd }));
  let outcomes: BlobOutcome[];
  const closeOnAbort = () => void session.close();
  opts.signal?.addEventListener('abort', closeOnAbort, { once: true });
  try {
    outcomes = await ensureOnBoard(
      session,
      [{ label: 'model', ...prepared.model }, ...prepared.inputs.map((i) => ({ label: i.name, path: i.file, hash: i.hash, size: i.size }))],
      opts.progress,
    );
  } finally {
    opts.signal?.removeEventListener('abort', closeOnAbort);
    await closeQuietly(session);
  }
  await writeState(opts.cwd, {
    board: opts.board,
    ...(opts.tokenFile && { tokenFile: opts.tokenFile }),
    model: prepared.model,
    gt: { path: prepared.gt.dir, inputs: prepared.inputs.map((i) => ({ path: i.file, hash: i.hash, size: i.size })) },
    deployedAt: new Date().toISOString(),
  });
  const [model, ...inputs] = outcomes;
  return {
    board: { given: opts.board, ...session.identity },
    model: model!,
    inputs,
    sentBytes: outcomes.reduce((sum, o) => sum + o.sentBytes, 0),
    inputNamesKnown: prepared.plan.namesKnown,
    durationMs: Math.round(performance.now() - started),
    stateFile: stateFile(opts.cwd),
  };
}
