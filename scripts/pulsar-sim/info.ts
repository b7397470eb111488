/**
 * The stand-in's `pulsar info MODEL [--layer_mapping]`: the model's I/O table and summary in
 * the format of the docs' resnet18 example, and with --layer_mapping a table of ORIGIN_NAMES
 * (onnx layers) and LAVA_NAMES (compiled layers). Like joints from toolchains up to 0.6.1.2,
 * a joint whose build metadata (its model.lava_joint) cannot be found has no onnx layer names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel, tensorSize, type SimModel } from '../sim/model';
import { flag, one, type ParsedArgs } from './args';
import { Fail, pythonError } from './fail';
import { findLavaOfJoint, parseLava, type LayerGroup } from './lava';
import { PulsarLog, tabulateSimple } from './log';

export const INFO_OPTIONS = {
  output: { kind: 'one' }, output_json: { kind: 'one' }, layer_mapping: { kind: 'flag' },
  performance: { kind: 'flag' }, part_info: { kind: 'flag' }, tablefmt: { kind: 'one' },
} as const;

const INFO = 'wrapper_pulsar_info.py';

export function pulsarInfo(args: ParsedArgs, log: PulsarLog): number {
  const [file, ...rest] = args.positionals;
  if (!file || rest.length > 0) throw new Fail(2, 'pulsar info: error: the following arguments are required: model');
  const tablefmt = one(args, 'tablefmt') ?? 'simple';
  if (tablefmt !== 'simple') throw new Fail(2, `pulsar-sim: --tablefmt ${tablefmt}: the stand-in prints only the default "simple" format`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw pythonError('super_pulsar.func_wrappers.wrapper_pulsar_info', 20, `FileNotFoundError: [Errno 2] No such file or directory: '${file}'`);
  }
  const lavaOwn = file.toLowerCase().endsWith('.lava_joint') ? parseLava(bytes) : null;
  const parsed = lavaOwn ? { ok: true as const, model: lavaOwn.model } : parseModel(bytes);
  if (!parsed.ok) throw pythonError('super_pulsar.func_wrappers.wrapper_pulsar_info', 24, `RuntimeError: cannot read ${file}: ${parsed.reason}`);
  const model = parsed.model;
  log.raw(`[${stamp()} ${INFO}:32] Information of ${path.basename(file)}:`);
  log.raw('IO Meta Info:');
  log.lines(tabulateSimple(ioRows(model), ['NAME', 'I/O?', 'SHAPE', 'DTYPE', 'LAYOUT']));
  log.raw('');
  const mb = (tensorsBytes(model) + model.profile.cmmUsage) / 1048576;
  log.raw(`Approx System Memory: ${mb.toFixed(2)} MB`);
  log.raw('Approx Standard Memory: 0 B');
  log.raw(`Approx Memory: ${mb.toFixed(2)} MB`);
  log.raw('');
  log.raw(`Virtual NPU: ${model.npuType === '1_1' ? 'AX620_VNPU_111' : 'AX620_VNPU_DISABLE'}`);
  log.raw(`${model.dynamicBatch ? 'Dynamic' : 'Static'} Batch: ${model.maxBatchSize || 1}`);
  log.raw(`Toolchain Version: ${model.toolsHash}`);
  if (flag(args, 'layer_mapping')) {
    const mapping = lavaOwn?.mapping ?? findLavaOfJoint(file, bytes)?.mapping;
    if (!mapping || mapping.length === 0) {
      throw pythonError('super_pulsar.func_wrappers.wrapper_pulsar_info', 58, 'KeyError: \'onnx_layer_name\' (Performance.txt of this joint has no onnx layer names; rebuild it with this toolchain)');
    }
    log.raw('');
    log.raw('Layer Mapping:');
    log.lines(tabulateSimple(mappingRows(mapping), ['ORIGIN_NAMES', 'LAVA_NAMES']));
  }
  return 0;
}

function ioRows(model: SimModel): string[][] {
  const row = (t: { name: string; shape: readonly number[]; dtype: string; layout: string }, io: string) =>
    [t.name, io, `[${t.shape.join(', ')}]`, t.dtype === 'sint8' ? 'int8' : t.dtype === 'sint16' ? 'int16' : t.dtype, t.layout];
  return [...model.inputs.map((t) => row(t, 'INPUT')), ...model.outputs.map((t) => row(t, 'OUTPUT'))];
}

function mappingRows(mapping: readonly LayerGroup[]): string[][] {
  return mapping.map((g) => [`[${g.onnx.map((n) => `'${n}'`).join(', ')}]`, g.lava]);
}

function tensorsBytes(model: SimModel): number {
  return [...model.inputs, ...model.outputs].reduce((n, t) => n + tensorSize(t), 0);
}

function stamp(now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(now.getDate())} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
}
