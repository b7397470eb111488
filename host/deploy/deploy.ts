/**
 * `axctl deploy`: put the model and the gt inputs on the board and remember what went where.
 * Checks the gt folder and that .axctl/ can be written first (locally, before any byte is
 * sent), hashes with the hash cache, asks the board once what it already holds, uploads only
 * the rest, and records board, model and gt in .axctl/ so a bare `axctl verify` knows what
 * to check.
 *
 * The host cannot read a joint file. For a model it has not seen run, deploy sends the model
 * first and asks the board to list its inputs (DescribeModel: run_joint reads the model in the
 * agent's run queue), so a gt folder that does not fit the model is refused before its inputs
 * are sent, and the listing is cached for verify. An older agent, an agentless board that
 * cannot list, or `--no-describe` leave the check to verify, as before.
 */
import { openBoard, type OpenBoardOptions } from '../board/open-board';
import { closeQuietly, withAbort } from '../board/lifecycle';
import { DescribeUnsupportedError, type BoardIdentity, type BoardSession } from '../board/session';
import { RunFailedError } from '../../shared/errors';
import { runJointProblemIn, runJointProblemOf, type RunJointMissing } from '../board/run-joint-missing';
import { checkStateWritable, stateFile, writeState } from '../state/axctl-state';
import { ModelIoStore } from '../state/model-io';
import { checkFitsStore, ensureOnBoard, presentOnBoard, type BlobFile, type BlobOutcome } from './ensure';
import { planInputs } from './gt-inputs';
import { HashCache } from './hash-cache';
import { hashPlannedInputs, inputProblemsError, prepare, type HashedInput, type PrepareContext, type Prepared } from './prepare';
import { queueNote, type Progress } from './progress';

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
  /** Ask the board to list a model the host has not seen run (default true). */
  describe?: boolean;
  /** Time limit of that listing's run_joint start on the board (default: the agent's). */
  describeTimeoutMs?: number;
}

/**
 * Where the input names (and sizes checked) came from: the host's cache of an earlier run,
 * the board listing the model now, or nowhere (the gt file names are used).
 */
export type ListingSource = 'cache' | 'board' | 'none';

export interface DeployResult {
  board: { given: string } & BoardIdentity;
  model: BlobOutcome;
  inputs: BlobOutcome[];
  /** Data bytes sent in all. */
  sentBytes: number;
  /** Whether the input names are the model's own (listed by the board, or seen run before). */
  inputNamesKnown: boolean;
  listing: ListingSource;
  /** Why the board could not list the model (run_joint failed on it); verify shows the evidence. */
  listingProblem: string | null;
  /** The board's run_joint is gone (the agent said so): everything was sent, but verify fails until it is back. */
  runJointProblem: RunJointMissing | null;
  durationMs: number;
  stateFile: string;
}

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const local = { hashes: opts.hashes ?? new HashCache(), ioStore: opts.ioStore ?? new ModelIoStore(), progress: opts.progress };
  const prepared = await prepare(opts.model, opts.gt, local);
  if (prepared.plan.problems.length > 0) throw inputProblemsError(prepared.plan.problems);
  await checkStateWritable(opts.cwd);
  const session = await withAbort(opts.signal, () => openBoard({ ...opts, cwd: opts.cwd }));
  let sent: Sent;
  const closeOnAbort = () => void session.close();
  opts.signal?.addEventListener('abort', closeOnAbort, { once: true });
  try {
    sent = await send(session, prepared, { ...opts, ...local });
    // Agentless: the board's shell answers while the bytes go up; a board whose shell cannot
    // run anything fails here, not at the first verify.
    await session.ready?.();
  } finally {
    opts.signal?.removeEventListener('abort', closeOnAbort);
    await closeQuietly(session);
  }
  const { outcomes, listing, listingProblem, runJointProblem } = sent;
  await writeState(opts.cwd, {
    board: opts.board,
    ...(opts.tokenFile && { tokenFile: opts.tokenFile }),
    model: prepared.model,
    gt: { path: prepared.gt.dir, inputs: sent.inputs.map((i) => ({ path: i.file, hash: i.hash, size: i.size })) },
    deployedAt: new Date().toISOString(),
  });
  const [model, ...inputOutcomes] = outcomes;
  return {
    board: { given: opts.board, ...session.identity },
    model: model!,
    inputs: inputOutcomes,
    sentBytes: outcomes.reduce((sum, o) => sum + o.sentBytes, 0),
    inputNamesKnown: listing !== 'none',
    listing,
    listingProblem,
    runJointProblem,
    durationMs: Math.round(performance.now() - started),
    stateFile: stateFile(opts.cwd),
  };
}

interface Sent {
  /** The model's outcome, then each input's. */
  outcomes: BlobOutcome[];
  inputs: HashedInput[];
  listing: ListingSource;
  listingProblem: string | null;
  runJointProblem: RunJointMissing | null;
}

const blobFiles = (inputs: HashedInput[]): BlobFile[] => inputs.map((i) => ({ label: i.name, path: i.file, hash: i.hash, size: i.size }));

async function send(session: BoardSession, prepared: Prepared, opts: DeployOptions & PrepareContext): Promise<Sent> {
  const model: BlobFile = { label: 'model', ...prepared.model };
  const everything = [model, ...blobFiles(prepared.inputs)];
  // The model is sent alone first (to be listed), then its inputs: together they must fit.
  checkFitsStore(session, everything);
  // The agent said at the handshake that its run_joint is gone: no listing can be had, and
  // everything goes up as for a board that cannot list (ready for when run_joint is back).
  const broken = runJointProblemOf(session.identity);
  const unlisted = async (listing: ListingSource, known?: boolean[]): Promise<Sent> => ({
    outcomes: await ensureOnBoard(session, everything, opts.progress, known),
    inputs: prepared.inputs,
    listing,
    listingProblem: broken?.message ?? null,
    runJointProblem: broken,
  });
  if (prepared.plan.namesKnown) return unlisted('cache');
  if (opts.describe === false || !session.describeModel || broken) return unlisted('none');
  // A re-deploy of what the board already holds sends nothing and asks nothing more: the
  // listing was asked for when these were first sent (verify checks in any case).
  const present = await presentOnBoard(session, everything);
  if (present.every(Boolean)) return unlisted('none', present);

  const [modelOutcome] = await ensureOnBoard(session, [model], opts.progress, present.slice(0, 1));
  opts.progress.note("running run_joint on the board to list the model's inputs");
  let inputs = prepared.inputs;
  let listing: ListingSource = 'none';
  let listingProblem: string | null = null;
  let runJointProblem: RunJointMissing | null = null;
  try {
    const described = await session.describeModel(prepared.model.hash, {
      onQueue: (position) => opts.progress.note(queueNote(position, "listing the model's inputs")),
      ...(opts.signal && { signal: opts.signal }),
      ...(opts.describeTimeoutMs !== undefined && { runTimeoutMs: opts.describeTimeoutMs }),
    });
    await opts.ioStore.remember(prepared.model.hash, described);
    const plan = await planInputs(prepared.gt, { names: described.inputs.map((t) => t.name), tensors: described.inputs, maxBatchSize: described.maxBatchSize });
    if (plan.problems.length > 0) throw inputProblemsError(plan.problems);
    inputs = await hashPlannedInputs(plan, opts.hashes);
    listing = 'board';
  } catch (err) {
    // The files still go up: verify runs the model and shows run_joint's failure in full.
    // So does a run_joint that cannot be started at all (agentless: not on the login PATH):
    // a failed probe is one kind of RunFailedError.
    // The agent's RUN_JOINT_* answer (an AgentError): run_joint went missing since the handshake.
    runJointProblem = runJointProblemIn(err, session.identity, session.reinstall);
    if (err instanceof RunFailedError || runJointProblem) listingProblem = (err as Error).message;
    else if (!(err instanceof DescribeUnsupportedError)) throw err;
  }
  checkFitsStore(session, [model, ...blobFiles(inputs)]); // the inputs the listing chose
  return { outcomes: [modelOutcome!, ...(await ensureOnBoard(session, blobFiles(inputs), opts.progress))], inputs, listing, listingProblem, runJointProblem };
}
