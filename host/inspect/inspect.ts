/**
 * The service behind `axctl inspect`: find out what a path holds and describe it. Parsing
 * lives in shared/parsers and shared/tensor; this file only picks the parser and shapes the
 * report. Bad input becomes a BadFileError/UsageError naming the file (exit 2).
 */
import { promises as fs } from 'node:fs';
import { BadFileError, UsageError } from '../../shared/errors';
import { statRegularFile } from '../../shared/fs/regular-file';
import { scanGtFolder, type GtFile } from '../../shared/parsers/gt-folder';
import { get, getAll, getScalars, parsePrototxt, PrototxtSyntaxError, toPlain, type PtMessage } from '../../shared/parsers/prototxt';
import { parsePulsarRunLog } from '../../shared/parsers/pulsar-run-log';
import { parseRunJointLog } from '../../shared/parsers/run-joint-log';
import { DTYPE_BYTES } from '../../shared/tensor/dtype';
import { readNpyHeader } from '../../shared/tensor/npy';
import { npyTwinPath, openTensor, twinSpec } from '../../shared/tensor/open';
import { detectKind } from './detect';
import type { InspectOptions } from './options';
import type {
  GtFolderReport, GtTensorReport, InspectReport, PrototxtReport, PulsarRunReport, RunJointReport, TensorReport,
} from './report';
import { tensorStats } from './tensor-stats';

export async function inspectPath(file: string, options: InspectOptions = {}): Promise<InspectReport> {
  const detected = await detectKind(file, options);
  if (detected.kind !== 'npy' && detected.kind !== 'bin' && (options.dtype !== undefined || options.shape !== undefined)) {
    throw new UsageError('INSPECT_OPTION_NOT_APPLICABLE', `--dtype and --shape apply to tensor files only, and ${file} is a ${detected.kind}`, {
      hint: 'leave them out',
    });
  }
  switch (detected.kind) {
    case 'gt-folder': return inspectGtFolder(file);
    case 'npy':
    case 'bin': return inspectTensor(file, detected.kind, options);
    case 'run_joint-log': return runJointReport(file, detected.text);
    case 'pulsar-run-log': return pulsarReport(file, detected.text);
    case 'prototxt': return prototxtReport(file, parsePrototxt(detected.text, file));
    case 'text': return inspectOtherText(file, detected.text);
  }
}

function runJointReport(file: string, text: string): RunJointReport {
  const log = parseRunJointLog(text);
  return {
    kind: 'run_joint-log', file,
    version: log.runJointVersion, toolsVersion: log.toolsVersion, toolsCommit: log.toolsCommit,
    npuMode: log.npuMode, wbt: log.wbt, quantization: log.quantization,
    maxBatchSize: log.maxBatchSize, dynamicBatch: log.dynamicBatch, filterMode: log.filterMode, batchSize: log.batchSize,
    inputs: log.inputs, outputs: log.outputs, fallbacks: log.fallbacks, dumps: log.dumps, cmmUsage: log.cmmUsage,
    timing: {
      createHandle: log.createHandle, runUs: log.run?.totalUs ?? null, rounds: log.run?.rounds ?? null,
      components: log.components, npuPerf: log.npuPerf,
    },
    assertions: log.assertions, errors: log.errors, problems: log.problems, unrecognized: log.unrecognized,
  };
}

function pulsarReport(file: string, text: string): PulsarRunReport {
  const log = parsePulsarRunLog(text);
  const cosines = log.scores.map((s) => s.cosine).filter((c) => !Number.isNaN(c));
  return { kind: 'pulsar-run-log', file, scores: log.scores, worstCosine: cosines.length ? Math.min(...cosines) : null, dumps: log.dumps, problems: log.problems };
}

const NORMALIZATION = ['attributes', 'input_modifications', 'input_normalization'];

function prototxtReport(file: string, doc: PtMessage): PrototxtReport {
  const target = get(doc, 'target_hardware');
  const calibration = get(doc, 'neuwizard_conf.dataset_conf_calibration');
  const normalization = getAll(doc, 'neuwizard_conf.operator_conf.input_conf_items').flatMap((item) => {
    if (item.kind !== 'message') return [];
    const norm = get(item, NORMALIZATION);
    if (!norm) return [];
    const opName = get(item, 'selector.op_name');
    return [{
      input: opName?.kind === 'string' ? opName.value : null,
      mean: getScalars(item, [...NORMALIZATION, 'mean']),
      std: getScalars(item, [...NORMALIZATION, 'std']),
      line: norm.line,
    }];
  });
  return {
    kind: 'prototxt', file, fieldCount: doc.fields.length,
    targetHardware: target && target.kind !== 'list' && target.kind !== 'message' ? String(target.value) : null,
    dstInputTensors: getAll(doc, 'dst_input_tensors').map(toPlain),
    normalization,
    calibration: calibration ? toPlain(calibration) : null,
    dstOutputTensors: getAll(doc, 'dst_output_tensors').map(toPlain),
    tree: toPlain(doc),
  };
}

/** Text that is no log: a prototxt without the usual extension, or nothing inspect knows. */
function inspectOtherText(file: string, text: string): PrototxtReport {
  let doc: PtMessage | null = null;
  try {
    doc = parsePrototxt(text, file);
  } catch (err) {
    if (!(err instanceof PrototxtSyntaxError)) throw err;
  }
  if (doc && doc.fields.length > 0) return prototxtReport(file, doc);
  throw new BadFileError('INSPECT_UNKNOWN_KIND', file, 'is not a run_joint log, a pulsar run log, a prototxt, an .npy or a .bin', {
    hint: 'inspect reads those and gt folders; a config with a syntax error is reported when named .prototxt',
  });
}

async function inspectTensor(file: string, kind: 'npy' | 'bin', options: InspectOptions): Promise<TensorReport> {
  let specFrom: TensorReport['specFrom'] = 'header';
  if (kind === 'bin') {
    if (options.dtype === undefined && !(await isFile(npyTwinPath(file)))) {
      throw new BadFileError('INSPECT_BIN_NEEDS_DTYPE', file, `is raw tensor data and has no ${npyTwinPath(file)} beside it to say its dtype`, {
        hint: 'pass --dtype (and --shape), e.g. --dtype float32 --shape 1,1000',
      });
    }
    // The same rule openTensor follows: a twin of another dtype than --dtype adds nothing.
    const fromTwin = (await twinSpec(file, options)).dtype !== undefined;
    const given = options.dtype !== undefined || options.shape !== undefined;
    specFrom = fromTwin ? (given ? 'options+npy-twin' : 'npy-twin') : options.shape !== undefined ? 'options' : 'options (flat)';
  }
  const src = await openTensor(file, options).catch((err: unknown) => {
    // The tensor layer's hints name options of other commands (--log); say what inspect takes.
    if (err instanceof BadFileError && (err.code === 'BIN_SIZE_MISMATCH' || err.code === 'TENSOR_NEEDS_SPEC')) {
      throw new BadFileError(err.code, err.file, err.message.slice(err.file.length + 2), {
        hint: 'pass the --dtype and --shape it was written with, e.g. --dtype float32 --shape 1,1000',
      });
    }
    throw err;
  });
  const { dtype, shape, length } = src.info;
  const stats = await tensorStats(src);
  return { kind, file, dtype, shape, length, bytes: length * DTYPE_BYTES[dtype], specFrom, stats };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function inspectGtFolder(dir: string): Promise<GtFolderReport> {
  const gt = await scanGtFolder(dir);
  // Each file reports its own problems so the list comes out in folder order, not finish order.
  const describe = (files: GtFile[]) => Promise.all(files.map(gtTensorReport));
  const groups = await Promise.all([describe(gt.inputs), describe(gt.joint), describe(gt.onnx), describe(gt.output)]);
  const [inputs, joint, onnx, output] = groups.map((g) => g.map((x) => x.report));
  const problems: GtFolderReport['problems'] = groups.flat().flatMap((x) => x.problems);
  if (gt.joint.length && gt.onnx.length) {
    const jointNames = new Set(gt.joint.map((f) => f.fileBase));
    const onnxNames = new Set(gt.onnx.map((f) => f.fileBase));
    for (const name of jointNames) if (!onnxNames.has(name)) problems.push({ file: dir, message: `joint/${name} has no onnx/ counterpart` });
    for (const name of onnxNames) if (!jointNames.has(name)) problems.push({ file: dir, message: `onnx/${name} has no joint/ counterpart` });
  }
  return { kind: 'gt-folder', dir, layout: gt.layout, inputs, joint, onnx, output, filenameTxt: gt.filenameTxt ?? null, problems };
}

type GtProblem = GtFolderReport['problems'][number];

async function gtTensorReport(f: GtFile): Promise<{ report: GtTensorReport; problems: GtProblem[] }> {
  const problems: GtProblem[] = [];
  let header = null;
  if (f.npy) {
    try {
      header = await readNpyHeader(f.npy);
    } catch (err) {
      // BadFileError messages start with the file, which the entry already names.
      const message = err instanceof BadFileError ? err.describe().slice(err.file.length + 2) : String(err);
      problems.push({ file: f.npy, message });
    }
  }
  let binBytes: number | null = null;
  if (f.bin) {
    binBytes = (await statRegularFile(f.bin)).size;
  }
  const binMatchesNpy = header && binBytes !== null ? header.dataBytes === binBytes : null;
  if (binMatchesNpy === false && header) {
    problems.push({ file: f.bin as string, message: `is ${binBytes} bytes but ${f.npy} describes ${header.dataBytes} bytes of data` });
  }
  const report: GtTensorReport = {
    tensorName: f.tensorName, fileBase: f.fileBase, bin: f.bin ?? null, npy: f.npy ?? null,
    dtype: header?.dtype ?? null, shape: header?.shape ?? null, binBytes, binMatchesNpy,
  };
  return { report, problems };
}
