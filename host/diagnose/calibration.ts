/**
 * The guide's note on calibration data (axctl's step 3.5): "if the calibration set differs
 * much from the training set, accuracy drops a lot; to judge whether the calibration choice
 * is reasonable, take one image of the calibration set through pulsar run". The compiled model
 * was calibrated on that image's kind of data, so it should score well on it. Compared with
 * the user's own input run:
 *   calibration image fine, own input low  → the calibration data is unlike the user's data;
 *   both low                               → the quantization itself loses, not the data choice;
 *   both fine                              → the calibration set looks representative;
 *   calibration image low, own input fine  → odd images in the calibration set.
 */
import { COSINE_THRESHOLD } from '../toolchain/scores';
import { worstOutput, type StageMeasurement } from './stages';

export interface CalibrationVerdict {
  readonly status: 'pass' | 'fail';
  readonly reason: string;
  readonly evidence: Record<string, unknown>;
}

const fmt = (c: number) => (Number.isNaN(c) ? 'NaN' : c.toFixed(6));

/** `reference` is the run of the user's input on the same model, when there was one. */
export function judgeCalibration(image: string, calib: StageMeasurement, reference: StageMeasurement | null): CalibrationVerdict {
  const c = worstOutput(calib);
  const calibLow = calib.outputs.some((o) => o.low);
  const status = calibLow ? 'fail' : 'pass';
  const evidence: Record<string, unknown> = {
    image, model: calib.kind, gt: calib.gtDir, cosine: c.cosine, output: c.name,
    inputCosine: reference ? worstOutput(reference).cosine : null,
  };
  const mine = `${calib.kind} on the calibration image: lowest cosine ${fmt(c.cosine)} (${c.name})`;
  if (!reference) {
    return {
      status, evidence,
      reason: calibLow
        ? `${mine} < ${COSINE_THRESHOLD}: the model loses precision even on data it was calibrated with`
        : `${mine} >= ${COSINE_THRESHOLD} (no run of your own input to compare with: give --input)`,
    };
  }
  const r = worstOutput(reference);
  const refLow = reference.outputs.some((o) => o.low);
  const theirs = `your input ${fmt(r.cosine)}`;
  let meaning: string;
  if (!calibLow && refLow) meaning = 'the calibration image is fine and your input is not: the calibration data is probably unlike your data (the guide\'s note: a calibration set unlike the training data loses much accuracy)';
  else if (calibLow && refLow) meaning = 'both lose precision: the loss is not caused by a calibration set unlike your data, the quantization itself loses';
  else if (calibLow) meaning = 'the calibration image loses precision while your input does not: the calibration set may hold unusual images (wrong colour order, corrupt, another domain)';
  else meaning = 'both are fine: the calibration set looks like your data';
  return { status, evidence, reason: `${mine}, ${theirs}: ${meaning}` };
}
