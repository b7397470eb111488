/**
 * The readable form of an inspect report (the default output; --json prints the report
 * itself). Sections appear only when the file has something for them.
 */
import { formatShape } from '../../shared/tensor/shape';
import type {
  GtFolderReport, GtTensorReport, InspectReport, PrototxtReport, PulsarRunReport, RunJointReport, TensorReport,
} from './report';
import type { RunJointTensor } from '../../shared/parsers/run-joint-types';

const yesNo = (b: boolean | null) => (b === null ? '?' : b ? 'yes' : 'no');
const orQ = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
const ms = (v: number | null) => (v === null ? '?' : v.toFixed(2));

function section(title: string, lines: string[]): string[] {
  return lines.length ? [title, ...lines.map((l) => `  ${l}`)] : [];
}

function tensorLine(t: RunJointTensor): string {
  const type = [t.layout, t.dtype, t.colorSpace, t.q === null ? null : `Q=${t.q}`].filter((x) => x !== null).join(' ');
  return `[${t.index}] ${t.name}  ${formatShape(t.shape)} ${type}  ${orQ(t.memory)} ${orQ(t.size)} bytes`;
}

function renderRunJoint(r: RunJointReport): string[] {
  const t = r.timing;
  const h = t.createHandle;
  const timing = [
    h ? `create handle ${ms(h.totalMs)} ms (neu ${ms(h.neuMs)}, onnx ${ms(h.onnxMs)}, axe ${ms(h.axeMs)}, overhead ${ms(h.overheadMs)} ms)` : null,
    t.runUs !== null ? `run ${t.runUs} us per inference (average of ${t.rounds} round${t.rounds === 1 ? '' : 's'})` : 'run: no timing (the run did not finish or the log is cut short)',
    ...t.components.map((c) => `  ${c.name} ${c.avgUs} us (overhead ${orQ(c.overheadUs)} us)`),
    t.npuPerf ? `NPU perf cnt total ${t.npuPerf.total}; eu ${t.npuPerf.eu.join(' ')}` : null,
    r.cmmUsage !== null ? `CMM usage ${r.cmmUsage} bytes` : null,
  ].filter((l): l is string => l !== null);
  return [
    `run_joint log ${r.file}`,
    `  run_joint ${orQ(r.version)}, tools ${orQ(r.toolsVersion)}${r.toolsCommit ? ` (${r.toolsCommit})` : ''}, npu mode ${orQ(r.npuMode)}, wbt ${orQ(r.wbt)}`,
    `  quantization ${orQ(r.quantization)}, batch size ${orQ(r.batchSize)} (max ${orQ(r.maxBatchSize)}, dynamic ${yesNo(r.dynamicBatch)}), filter mode ${yesNo(r.filterMode)}`,
    ...section('inputs', r.inputs.map(tensorLine)),
    ...section('outputs', r.outputs.map(tensorLine)),
    ...section('inputs not fed from a file (the outputs of this run mean nothing)', r.fallbacks.map((f) =>
      `input[${f.index}] ${f.name}: ${f.reason === 'not-provided' ? 'no file given' : `${f.file} ${f.reason === 'size-wrong' ? 'has the wrong size' : 'could not be read'}`}, ${f.fill === 'random' ? 'random data' : 'default value'} used`)),
    ...section('dumps', r.dumps.map((d) => `output[${d.index}] ${d.name} → ${d.path ?? '(none)'} ${d.status}`)),
    ...section('timing', timing),
    ...section('assertions', r.assertions),
    ...section('errors', r.errors),
    ...section('problems', r.problems.map((p) => `line ${p.line}: ${p.message}`)),
    ...section('other lines', r.unrecognized.map((u) => `line ${u.line}: ${u.text}`)),
  ];
}

function renderPulsar(r: PulsarRunReport): string[] {
  const width = Math.max(5, ...r.scores.map((s) => s.layer.length));
  return [
    `pulsar run log ${r.file}`,
    ...section('scores', r.scores.map((s) =>
      `${s.layer.padEnd(width)}  2-norm RE ${s.relErr2Percent.toFixed(2).padStart(7)}%  cosine ${s.cosine.toFixed(4)}${s.target ? `  (${s.reference} vs ${s.target})` : ''}`)),
    ...(r.worstCosine !== null ? [`  worst cosine ${r.worstCosine.toFixed(4)}${r.worstCosine < 0.98 ? ' (below 0.98: the compiled model lost precision)' : ''}`] : []),
    ...(r.scores.length === 0 ? ['  no score table (pulsar run did not get to the comparison)'] : []),
    ...section('dumps', r.dumps.map((d) => `${d.name} → ${d.path}`)),
    ...section('problems', r.problems.map((p) => `line ${p.line}: ${p.message}`)),
  ];
}

function renderPrototxt(r: PrototxtReport): string[] {
  const plain = (v: unknown) => JSON.stringify(v);
  return [
    `prototxt ${r.file} (${r.fieldCount} top-level fields)`,
    ...(r.targetHardware ? [`  target hardware ${r.targetHardware}`] : []),
    ...section('dst_input_tensors', r.dstInputTensors.map(plain)),
    ...section('input_normalization', r.normalization.map((n) =>
      `${n.input ?? '(all inputs)'}: mean ${plain(n.mean)} std ${plain(n.std)}  (line ${n.line})`)),
    ...section('dataset_conf_calibration', r.calibration === null ? [] : [plain(r.calibration)]),
    ...section('dst_output_tensors', r.dstOutputTensors.map(plain)),
  ];
}

function renderTensor(r: TensorReport): string[] {
  const s = r.stats;
  const num = (v: number | null) => (v === null ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(7));
  return [
    `${r.kind === 'npy' ? '.npy' : 'raw .bin'} ${r.file}`,
    `  ${r.dtype} ${formatShape(r.shape)}  ${r.length} elements, ${r.bytes} bytes (dtype and shape from ${r.specFrom})`,
    `  min ${num(s.min)}  max ${num(s.max)}  mean ${num(s.mean)}`,
    ...(s.nanCount || s.infCount ? [`  ${s.nanCount} NaN, ${s.infCount} ±Inf (left out of min/max/mean)`] : []),
    `  ${s.zeroCount} zeros`,
  ];
}

function gtLine(t: GtTensorReport): string {
  const files = [t.bin ? '.bin' : null, t.npy ? '.npy' : null].filter(Boolean).join('+');
  const spec = t.dtype ? `${t.dtype} ${formatShape(t.shape ?? [])}` : 'dtype unknown';
  return `${t.fileBase}  ${spec}  ${files}${t.binMatchesNpy === false ? '  (.bin and .npy disagree)' : ''}`;
}

function renderGt(r: GtFolderReport): string[] {
  return [
    `gt folder ${r.dir} (${r.layout === 'input-output' ? 'older input/output layout' : 'input/joint/onnx layout'})`,
    ...section('input', r.inputs.map(gtLine)),
    ...(r.filenameTxt ? [`  filename.txt: ${r.filenameTxt.join(', ')}`] : []),
    ...section('joint (simulated model.joint)', r.joint.map(gtLine)),
    ...section('onnx (float reference)', r.onnx.map(gtLine)),
    ...section('output', r.output.map(gtLine)),
    ...section('problems', r.problems.map((p) => `${p.file}: ${p.message}`)),
  ];
}

export function renderReport(report: InspectReport): string {
  const lines = (() => {
    switch (report.kind) {
      case 'run_joint-log': return renderRunJoint(report);
      case 'pulsar-run-log': return renderPulsar(report);
      case 'prototxt': return renderPrototxt(report);
      case 'npy':
      case 'bin': return renderTensor(report);
      case 'gt-folder': return renderGt(report);
    }
  })();
  return `${lines.join('\n')}\n`;
}
