/** The compare service in-process: pairing, dtype/shape sources, dequantizing, option checks. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { writeBin, writeNpy } from '../../shared/tensor';
import { runCompare } from '../../host/compare/compare';
import { parseCompareArgs, parseShape, type CompareArgs } from '../../host/compare/options';
import { listTensorFolder } from '../../host/compare/pairing';
import { reportTable } from '../../host/compare/render';
import { writeScenario } from './scenario';

let tmp: string;
const at = (...parts: string[]) => path.join(tmp, ...parts);
const request = (args: Partial<CompareArgs> & Pick<CompareArgs, 'reference' | 'compared'>) => parseCompareArgs({ stage: 'board', ...args });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AxError);
  return (err as AxError).code;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-compare-'));
  await writeScenario(tmp);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pairing', () => {
  it('prefers the .npy of a gt folder over the .bin of the same name', async () => {
    const dir = at('both');
    mkdirSync(dir);
    await writeNpy(path.join(dir, 'x.npy'), 'float32', [2], Float32Array.of(1, 2));
    await writeBin(path.join(dir, 'x.bin'), Float32Array.of(9, 9));
    await writeBin(path.join(dir, 'y.bin'), Float32Array.of(9, 9));
    const files = await listTensorFolder(dir);
    expect([...files.values()].map((f) => path.basename(f.path))).toEqual(['x.npy', 'y.bin']);
  });

  it('names the reference when neither side exists, every time (not whichever stat failed first)', async () => {
    for (let i = 0; i < 10; i++) {
      const err = await runCompare(request({ reference: at('missing-ref'), compared: at('missing-got') })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AxError);
      expect((err as AxError).code).toBe('FILE_NOT_FOUND');
      expect((err as AxError).message).toContain('missing-ref');
    }
  });

  it('refuses the same folder on both sides', async () => {
    expect(await codeOf(runCompare(request({ reference: at('out'), compared: at('out/') })))).toBe('COMPARE_SAME_FOLDER');
  });

  it('refuses --shape with folders', async () => {
    expect(await codeOf(runCompare(request({ reference: at('gt/joint'), compared: at('out'), shape: '1,10' })))).toBe('COMPARE_SHAPE_WITH_FOLDERS');
  });
});

describe('dtype, shape and Q sources', () => {
  it('a board dump borrows dtype and shape from the gt .npy it is compared with', async () => {
    const report = await runCompare(request({ reference: at('gt/joint/prob.npy'), compared: at('out/prob.bin') }));
    expect(report.outputs[0].got).toMatchObject({ dtype: 'float32', shape: [1, 10] });
    expect(report.pass).toBe(true);
  });

  it('with only --dtype given, a board dump still takes the shape of the gt .npy it is compared with', async () => {
    const dir = at('dtype-only');
    mkdirSync(path.join(dir, 'ref'), { recursive: true });
    mkdirSync(path.join(dir, 'got'), { recursive: true });
    const data = Int8Array.from({ length: 96 }, (_, i) => (i % 50) - 25);
    await writeNpy(path.join(dir, 'ref', 'cls.npy'), 'int8', [1, 4, 4, 6], data);
    await writeBin(path.join(dir, 'got', 'cls.bin'), data);
    const report = await runCompare(request({ reference: path.join(dir, 'ref'), compared: path.join(dir, 'got'), dtype: 'int8' }));
    expect(report.outputs[0].got).toMatchObject({ dtype: 'int8', shape: [1, 4, 4, 6] });
    expect(report.pass).toBe(true);
  });

  it('the log gives a .bin its dtype and shape by tensor name, / written as _', async () => {
    const report = await runCompare(request({ reference: at('out/_head_conv_out.bin'), compared: at('gt/joint/_head_conv_out.bin'), log: at('run_joint.log') }));
    expect(report.outputs[0].ref).toMatchObject({ dtype: 'int16', shape: [1, 2, 2, 3] });
    expect(report.outputs[0].comparison?.metrics?.exact).toBe(true);
  });

  it('--dtype/--shape win over the log', async () => {
    const report = await runCompare(
      request({ reference: at('gt/joint/logits_q.bin'), compared: at('out/logits_q.bin'), log: at('run_joint.log'), dtype: 'uint8', shape: '10' }),
    );
    expect(report.outputs[0].ref).toMatchObject({ dtype: 'uint8', shape: [10] });
  });

  it('without Q an integer side is compared by value, with a note', async () => {
    const report = await runCompare(request({ reference: at('gt/onnx/logits_q.npy'), compared: at('gt/joint/logits_q.npy'), stage: 'compile' }));
    expect(report.outputs[0].q).toBeNull();
    expect(report.outputs[0].notes.join()).toMatch(/dequantize it first/);
  });

  it('--q is noted as not applied when both sides are integer, which stay bit-exact', async () => {
    const report = await runCompare(request({ reference: at('gt/joint/logits_q.npy'), compared: at('out/logits_q.bin'), q: 16 }));
    expect(report.outputs[0]).toMatchObject({ q: null, pass: true });
    expect(report.outputs[0].comparison?.tolerance).toMatchObject({ atol: 0, rtol: 0 });
    expect(report.outputs[0].notes[0]).toMatch(/--q 16 not applied: both sides are integer/);
  });

  it('dequantizes the reference side when it is the integer one', async () => {
    const report = await runCompare(request({ reference: at('gt/joint/logits_q.npy'), compared: at('gt/onnx/logits_q.npy'), q: 16, stage: 'compile' }));
    expect(report.outputs[0].q).toBe(16);
    expect(report.outputs[0].notes[0]).toMatch(/reference side dequantized: integer \/ 16/);
    expect(report.outputs[0].comparison?.metrics?.cosine).toBeGreaterThan(0.999);
  });
});

describe('what the run_joint log says about the run', () => {
  it('a run on random input data, or an output run_joint did not dump, fails even when the files match', async () => {
    const text = readFileSync(at('run_joint.log'), 'utf8');
    writeFileSync(
      at('random.log'),
      text
        .replace('Using batch size 1\n', 'Using batch size 1\nread file gt/input/data.bin for input[0] data data size wrong, using random data\n')
        .replace('dump output[1] prob as out/prob.bin success', 'dump output[1] prob as out/prob.bin failed'),
    );
    writeFileSync(at('nodump.log'), text.replace('dump output[1] prob as out/prob.bin success', 'dump output[1] prob as out/prob.bin failed'));
    // Both folders hold the same data: without the log these pass.
    expect((await runCompare(request({ reference: at('gt/joint'), compared: at('out') }))).pass).toBe(true);
    const random = await runCompare(request({ reference: at('gt/joint'), compared: at('out'), log: at('random.log') }));
    expect(random.pass).toBe(false);
    expect(random.outputs.every((o) => o.reasons.some((r) => /input\[0\] data with random data/.test(r)))).toBe(true);
    const nodump = await runCompare(request({ reference: at('gt/joint'), compared: at('out'), log: at('nodump.log') }));
    expect(nodump.outputs.filter((o) => !o.pass).map((o) => o.name)).toEqual(['prob']);
    expect(nodump.outputs.find((o) => o.name === 'prob')?.reasons[0]).toMatch(/did not dump output\[1\] prob \(dump failed\)/);
  });
});

describe('options', () => {
  it.each([
    [{ stage: 'runtime' }, 'COMPARE_BAD_STAGE'],
    [{ shape: '1,a' }, 'COMPARE_BAD_SHAPE'],
    [{ q: 0 }, 'QUANT_BAD_VALUE'],
    [{ atol: NaN }, 'TOLERANCE_INVALID'],
    [{ 'min-cos': 2 }, 'TOLERANCE_INVALID'],
    [{ dtype: 'complex64' }, 'DTYPE_UNKNOWN'],
  ])('refuses %o', (args, code) => {
    let caught: unknown;
    try {
      parseCompareArgs({ reference: 'a', compared: 'b', stage: 'board', ...args });
    } catch (err) {
      caught = err;
    }
    expect((caught as AxError).code).toBe(code);
  });

  it('reads shapes in the usual spellings', () => {
    expect(parseShape('1,3,224,224')).toEqual([1, 3, 224, 224]);
    expect(parseShape('[1, 1000]')).toEqual([1, 1000]);
    expect(parseShape('2x3')).toEqual([2, 3]);
    expect(parseShape('[]')).toEqual([]);
  });

  it('explicit --atol turns allclose on in the compile stage', async () => {
    const report = await runCompare(request({ reference: at('gt/onnx/prob.npy'), compared: at('gt/joint/prob.npy'), stage: 'compile', atol: 1e-6 }));
    expect(report.outputs[0].comparison?.tolerance).toMatchObject({ atol: 1e-6, requireAllclose: true, minCosine: 0.98 });
    expect(report.pass).toBe(false);
    expect(reportTable(report)).toMatch(/^FAIL: 0 of 1 output within tolerance \(onnx-vs-joint: \|ref − got\| <= 1e-6 \+ 1e-5·\|ref\|, cosine >= 0\.98\)$/m);
  });
});
