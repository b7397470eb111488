/**
 * Layer-by-layer comparison during the build (the guide's "逐层对分"): it needs
 * `evaluation_conf { ... score_compare_per_layer: true }` AND a
 * `dataset_conf_error_measurement` to compare with; without the dataset, nothing is measured
 * and the per-layer table the user asked for never appears.
 */
import type { LintContext } from '../context';
import type { Finding } from '../finding';
import { asMessage, boolOf, child, enumValue, findFields } from '../tree';

export function checkEvaluation(ctx: LintContext): Finding[] {
  const findings: Finding[] = [];
  const errorMeasurement = findFields(ctx.doc, 'dataset_conf_error_measurement').length > 0;
  for (const { field } of findFields(ctx.doc, 'evaluation_conf')) {
    const msg = asMessage(field);
    const perLayer = msg && boolOf(msg, 'score_compare_per_layer');
    if (!msg || !perLayer?.value) continue;
    if (!errorMeasurement) {
      findings.push(ctx.finding('per-layer-without-error-measurement', 'error', perLayer.line,
        'score_compare_per_layer: true but there is no dataset_conf_error_measurement: the build has nothing to compare layer by layer',
        'add neuwizard_conf { dataset_conf_error_measurement { path: "images.tar" type: DATASET_TYPE_TAR size: 4 } } (a few images suffice; it makes the build much slower)'));
    }
    const type = enumValue(child(msg, 'type')?.value, ['EVALUATION_TYPE_']);
    if (type !== 'ERROR_MEASURE') {
      findings.push(ctx.finding('per-layer-evaluation-type', 'warning', child(msg, 'type')?.line ?? field.line,
        `score_compare_per_layer needs evaluation_conf type EVALUATION_TYPE_ERROR_MEASURE${type ? `, not ${type}` : ' (type is not set)'}`,
        'set type: EVALUATION_TYPE_ERROR_MEASURE and path: "neuwizard.evaluator.error_measure_evaluator", source_ir_types: IR_TYPE_ONNX, ir_types: IR_TYPE_LAVA'));
    }
  }
  return findings;
}
