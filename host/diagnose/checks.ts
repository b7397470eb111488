/**
 * The checks `axctl diagnose` makes, one row per item of the guide's checklist, in the order
 * a report lists them. Every check appears in every report: a check the inputs did not allow
 * is `skipped`, and its reason says what it would need.
 */
import type { Check } from '../report/model';

export type CheckId =
  | 'platforms'
  | 'simulator'
  | 'output-config'
  | 'config-lint'
  | 'quantization'
  | 'layers'
  | 'calibration-image'
  | 'board-listing'
  | 'board';

/** Names fit the 40 columns the terminal report gives them. */
export interface CheckSpec {
  /** The guide's step. 3.5 is the guide's note on calibration data (unnumbered there). */
  readonly step: string;
  readonly name: string;
}

export const CHECKS: Readonly<Record<CheckId, CheckSpec>> = {
  platforms: { step: '1', name: 'only AX loses accuracy' },
  simulator: { step: '2', name: 'pulsar run: onnx vs joint' },
  'output-config': { step: '3.1', name: 'pulsar run gets the output_config' },
  'config-lint': { step: '3.2', name: 'config: colour space, mean/std, calib' },
  quantization: { step: '3.3', name: 'quantization: onnx vs lava_joint' },
  layers: { step: '3.4', name: 'layer-by-layer comparison' },
  'calibration-image': { step: '3.5', name: 'one calibration image through pulsar run' },
  'board-listing': { step: '4.1', name: "run_joint's listing for post-processing" },
  board: { step: '4.2', name: 'board vs simulator (run_joint vs gt)' },
};

export const CHECK_ORDER: readonly CheckId[] = Object.keys(CHECKS) as CheckId[];

/** A check of the report; `evidence` is left out when there is none. */
export function makeCheck(id: CheckId, status: Check['status'], reason: string, evidence?: Record<string, unknown>): Check {
  const { step, name } = CHECKS[id];
  return evidence === undefined ? { step, name, status, reason } : { step, name, status, reason, evidence };
}
