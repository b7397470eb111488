/**
 * 16-bit settings (guide step 3, "采用 INT16 量化"). The Pulsar docs give two different things
 * that both say INT16, and each needs company:
 * - 16-bit quantization of the network: an operator_conf_items inside
 *   neuwizard_conf { operator_conf { } } whose attributes pair input_feature_type: UINT16 with
 *   weight_type: INT8 (an empty selector {} selects every operator). The docs show it as a bare
 *   fragment, which invites pasting it at the top level.
 * - An integer output tensor: dst_output_tensors { data_type: INT16 } only changes the output's
 *   dtype to a fixed-point value with a Q; without quantization_value the Q is dynamic
 *   (computed from the calibration data, so it can change with every build) and the user's
 *   post-processing must divide by the Q run_joint prints. It is not 16-bit quantization.
 */
import type { PtMessage } from '../../../shared/parsers/prototxt';
import type { LintContext } from '../context';
import type { Finding } from '../finding';
import { asMessage, child, enumValue, findFields } from '../tree';

const SIXTEEN_BIT = new Set(['UINT16', 'INT16']);
const INTEGER_TYPES = new Set(['UINT2', 'INT2', 'MINT2', 'UINT4', 'INT4', 'MINT4', 'UINT8', 'INT8', 'MINT8', 'UINT16', 'INT16']);

export function checkSixteenBit(ctx: LintContext): Finding[] {
  const findings: Finding[] = [];
  let quantizes16 = false;
  for (const { field, ancestors } of findFields(ctx.doc, 'operator_conf_items')) {
    const names = ancestors.map((a) => a.name);
    const parent = names[names.length - 1];
    const grandparent = names[names.length - 2];
    if (parent !== 'operator_conf' || grandparent !== 'neuwizard_conf') {
      findings.push(ctx.finding('operator-conf-misplaced', 'error', field.line,
        `operator_conf_items is inside ${names.length ? names.join(' > ') : 'the top level'}, not inside neuwizard_conf { operator_conf { } }`,
        'move it into neuwizard_conf { operator_conf { ... } } (the docs show it as a fragment)'));
    }
    const attributes = asMessage(asMessage(field) && child(asMessage(field) as PtMessage, 'attributes'));
    if (!attributes) continue;
    const featureField = child(attributes, 'input_feature_type');
    const feature = enumValue(featureField?.value);
    if (!feature || !SIXTEEN_BIT.has(feature)) continue;
    quantizes16 = true;
    if (!child(attributes, 'weight_type')) {
      findings.push(ctx.finding('int16-missing-weight-type', 'warning', featureField?.line ?? field.line,
        `input_feature_type: ${feature} without weight_type: the documented 16-bit setting pairs it with weight_type: INT8`,
        'add weight_type: INT8 next to input_feature_type: UINT16 in the same attributes { }'));
    }
  }
  for (const { field } of findFields(ctx.doc, 'dst_output_tensors')) {
    const msg = asMessage(field);
    const typeField = msg && child(msg, 'data_type');
    const type = enumValue(typeField?.value);
    if (!msg || !typeField || !type || !INTEGER_TYPES.has(type)) continue;
    const q = child(msg, 'quantization_value');
    if (!q || (q.value.kind === 'number' && q.value.value <= 0)) {
      findings.push(ctx.finding('int-output-dynamic-q', 'warning', typeField.line,
        `data_type: ${type} output without quantization_value: the Q is dynamic, computed from the calibration data, and may change with every build`,
        'set quantization_value (e.g. 256) for a fixed Q, or make the post-processing read Q at run time (run_joint prints it as Q=n; the SDK has nQuantizationValue) and divide by it'));
    }
    if (SIXTEEN_BIT.has(type) && !quantizes16) {
      findings.push(ctx.finding('int16-output-not-16bit-quantization', 'info', typeField.line,
        `data_type: ${type} only makes the output a 16-bit fixed-point tensor (real value = integer / Q); the network is still quantized to 8 bit`,
        'for 16-bit quantization add neuwizard_conf { operator_conf { operator_conf_items { selector { } attributes { input_feature_type: UINT16 weight_type: INT8 } } } }'));
    }
  }
  return findings;
}
