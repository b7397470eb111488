/**
 * The stand-in's `pulsar build`: turns a stand-in onnx model plus config.prototxt into a
 * simulator joint the board simulator runs (scripts/sim/model.ts), a model.lava_joint beside
 * it, the expanded output config and an inference report, logging like the real build.
 * With `score_compare_per_layer` and an error-measurement dataset it prints the per-layer
 * onnx-vs-lava score table, one row per onnx layer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePrototxt, type PtDocument } from '../../shared/parsers/prototxt';
import { hash4, unit } from '../sim/compute';
import type { InputSpec, JointDType, SimModel, TensorSpec } from '../sim/model';
import { writeModelFile } from '../sim/ready-models';
import { one, many, type ParsedArgs } from './args';
import { channelsOf, expandConfig, readBuildSettings, type BuildSettings } from './config';
import { standInVersion, type PulsarFaults } from './faults';
import { groupLayers, lavaPathFor, serializeLava, sha256 } from './lava';
import { PulsarLog, scoreRow, tabulateSimple } from './log';
import { parseOnnx, type FakeOnnxModel } from './onnx-model';
import { Fail, pythonError } from './fail';
import { makeFolderSync } from '../../shared/fs/atomic';

const NEUWIZARD = 'super_pulsar.toolchain_wrappers.wrapper_neuwizard';
const TOOLCHAIN = 'super_pulsar.toolchain_wrappers.wrapper_toolchain';
const BUILD = 'super_pulsar.func_wrappers.wrapper_pulsar_build';

export const BUILD_OPTIONS = {
  config: { kind: 'one' }, output_config: { kind: 'one' }, input: { kind: 'many' }, output: { kind: 'many' },
  calibration_batch_size: { kind: 'one' }, compile_batch_size: { kind: 'many' }, batch_size_option: { kind: 'one' },
  output_dir: { kind: 'one' }, virtual_npu: { kind: 'one' }, input_tensor_color: { kind: 'one' },
  output_tensor_color: { kind: 'one' }, output_tensor_layout: { kind: 'one' }, color_std: { kind: 'one' },
  target_hardware: { kind: 'one' }, enable_progress_bar: { kind: 'flag' },
} as const;

export function pulsarBuild(args: ParsedArgs, faults: PulsarFaults, log: PulsarLog): number {
  const configFile = one(args, 'config');
  if (!configFile) throw new Fail(2, 'pulsar build: error: the following arguments are required: --config');
  const doc = readConfig(configFile);
  const configDir = path.dirname(path.resolve(configFile));
  const inputPath = many(args, 'input')[0] ?? configPath(doc, 'input_path', configDir);
  const outputPath = many(args, 'output')[0] ?? configPath(doc, 'output_path', configDir);
  if (!inputPath || !outputPath) throw new Fail(2, 'pulsar build: error: give --input and --output (or input_path/output_path in the config)');
  const outputDir = path.resolve(one(args, 'output_dir') ?? '.');
  const settings = readBuildSettings(doc, {
    targetHardware: one(args, 'target_hardware'),
    virtualNpu: one(args, 'virtual_npu'),
    outputTensorLayout: one(args, 'output_tensor_layout'),
    inputTensorColor: one(args, 'input_tensor_color'),
    compileBatchSize: args.options.has('compile_batch_size') ? many(args, 'compile_batch_size') : undefined,
  });

  log.raw('[W Context.cpp:69] Warning: torch.set_deterministic is in beta, and its design and  functionality may change in the future. (function operator())');
  log.frozen('super_pulsar.proto.configuration_super_pulsar_manip', 229, `set task task_0's pulsar_conf.output_dir as ${outputDir}`);
  log.frozen(BUILD, 28, 'planning task task_0');
  log.frozen(BUILD, 334, `${'#'.repeat(36)} Running task task_0 ${'#'.repeat(36)}`);
  log.frozen(NEUWIZARD, 31, 'python3 /root/python_modules/super_pulsar/super_pulsar/toolchain_wrappers/wrapper_neuwizard.py --config /tmp/tmpa18v1l0m.prototxt');

  const onnxBytes = readInput(inputPath);
  const parsed = parseOnnx(onnxBytes);
  if (!parsed.ok) throw pythonError(NEUWIZARD, 37, `onnx.onnx_cpp2py_export.checker.ValidationError: Unable to parse ${inputPath}: ${parsed.reason}`);
  const onnx = parsed.model;
  log.frozen(NEUWIZARD, 37, `DBG [neuwizard] ONNX Model Version 7 for "${path.resolve(inputPath)}"`);
  for (const p of settings.calibrationPaths) {
    if (!fs.existsSync(path.resolve(configDir, p)) && !fs.existsSync(path.resolve(p))) {
      throw pythonError(NEUWIZARD, 37, `FileNotFoundError: [Errno 2] No such file or directory: '${p}'`);
    }
  }
  if (settings.calibrationPaths.length === 0) log.frozen(NEUWIZARD, 37, 'WARNING [neuwizard] no calibration dataset configured, calibrating on dummy data');
  if (faults.buildFail) throw pythonError(NEUWIZARD, 45, 'RuntimeError: neuwizard killed by SIGKILL');

  const quantLossAt = quantLossIndex(onnx, faults);
  if (settings.perLayer) printLayerScores(log, path.basename(inputPath), onnx, settings, quantLossAt);

  const model = toJoint(onnx, settings);
  const outputConfig = one(args, 'output_config');
  for (const file of [outputPath, outputConfig]) if (file) makeFolderSync(path.dirname(path.resolve(file)));
  writeModelFile(model, outputPath);
  const lavaPath = lavaPathFor(outputPath);
  const lava = {
    model, jointSha256: sha256(fs.readFileSync(outputPath)), onnxSha256: sha256(onnxBytes),
    quantLoss: quantLossAt !== null, compileLoss: faults.compileLoss, mapping: groupLayers(onnx.layers),
  };
  fs.writeFileSync(lavaPath, serializeLava(lava));
  log.frozen(TOOLCHAIN, 482, `File saved: ${path.resolve(lavaPath)}`);
  if (outputConfig) {
    const v = standInVersion();
    fs.writeFileSync(outputConfig, expandConfig({
      doc, settings, onnx, onnxPath: path.resolve(inputPath), jointPath: path.resolve(outputPath), outputDir,
      producer: `pulsar build ${v.version} (axctl stand-in)`,
    }));
  }
  writeInferenceReport(outputDir, model);
  log.frozen(TOOLCHAIN, 482, `File saved: ${path.resolve(outputPath)}`);
  log.frozen(TOOLCHAIN, 489, 'DBG cleared /root/tmpxd2caw3b');
  return 0;
}

function readConfig(file: string): PtDocument {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw pythonError('super_pulsar.proto.configuration_super_pulsar_manip', 88, `FileNotFoundError: [Errno 2] No such file or directory: '${file}'`);
  }
  try {
    return parsePrototxt(text, file);
  } catch (err) {
    const e = err as { line?: number; column?: number; message: string };
    throw pythonError('super_pulsar.proto.configuration_super_pulsar_manip', 91,
      `google.protobuf.text_format.ParseError: ${e.line ?? 0}:${e.column ?? 0} : ${e.message.replace(/^[^:]*:\d+:\d+: /, '')}`);
  }
}

function readInput(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw pythonError(NEUWIZARD, 37, `FileNotFoundError: [Errno 2] No such file or directory: '${file}'`);
  }
}

function configPath(doc: PtDocument, field: string, dir: string): string | undefined {
  const f = doc.fields.find((x) => x.name === field);
  return f && f.value.kind === 'string' ? path.resolve(dir, f.value.value) : undefined;
}

function quantLossIndex(onnx: FakeOnnxModel, faults: PulsarFaults): number | null {
  if (faults.quantLoss === null) return null;
  if (faults.quantLoss === '') return Math.floor(onnx.layers.length / 2);
  const at = onnx.layers.indexOf(faults.quantLoss);
  if (at < 0) throw new Fail(2, `pulsar-sim: AXPULSAR_FAULT quant-loss=${faults.quantLoss}: the model has no such layer (layers: ${onnx.layers.join(', ')})`);
  return at;
}

/** onnx vs lava per layer: near 1 and slowly falling; from a quantization-loss layer on, below 0.98. */
function printLayerScores(log: PulsarLog, onnxName: string, onnx: FakeOnnxModel, settings: BuildSettings, lossAt: number | null): void {
  if (!settings.errorMeasurement) {
    log.frozen(NEUWIZARD, 52, 'WARNING [neuwizard] score_compare_per_layer needs dataset_conf_error_measurement; layer-wise compare skipped');
    return;
  }
  const rows = onnx.layers.map((layer, i) => {
    const jitter = (unit(hash4(onnx.seed, 0x1a3e, i, 0)) + 1) * 0.0001;
    const cos = lossAt !== null && i >= lossAt
      ? Math.max(0.8, 0.975 - 0.012 * (i - lossAt) - jitter)
      : 0.99995 - (0.0003 * i) / Math.max(1, onnx.layers.length) - jitter;
    return scoreRow(layer, Math.sqrt(Math.max(0, 2 - 2 * cos)) * 100, cos);
  });
  log.frozen('super_pulsar.func_wrappers.pulsar_run.compare', 97, `###### Comparing ${onnxName} and model.lava_joint layer by layer ######`);
  log.frozen('super_pulsar.func_wrappers.pulsar_run.compare', 82, 'Score compare table:');
  log.lines(tabulateSimple(rows));
}

const OUTPUT_DTYPE: Record<BuildSettings['outputType'], JointDType> = {
  float32: 'float32', sint16: 'sint16', sint8: 'sint8', uint8: 'uint8', uint16: 'uint16',
};
/** Dynamic Q the "calibration" picks when quantization_value is not set. */
const DYNAMIC_Q: Record<BuildSettings['outputType'], number> = { float32: 0, sint16: 512, sint8: 32, uint8: 32, uint16: 512 };

export function toJoint(onnx: FakeOnnxModel, s: BuildSettings): SimModel {
  const v = standInVersion();
  const inputs: InputSpec[] = onnx.inputs.map((input) => {
    const c = channelsOf(input.shape, input.layout);
    const [h, w] = input.layout === 'NCHW' ? [input.shape[2], input.shape[3]] : [input.shape[1], input.shape[2]];
    if (s.floatInput(input.name)) return { name: input.name, shape: [s.batch, h, w, c], layout: 'NHWC', dtype: 'float32', colorSpace: 'FeatureMap', memory: 'Physical' };
    const colour = s.colourOf(input.name, c);
    if (colour === 'NV12' || colour === 'NV21') return { name: input.name, shape: [s.batch, (h * 3) / 2, w, 1], layout: 'NHWC', dtype: 'uint8', colorSpace: colour, memory: 'Physical' };
    const cs = colour === 'BGR0' ? 'BGR' : colour;
    return { name: input.name, shape: [s.batch, h, w, colour === 'BGR0' ? 4 : c], layout: 'NHWC', dtype: 'uint8', colorSpace: cs, memory: 'Physical' };
  });
  const outputs: TensorSpec[] = onnx.outputs.map((o) => {
    const shape = [s.batch, ...o.shape.slice(1)];
    const nhwc = s.outputLayout === 'NHWC' && shape.length === 4 ? [shape[0], shape[2], shape[3], shape[1]] : shape;
    const dtype = OUTPUT_DTYPE[s.outputType];
    return { name: o.name, shape: nhwc, layout: s.outputLayout, dtype, memory: 'Physical', q: s.outputType === 'float32' ? 0 : s.outputQ || DYNAMIC_Q[s.outputType] };
  });
  const elements = inputs.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const coreUs = 300 + Math.round(elements / 8);
  return {
    toolsVersion: v.version,
    toolsHash: v.commit,
    npuType: s.npu,
    quantization: s.quantization,
    maxBatchSize: s.batch,
    dynamicBatch: false,
    filterMode: false,
    seed: onnx.seed,
    inputs,
    outputs,
    profile: {
      createHandleUs: 250_000 + elements * 3,
      components: [{ type: 'neu', coreUs, overheadUs: 10, initUs: 8_000 + elements }],
      cmmUsage: 1_048_576 + elements * 16,
      perfCntTotal: coreUs * 775,
      perfCntEu: [coreUs * 470, 0, 0, coreUs * 489, 0],
    },
  };
}

function writeInferenceReport(outputDir: string, model: SimModel): void {
  const dir = path.join(outputDir, 'inference_report', 'part_0.lava');
  makeFolderSync(dir);
  const neu = model.profile.components[0];
  fs.writeFileSync(path.join(dir, 'inference_report.log'),
    `# inference report (axctl stand-in)\ntot_cyc: ${model.profile.perfCntTotal}\ncore_us: ${neu.coreUs}\ntotal_io_data_size: ${model.profile.cmmUsage}\n`);
}
