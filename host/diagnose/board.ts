/**
 * The board step (guide step 4): run the gt input on the board and compare with gt/joint.
 * The diagnosis does not talk to boards itself: it gets a BoardVerifier (the verify service,
 * wired by the command) or reads a saved `axctl verify --json` report. A board that cannot be
 * reached, or that was reached and could not take the run, is an outcome of the step, not a
 * failure of the diagnosis: the steps measured before it (pulsar runs of minutes) are kept.
 */
import { BadFileError, ExitCode, isAxError, type AxError, type ExitCodeValue } from '../../shared/errors';
import { readTextFile } from '../../shared/fs/regular-file';
import { fmtCosine, fmtNumber } from '../report/format';
import type { Check, VerifyReport } from '../report/model';
import type { BoardOutcome } from './decide';
import { makeCheck } from './checks';

export interface BoardRunRequest {
  /** Board URL or inventory name, as the user gave it. */
  readonly board: string;
  readonly joint: string;
  readonly gt: string;
}

/**
 * Runs the gt input on the board and compares with gt/joint: the verify service. Calls
 * `onBoardReached` once connected and authenticated (verify's hook of the same name).
 */
export type BoardVerifier = (req: BoardRunRequest, hooks?: { onBoardReached?: () => void }) => Promise<VerifyReport>;

export interface BoardStep {
  readonly outcome: BoardOutcome | null;
  readonly report: VerifyReport | null;
  readonly checks: [Check, Check];
  /** One line of evidence for the summary. */
  readonly detail: string | null;
  /** With outcome 'not-run': the exit code of the board's error (2 for STORE_FULL). */
  readonly errorExit?: ExitCodeValue;
}

const VERDICTS = new Set(['match', 'mismatch', 'input-error', 'run-failed']);
/** Number fields `renderJson` may have written as "NaN"/"Infinity" strings. */
const NUMERIC_KEYS = new Set(['cosine', 'relErr2', 'maxAbsDiff', 'meanAbsDiff', 'mismatchedShare', 'reference', 'actual', 'atol', 'rtol', 'minCosine', 'runUs', 'avgUs', 'overheadUs', 'wallMs']);
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Reads a saved `axctl verify --json` report. */
export async function loadVerifyReport(file: string): Promise<VerifyReport> {
  const text = await readTextFile(file, { what: 'an axctl verify report' });
  let data: unknown;
  try {
    data = JSON.parse(text, (key, value: unknown) =>
      typeof value === 'string' && value in NON_FINITE && (NUMERIC_KEYS.has(key) || /^\d+$/.test(key)) ? NON_FINITE[value] : value);
  } catch (err) {
    throw new BadFileError('DIAGNOSE_VERIFY_REPORT_INVALID', file, `is not JSON (${(err as Error).message})`, {
      hint: 'give the output of axctl verify --json',
    });
  }
  const r = data as Partial<VerifyReport> | null;
  if (!r || r.kind !== 'verify' || !VERDICTS.has(r.verdict as string) || !Array.isArray(r.outputs) || !r.board || !r.model || !r.run || !r.io) {
    throw new BadFileError('DIAGNOSE_VERIFY_REPORT_INVALID', file, 'is not an axctl verify report (no kind "verify" with verdict, outputs, board, model, run, io)', {
      hint: 'give the output of axctl verify --json',
    });
  }
  return r as VerifyReport;
}

/**
 * Runs the board step through `verify`. A connection failure becomes the 'unreachable' outcome;
 * an error once the board was reached (its store too small for the model, a full disk: exit 2)
 * becomes 'not-run', with the error's code, words and exit code. An error before the board was
 * reached (a bad token file, a gt folder verify cannot use) is the user's to fix and stops the
 * command as before. (An interrupt is the command's to tell: it checks its own signal after.)
 */
export async function runBoardStep(verify: BoardVerifier, req: BoardRunRequest): Promise<BoardStep> {
  let reached = false;
  try {
    return fromReport(await verify(req, { onBoardReached: () => (reached = true) }), `board ${req.board}`);
  } catch (err) {
    if (!isAxError(err)) throw err;
    if (err.exitCode === ExitCode.CONNECT) return notChecked('unreachable', `cannot reach the board ${req.board}`, 'the board could not be reached', err);
    if (!reached) throw err;
    return { ...notChecked('not-run', `the board ${req.board} could not run the gt input`, 'the board could not run the gt input', err), errorExit: err.exitCode };
  }
}

/** A board step that never got a verdict: both board checks skipped, the board's one with the error. */
function notChecked(outcome: 'unreachable' | 'not-run', what: string, listingReason: string, err: AxError): BoardStep {
  const why = `${what}: ${err.describe()}`;
  return { outcome, report: null, detail: why, checks: [skippedListing(listingReason), makeCheck('board', 'skipped', why, { code: err.code })] };
}

export function fromReport(report: VerifyReport, where: string): BoardStep {
  return { outcome: report.verdict, report, detail: boardDetail(report), checks: [listingCheck(report), boardCheck(report, where)] };
}

export function skippedBoard(reason: string): BoardStep {
  return { outcome: null, report: null, detail: null, checks: [skippedListing(reason), makeCheck('board', 'skipped', reason)] };
}

function skippedListing(reason: string): Check {
  return makeCheck('board-listing', 'skipped', reason);
}

function boardDetail(r: VerifyReport): string {
  const failed = r.outputs.filter((o) => !o.pass);
  switch (r.verdict) {
    case 'match':
      return `${r.outputs.length} output(s) ${r.outputs.every((o) => o.exact) ? 'bit-exact' : 'within tolerance'}`;
    case 'mismatch':
      return failed.map((o) => `${o.name}: ${o.mismatched} element(s) differ, max |diff| ${fmtNumber(o.maxAbsDiff)}, cosine ${fmtCosine(o.cosine)}`).join('; ') || r.summary;
    case 'input-error':
      return r.run.fallbacks.map((f) => `${f.input}: ${f.reason}`).join('; ') || r.summary;
    case 'run-failed': {
      const why = r.run.assertions[0] ?? (r.run.timedOut ? 'run_joint timed out' : r.summary);
      // The summary already tells what the outputs a failed run dumped showed; an assertion does not.
      if (r.outputs.length === 0 || why === r.summary) return why;
      return `${why}; of the ${r.outputs.length} output(s) it dumped, ${failed.length ? `${failed.map((o) => o.name).join(', ')} differ` : 'all equal the simulator'}`;
    }
  }
}

function boardCheck(r: VerifyReport, where: string): Check {
  const evidence = { verdict: r.verdict, board: r.board, model: r.model, gt: r.gt };
  const detail = r.verdict === 'mismatch'
    ? r.outputs.filter((o) => !o.pass).map((o) => `${o.name}: ${o.reasons.join('; ') || 'outside tolerance'}`).join('; ') || r.summary
    : boardDetail(r);
  switch (r.verdict) {
    case 'match':
      return makeCheck('board', 'pass', `run_joint on ${where} equals gt/joint: ${detail}`, evidence);
    case 'mismatch':
      return makeCheck('board', 'fail', `run_joint on ${where} differs from gt/joint: ${detail}`, evidence);
    case 'input-error':
      return makeCheck('board', 'fail', `the board did not get the gt inputs (run_joint used random data): ${detail}`, evidence);
    case 'run-failed':
      return makeCheck('board', 'fail', `run_joint failed on ${where}: ${detail}`, evidence);
  }
}

/** Step 4.1: what the post-processing must honour, read from run_joint's listing. */
function listingCheck(r: VerifyReport): Check {
  if (r.io.outputs.length === 0 && r.io.inputs.length === 0) return skippedListing('run_joint printed no model listing');
  const outputs = r.io.outputs.map((o) => `${o.name} [${o.shape.join(', ')}] ${[o.layout, o.dtype, o.q ? `Q=${o.q} (divide by ${o.q})` : null].filter(Boolean).join(' ')}`);
  const inputs = r.io.inputs.map((i) => `${i.name} [${i.shape.join(', ')}] ${[i.layout, i.dtype, i.colorSpace].filter(Boolean).join(' ')}`);
  return makeCheck('board-listing', 'pass',
    `post-processing must read outputs ${outputs.join('; ')}; the application must feed inputs ${inputs.join('; ')} (no mean/std: the joint applies them)`,
    { io: r.io });
}
