/**
 * The exit code of `axctl diagnose`, from what it found. The first matching rule wins:
 *   0  ok (even when a layer inside the model is below 0.98: every output is fine);
 *   1  a precision problem was found: any conclusion but ok and inconclusive;
 *   5  the board could not be reached (and nothing else was concluded);
 *   the board's own error's code (2 for a store too small for the model), when the board was
 *      reached but could not take the run;
 *   4  run_joint failed on the board;
 *   3  the board did not get the gt inputs (run_joint ran on random data);
 *   2  a pulsar run failed (its check skipped, evidence.toolError), so nothing was concluded;
 *   1  a check failed though no stage could be blamed (a refused config, config errors);
 *   0  inconclusive with nothing failed (e.g. a clean config linted alone).
 * Usage errors, unreadable files and a pulsar that cannot start exit 2 before any report.
 */
import { ExitCode, type ExitCodeValue } from '../../shared/errors';
import type { Check, Conclusion } from '../report/model';
import type { BoardOutcome } from './decide';

export function diagnoseExitCode(conclusion: Conclusion, checks: readonly Check[], board: BoardOutcome | null, boardErrorExit: ExitCodeValue = ExitCode.USAGE): ExitCodeValue {
  if (conclusion === 'ok') return ExitCode.OK;
  if (conclusion !== 'inconclusive') return ExitCode.MISMATCH;
  if (board === 'unreachable') return ExitCode.CONNECT;
  if (board === 'not-run') return boardErrorExit;
  if (board === 'run-failed') return ExitCode.RUN_FAILED;
  if (board === 'input-error') return ExitCode.INPUT_ERROR;
  if (checks.some((c) => c.status === 'skipped' && c.evidence?.toolError !== undefined)) return ExitCode.USAGE;
  if (checks.some((c) => c.status === 'fail')) return ExitCode.MISMATCH;
  return ExitCode.OK;
}
