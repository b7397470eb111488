/**
 * What the stand-in's pulsar build takes from a config.prototxt, and the output config it
 * writes. The output config is the task form of the configuration with the shorthand
 * expanded: a `tasks { }` block holding the model paths, one src/dst tensor entry per model
 * input with AUTO resolved, the output tensors' layout and type, the user's neuwizard_conf
 * with the calibration defaults written out, and pulsar_conf with the output_dir the build
 * sets ("set task task_0's pulsar_conf.output_dir as /data").
 */
import { get, getAll, type PtDocument, type PtField, type PtMessage, type PtValue } from '../../shared/parsers/prototxt';
import type { FakeOnnxModel } from './onnx-model';
import { enm, formatPrototxt, msg, num, str, without } from './prototxt-writer';

export type Colour = 'BGR' | 'RGB' | 'GRAY' | 'NV12' | 'NV21' | 'BGR0';
export type OutputType = 'float32' | 'sint16' | 'sint8' | 'uint8' | 'uint16';

export interface BuildSettings {
  readonly targetHardware: 'AX620' | 'AX630' | 'AX170';
  readonly npu: '1_1' | 'disable';
  readonly batch: number;
  readonly outputLayout: 'NHWC' | 'NCHW';
  readonly outputType: OutputType;
  /** Static Q (quantization_value), or 0 for dynamic. */
  readonly outputQ: number;
  readonly quantization: '8 bit' | '16 bit' | 'mix';
  readonly perLayer: boolean;
  readonly errorMeasurement: boolean;
  /** Calibration tar paths as written, and its type. */
  readonly calibrationPaths: readonly string[];
  colourOf(input: string, channels: number): Colour;
  floatInput(input: string): boolean;
}

export interface CommandLineOverrides {
  readonly targetHardware?: string;
  readonly virtualNpu?: string;
  readonly outputTensorLayout?: string;
  readonly inputTensorColor?: string;
  readonly compileBatchSize?: readonly string[];
}

const enumOf = (v: PtValue | undefined): string | null => (v && (v.kind === 'enum' || v.kind === 'string') ? v.value.toUpperCase() : null);

export function readBuildSettings(doc: PtDocument, cli: CommandLineOverrides): BuildSettings {
  const hw = (cli.targetHardware ?? enumOf(get(doc, 'target_hardware')) ?? 'AX620').toUpperCase().replace('TARGET_HARDWARE_', '');
  const targetHardware = hw === 'AX630' || hw === 'AX170' ? hw : 'AX620';
  const vnpu = cli.virtualNpu ?? enumOf(get(doc, 'pulsar_conf.ax620_virtual_npu')) ?? '';
  const npu = /111|112/.test(vnpu) ? '1_1' : 'disable';
  const batches = (cli.compileBatchSize ?? getAll(doc, 'pulsar_conf.batch_size').map((v) => (v.kind === 'number' ? String(v.value) : '1'))).map(Number);
  const batch = Math.max(1, ...batches.filter((b) => Number.isSafeInteger(b) && b > 0));
  const layout = (cli.outputTensorLayout ?? enumOf(get(doc, 'dst_output_tensors.tensor_layout')) ?? 'NCHW').toUpperCase();
  const dataType = enumOf(get(doc, 'dst_output_tensors.data_type')) ?? 'FLOAT32';
  const outputType: OutputType = ({ INT16: 'sint16', INT8: 'sint8', UINT8: 'uint8', UINT16: 'uint16' } as Record<string, OutputType>)[dataType] ?? 'float32';
  const qValue = get(doc, 'dst_output_tensors.quantization_value');
  const sixteen = getAll(doc, 'neuwizard_conf.operator_conf.operator_conf_items').filter((item) => {
    const feature = item.kind === 'message' ? enumOf(get(item, 'attributes.input_feature_type')) : null;
    return feature === 'UINT16' || feature === 'INT16';
  });
  const allOps = sixteen.some((item) => item.kind === 'message' && get(item, 'selector.op_name') === undefined && get(item, 'selector.op_name_regex') === undefined);
  const perLayer = getAll(doc, 'neuwizard_conf.evaluation_conf.score_compare_per_layer').some((v) => v.kind === 'bool' && v.value);
  const calibration = get(doc, 'neuwizard_conf.dataset_conf_calibration');
  const calibrationPaths = calibration?.kind === 'message'
    ? [...getAll(calibration, 'path'), ...getAll(calibration, 'dataset_conf_items.path')].flatMap((v) => (v.kind === 'string' ? [v.value] : []))
    : [];
  return {
    targetHardware,
    npu,
    batch,
    outputLayout: layout === 'NHWC' ? 'NHWC' : 'NCHW',
    outputType,
    outputQ: qValue?.kind === 'number' && qValue.value > 0 ? qValue.value : 0,
    quantization: sixteen.length === 0 ? '8 bit' : allOps ? '16 bit' : 'mix',
    perLayer,
    errorMeasurement: get(doc, 'neuwizard_conf.dataset_conf_error_measurement') !== undefined,
    calibrationPaths,
    colourOf(input, channels) {
      const override = cli.inputTensorColor?.toUpperCase();
      const written = override && override !== 'AUTO' ? override : tensorColour(doc, ['dst_input_tensors', 'output_tensors'], input);
      if (written && written !== 'AUTO') return written as Colour;
      return channels === 1 ? 'GRAY' : 'BGR';
    },
    floatInput(input) {
      return getAll(doc, 'neuwizard_conf.operator_conf.input_conf_items').some((item) => {
        if (item.kind !== 'message') return false;
        const name = get(item, 'selector.op_name');
        const applies = name === undefined || (name.kind === 'string' && name.value === input);
        return applies && enumOf(get(item, 'attributes.type')) === 'FLOAT32';
      });
    },
  };
}

function tensorColour(doc: PtMessage, blocks: readonly string[], input: string): string | null {
  for (const block of blocks) {
    const items = getAll(doc, block).filter((v): v is PtMessage => v.kind === 'message');
    if (items.length === 0) continue;
    const item = items.find((i) => get(i, 'tensor_name') === undefined) ?? items.find((i) => {
      const n = get(i, 'tensor_name');
      return n?.kind === 'string' && n.value === input;
    });
    const cs = enumOf(item && get(item, 'color_space'));
    if (cs) return cs.replace('TENSOR_COLOR_SPACE_', '');
  }
  return null;
}

/** True when the config is the task form pulsar build writes (see host/toolchain/config-check.ts). */
export function isExpanded(doc: PtDocument): boolean {
  return doc.fields.some((f) => f.name === 'tasks') || get(doc, 'pulsar_conf.output_dir') !== undefined;
}

export interface ExpandInput {
  readonly doc: PtDocument;
  readonly settings: BuildSettings;
  readonly onnx: FakeOnnxModel;
  readonly onnxPath: string;
  readonly jointPath: string;
  readonly outputDir: string;
  readonly producer: string;
}

export function expandConfig(x: ExpandInput): string {
  const s = x.settings;
  const topEnums = [
    enm('input_type', 'INPUT_TYPE_ONNX'),
    enm('output_type', 'OUTPUT_TYPE_JOINT'),
    enm('target_hardware', `TARGET_HARDWARE_${s.targetHardware}`),
  ];
  const colours = x.onnx.inputs.map((i) => ({ name: i.name, colour: s.colourOf(i.name, channelsOf(i.shape, i.layout)) }));
  const src = colours.map((c) => msg('src_input_tensors', [str('tensor_name', c.name), enm('color_space', `TENSOR_COLOR_SPACE_${c.colour}`)]));
  const dst = colours.map((c) => msg('dst_input_tensors', [str('tensor_name', c.name), enm('color_space', `TENSOR_COLOR_SPACE_${c.colour}`)]));
  const dataType = { float32: 'FLOAT32', sint16: 'INT16', sint8: 'INT8', uint8: 'UINT8', uint16: 'UINT16' }[s.outputType];
  const outs = x.onnx.outputs.map((o) => msg('dst_output_tensors', [
    str('tensor_name', o.name), enm('tensor_layout', s.outputLayout), enm('data_type', dataType),
    ...(s.outputQ > 0 ? [num('quantization_value', s.outputQ)] : []),
  ]));
  const neuwizard = get(x.doc, 'neuwizard_conf');
  const neuwizardFields = (neuwizard?.kind === 'message' ? neuwizard.fields : []).map(expandNeuwizardField);
  const pulsar = get(x.doc, 'pulsar_conf');
  const pulsarFields = [
    str('output_dir', x.outputDir),
    ...without(pulsar?.kind === 'message' ? pulsar : undefined, 'output_dir', 'batch_size'),
    num('batch_size', s.batch),
  ];
  const task = msg('tasks', [
    str('input_path', x.onnxPath),
    str('output_path', x.jointPath),
    ...topEnums,
    ...src, ...dst, ...outs,
    ...x.doc.fields.filter((f) => f.name === 'cpu_backend_settings'),
    msg('neuwizard_conf', neuwizardFields),
    msg('pulsar_conf', pulsarFields),
  ]);
  return `# output config written by ${x.producer}: the build's configuration with every shorthand expanded\n${formatPrototxt([...topEnums, task])}`;
}

/** Calibration defaults written out (config reference: batch_size 32, PER_CHANNEL, MIN_MAX). */
function expandNeuwizardField(f: PtField): PtField {
  if (f.name !== 'dataset_conf_calibration' || f.value.kind !== 'message') return f;
  const has = (n: string) => f.value.kind === 'message' && f.value.fields.some((x) => x.name === n);
  return msg(f.name, [
    ...f.value.fields,
    ...(has('batch_size') ? [] : [num('batch_size', 32)]),
    ...(has('calibration_strategy') ? [] : [enm('calibration_strategy', 'CALIB_STRATEGY_PER_CHANNEL')]),
    ...(has('observer_method') ? [] : [enm('observer_method', 'OBSVR_METHOD_MIN_MAX')]),
  ]);
}

export function channelsOf(shape: readonly number[], layout: 'NCHW' | 'NHWC'): number {
  return layout === 'NCHW' ? shape[1] : shape[3];
}
