/** verify's exit code for each verdict (documented in docs/parts/deploy-verify.md). */
import { ExitCode, type ExitCodeValue } from '../../shared/errors';
import type { Verdict } from '../report/model';

export const VERDICT_EXIT: Record<Verdict, ExitCodeValue> = {
  match: ExitCode.OK,
  mismatch: ExitCode.MISMATCH,
  'input-error': ExitCode.INPUT_ERROR,
  'run-failed': ExitCode.RUN_FAILED,
};
