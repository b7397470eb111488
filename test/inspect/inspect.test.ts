import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { inspectPath } from '../../host/inspect/inspect';
import { parseInspectOptions, parseShapeOption } from '../../host/inspect/options';
import { renderReport } from '../../host/inspect/render';
import { writeNpy } from '../../shared/tensor/npy';
import type { GtFolderReport, PrototxtReport, PulsarRunReport, RunJointReport, TensorReport } from '../../host/inspect/report';

const fixtures = path.join(__dirname, '../fixtures/parsers');
const fx = (name: string) => path.join(fixtures, name);
let tmp: string;

async function failure(file: string, opts = {}): Promise<AxError> {
  try {
    await inspectPath(file, opts);
  } catch (err) {
    if (err instanceof AxError) return err;
    throw err;
  }
  throw new Error(`expected inspect of ${file} to fail`);
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-inspect-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('inspectPath recognises each kind by content', () => {
  it('a run_joint log saved under any name', async () => {
    const renamed = path.join(tmp, 'capture.txt');
    copyFileSync(fx('ax620-resnet18-8bit.log'), renamed);
    const r = (await inspectPath(renamed)) as RunJointReport;
    expect(r.kind).toBe('run_joint-log');
    expect(r.version).toBe('0.5.10');
    expect(r.timing).toMatchObject({ runUs: 5415, rounds: 99, components: [{ name: 'NEU', avgUs: 5378, overheadUs: 10 }] });
  });

  it('a pulsar run log', async () => {
    const r = (await inspectPath(fx('pulsar-run-resnet18.log'))) as PulsarRunReport;
    expect(r.kind).toBe('pulsar-run-log');
    expect(r.worstCosine).toBe(0.9989);
    expect(r.dumps).toHaveLength(2);
  });

  it('a prototxt, by extension or by content, with its checklist facts', async () => {
    const r = (await inspectPath(fx('config-resnet18.prototxt'))) as PrototxtReport;
    expect(r.kind).toBe('prototxt');
    expect(r.targetHardware).toBe('TARGET_HARDWARE_AX620');
    expect(r.dstInputTensors).toEqual([{ color_space: 'TENSOR_COLOR_SPACE_RGB' }]);
    expect(r.normalization).toEqual([{ input: null, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], line: 41 }]);
    expect(r.calibration).toMatchObject({ calibration_strategy: 'CALIB_STRATEGY_PER_TENSOR', size: 256 });
    const plain = path.join(tmp, 'config.cfg');
    copyFileSync(fx('config-yolo-int16-multi-input.prototxt'), plain);
    const byContent = (await inspectPath(plain)) as PrototxtReport;
    expect(byContent.kind).toBe('prototxt');
    expect(byContent.dstOutputTensors).toEqual([{ tensor_layout: 'NHWC', data_type: 'INT16', quantization_value: 256 }]);
    expect(byContent.normalization[0].input).toBe('images');
  });

  it('an .npy, with stats from one pass', async () => {
    const r = (await inspectPath(fx('gt-small/joint/_head_fc.npy'))) as TensorReport;
    expect(r).toMatchObject({ kind: 'npy', dtype: 'float32', shape: [1, 10], length: 10, bytes: 40, specFrom: 'header' });
    expect(r.stats).toMatchObject({ count: 10, min: -2, max: 4, nanCount: 0, infCount: 0, zeroCount: 2 });
    expect(r.stats.mean).toBeCloseTo(0.675, 6);
  });

  it('a .bin described by its .npy twin, by options, or by both', async () => {
    const twin = (await inspectPath(fx('gt-small/input/data.bin'))) as TensorReport;
    expect(twin).toMatchObject({ kind: 'bin', dtype: 'uint8', shape: [1, 4, 4, 3], specFrom: 'npy-twin' });
    expect(twin.stats).toMatchObject({ min: 0, max: 235, mean: 117.5 });
    const given = (await inspectPath(fx('gt-old/output/output.bin'), { dtype: 'float32', shape: [10] })) as TensorReport;
    expect(given).toMatchObject({ dtype: 'float32', shape: [10], specFrom: 'options' });
    const flat = (await inspectPath(fx('gt-old/output/output.bin'), { dtype: 'int16' })) as TensorReport;
    expect(flat).toMatchObject({ dtype: 'int16', shape: [20], specFrom: 'options (flat)' });
  });

  it('--dtype wins over an .npy twin of another dtype (packed RAW read as its bytes)', async () => {
    // data.npy says uint8 [1, 4, 4, 3]: with --dtype uint16 its shape would need 96 of the 48 bytes.
    const other = (await inspectPath(fx('gt-small/input/data.bin'), parseInspectOptions({ dtype: 'uint16' }))) as TensorReport;
    expect(other).toMatchObject({ dtype: 'uint16', shape: [24], specFrom: 'options (flat)' });
    const same = (await inspectPath(fx('gt-small/input/data.bin'), parseInspectOptions({ dtype: 'uint8' }))) as TensorReport;
    expect(same).toMatchObject({ dtype: 'uint8', shape: [1, 4, 4, 3], specFrom: 'options+npy-twin' });
    // 16 camera-RAW pixels of 10 bits are 20 bytes; a twin of the unpacked uint16 [1, 4, 4] beside them.
    const file = path.join(tmp, 'raw10.bin');
    writeFileSync(file, Buffer.alloc(20, 7));
    await writeNpy(path.join(tmp, 'raw10.npy'), 'uint16', [1, 4, 4], new Uint16Array(16));
    const packed = (await inspectPath(file, parseInspectOptions({ dtype: 'uint10_packed' }))) as TensorReport;
    expect(packed).toMatchObject({ dtype: 'uint8', shape: [20], bytes: 20, specFrom: 'options (flat)' });
  });

  it('counts NaN and Inf apart from min/max/mean', async () => {
    const file = path.join(tmp, 'nan.bin');
    writeFileSync(file, Buffer.from(new Float32Array([1, NaN, Infinity, 3, -Infinity]).buffer));
    const r = (await inspectPath(file, { dtype: 'float32' })) as TensorReport;
    expect(r.stats).toEqual({ count: 5, min: 1, max: 3, mean: 2, nanCount: 1, infCount: 2, zeroCount: 0 });
  });

  it('a gt folder, checking .bin against .npy and joint against onnx', async () => {
    const r = (await inspectPath(fx('gt-small'))) as GtFolderReport;
    expect(r.kind).toBe('gt-folder');
    expect(r.layout).toBe('input-joint-onnx');
    expect(r.filenameTxt).toEqual(['images/cat.jpg']);
    expect(r.inputs).toEqual([{
      tensorName: 'data', fileBase: 'data', bin: fx('gt-small/input/data.bin'), npy: fx('gt-small/input/data.npy'),
      dtype: 'uint8', shape: [1, 4, 4, 3], binBytes: 48, binMatchesNpy: true,
    }]);
    expect(r.joint.map((t) => [t.fileBase, t.dtype, t.shape])).toEqual([['_head_fc', 'float32', [1, 10]]]);
    expect(r.problems).toEqual([]);
    const old = (await inspectPath(fx('gt-old'))) as GtFolderReport;
    expect(old.layout).toBe('input-output');
    expect(old.output[0]).toMatchObject({ fileBase: 'output', binBytes: 40, dtype: null, binMatchesNpy: null });
  });
});

describe('inspectPath refuses what it cannot read, naming the file', () => {
  const cases: Array<[string, () => string, object, string, RegExp]> = [
    ['an empty file', () => writeTmp('empty.log', ''), {}, 'INSPECT_EMPTY_FILE', /empty\.log: is empty \(0 bytes\)/],
    ['binary garbage named .log', () => writeTmp('garbage.log', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131) % 256))), {}, 'INSPECT_NOT_TEXT', /garbage\.log: holds binary data/],
    ['text of no known kind', () => writeTmp('notes.txt', 'hello there\nnothing to see\n'), {}, 'INSPECT_UNKNOWN_KIND', /notes\.txt: is not a run_joint log/],
    ['a .prototxt with a syntax error', () => writeTmp('bad.prototxt', 'a {\n  b: 1\n'), {}, 'PROTOTXT_SYNTAX', /bad\.prototxt:3:1: missing '\}'/],
    ['a .bin with no dtype anywhere', () => writeTmp('lone.bin', Buffer.alloc(8)), {}, 'INSPECT_BIN_NEEDS_DTYPE', /lone\.bin: is raw tensor data/],
    ['a .bin whose size does not fit', () => writeTmp('odd.bin', Buffer.alloc(10)), { dtype: 'float32', shape: [3] }, 'BIN_SIZE_MISMATCH', /odd\.bin: is 10 bytes/],
    ['a folder that is not a gt folder', () => tmp, {}, 'GT_NO_INPUT', /is not a gt folder/],
    ['a missing path', () => path.join(tmp, 'missing.log'), {}, 'FILE_NOT_FOUND', /missing\.log: no such file/],
    ['--dtype on a log', () => fx('ax620-resnet18-8bit.log'), { dtype: 'float32' }, 'INSPECT_OPTION_NOT_APPLICABLE', /--dtype and --shape apply to tensor files only/],
  ];
  it.each(cases)('%s', async (_name, make, opts, code, message) => {
    const err = await failure(make(), opts);
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(2);
    expect(err.describe()).toMatch(message);
    expect(err.describe()).not.toMatch(/--log/);
  });
});

function writeTmp(name: string, data: string | Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, data);
  return file;
}

describe('options and rendering', () => {
  it('parses --shape in the usual spellings and refuses others', () => {
    expect(parseShapeOption('1,3,224,224')).toEqual([1, 3, 224, 224]);
    expect(parseShapeOption('1x1000')).toEqual([1, 1000]);
    expect(parseShapeOption('[1, 1000]')).toEqual([1, 1000]);
    expect(parseShapeOption('[]')).toEqual([]);
    expect(() => parseShapeOption('1,-3')).toThrow(/--shape '1,-3' is not a list of whole numbers/);
    expect(parseInspectOptions({ dtype: 'sint8' })).toEqual({ dtype: 'int8' });
  });

  it('renders a run_joint report with its fallbacks, dumps and Q values', async () => {
    const text = renderReport(await inspectPath(fx('ax630-yolo-q-values.log')));
    expect(text).toContain('[1] im_info/scale  [1, 4] NHWC float32 FeatureMap Q=256  Virtual 16 bytes');
    expect(text).toContain('input[0] images: /tmp/in/images.bin has the wrong size, random data used');
    expect(text).toContain('output[2] scores → (none) none');
    expect(text).toContain('run 18230 us per inference (average of 1 round)');
  });

  it('renders a failed run without timing and with its assertion', async () => {
    const text = renderReport(await inspectPath(fx('ax620-assert.log')));
    expect(text).toContain('run: no timing');
    expect(text).toMatch(/assertions\n {2}run_joint: .*Assertion `AX_ERR_NPU_JOINT_SUCCESS/);
  });

  it('renders a gt folder that has problems', async () => {
    const gt = path.join(tmp, 'gt-bad');
    for (const sub of ['input', 'joint', 'onnx']) mkdirSync(path.join(gt, sub), { recursive: true });
    copyFileSync(fx('gt-small/input/data.npy'), path.join(gt, 'input/data.npy'));
    writeFileSync(path.join(gt, 'input/data.bin'), Buffer.alloc(47));
    writeFileSync(path.join(gt, 'joint/out.npy'), 'not numpy at all');
    copyFileSync(fx('gt-small/onnx/_head_fc.npy'), path.join(gt, 'onnx/_head_fc.npy'));
    const report = (await inspectPath(gt)) as GtFolderReport;
    expect(report.problems.map((p) => path.relative(gt, p.file))).toEqual(['input/data.bin', 'joint/out.npy', '', '']);
    const text = renderReport(report);
    expect(text).toContain('data  uint8 [1, 4, 4, 3]  .bin+.npy  (.bin and .npy disagree)');
    expect(text).toContain('joint/out has no onnx/ counterpart');
    expect(text).toContain('onnx/_head_fc has no joint/ counterpart');
    expect(text).toMatch(/joint\/out\.npy: is not a \.npy file/);
  });
});
