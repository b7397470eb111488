/**
 * Every lint rule with its default severity, why it matters and what to do: for reports
 * (diagnose) and the user manual. Keep in step with the rules in ./rules/.
 */
import type { Severity } from './finding';

export interface LintRule {
  readonly id: string;
  readonly severity: Severity;
  readonly why: string;
  readonly fix: string;
}

export const LINT_RULES: readonly LintRule[] = [
  { id: 'norm-rgb-order-for-bgr', severity: 'error', why: 'ImageNet mean/std written in RGB order while the input is read as BGR (BGR or the default AUTO): red and blue get each other\'s statistics.', fix: 'Reverse the values, or declare the colour space RGB if the model gets RGB.' },
  { id: 'norm-bgr-order-for-rgb', severity: 'error', why: 'ImageNet mean/std written in BGR order while the input is RGB.', fix: 'Reverse the values, or declare BGR.' },
  { id: 'norm-channel-count', severity: 'error', why: 'mean/std has a number of values that does not fit the colour space (GRAY 1, BGR/RGB 3, BGR0 4).', fix: 'One value per channel, in the channel order of the colour space.' },
  { id: 'norm-single-value', severity: 'info', why: 'One mean/std value for a multi-channel input is applied to every channel.', fix: 'Write all channels to make the order explicit.' },
  { id: 'norm-std-zero', severity: 'error', why: 'std 0 divides by zero.', fix: 'Use 1 for channels that are not scaled.' },
  { id: 'imagenet-std-typo', severity: 'warning', why: 'std [0.229, 0.224, 0.255] is the Pulsar docs\' typo of ImageNet\'s 0.225.', fix: 'Use the std the model was trained with.' },
  { id: 'calib-missing', severity: 'warning', why: 'No calibration dataset: nothing to quantize with.', fix: 'Add dataset_conf_calibration with images like the training data.' },
  { id: 'calib-per-channel', severity: 'warning', why: 'The guide: CALIB_STRATEGY_PER_CHANNEL may lose points.', fix: 'PER_TENSOR with MIN_MAX or MSE_CLIPPING.' },
  { id: 'calib-strategy-default', severity: 'info', why: 'No calibration_strategy: the default is PER_CHANNEL.', fix: 'Set PER_TENSOR if cosine is low.' },
  { id: 'calib-size-small', severity: 'warning', why: 'Fewer than 32 calibration images (one default batch): ranges from too few samples.', fix: 'A few hundred images (examples use 256).' },
  { id: 'calib-size-invalid', severity: 'error', why: 'Calibration size below 1.', fix: 'Set the number of images to use.' },
  { id: 'calib-size-exceeds-dataset', severity: 'warning', why: 'size is larger than the number of files in the tar.', fix: 'Add images or lower size.' },
  { id: 'calib-path-missing', severity: 'error', why: 'DATASET_TYPE_TAR without a path.', fix: 'Add path (relative to the config\'s folder).' },
  { id: 'calib-path-not-found', severity: 'error', why: 'The calibration tar does not exist (relative to the config\'s folder).', fix: 'Fix the path; use --mount for container paths.' },
  { id: 'calib-not-tar', severity: 'error', why: 'The calibration path is not a tar/tar.gz archive.', fix: 'Pack the images with tar.' },
  { id: 'error-measurement-size-invalid', severity: 'error', why: 'Error-measurement size below 1.', fix: 'Set a few images.' },
  { id: 'error-measurement-size-exceeds-dataset', severity: 'warning', why: 'size larger than the tar holds.', fix: 'Lower size.' },
  { id: 'error-measurement-path-missing', severity: 'error', why: 'DATASET_TYPE_TAR without a path.', fix: 'Add path.' },
  { id: 'error-measurement-path-not-found', severity: 'error', why: 'The error-measurement tar does not exist.', fix: 'Fix the path.' },
  { id: 'error-measurement-not-tar', severity: 'error', why: 'The error-measurement path is not a tar archive.', fix: 'Pack the images with tar.' },
  { id: 'operator-conf-misplaced', severity: 'error', why: 'operator_conf_items outside neuwizard_conf { operator_conf { } } (the docs show it as a fragment).', fix: 'Move it inside.' },
  { id: 'int16-missing-weight-type', severity: 'warning', why: 'input_feature_type UINT16 without weight_type; the documented 16-bit setting pairs it with weight_type: INT8.', fix: 'Add weight_type: INT8.' },
  { id: 'int-output-dynamic-q', severity: 'warning', why: 'Integer output without quantization_value: dynamic Q, may change per build; post-processing must divide by it.', fix: 'Set quantization_value, or read Q at run time.' },
  { id: 'int16-output-not-16bit-quantization', severity: 'info', why: 'data_type: INT16 on an output is a fixed-point output, not 16-bit quantization.', fix: 'Use operator_conf_items with input_feature_type: UINT16, weight_type: INT8.' },
  { id: 'per-layer-without-error-measurement', severity: 'error', why: 'score_compare_per_layer: true without dataset_conf_error_measurement: no per-layer table.', fix: 'Add dataset_conf_error_measurement.' },
  { id: 'per-layer-evaluation-type', severity: 'warning', why: 'score_compare_per_layer needs evaluation_conf type EVALUATION_TYPE_ERROR_MEASURE.', fix: 'Set the type (and path neuwizard.evaluator.error_measure_evaluator).' },
];
