/**
 * The pieces a diagnosis is made of, without pulsar or a board: a saved verify report read
 * back (NaN included), the board checks made from it, the per-layer table of a real-format
 * build log with and without a layer mapping, the calibration-image judgement, and stage
 * scores read from gt folders written by the board simulator's gt generator.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromReport, loadVerifyReport } from '../../host/diagnose/board';
import { stageRows } from '../../host/diagnose/diagnose';
import { judgeCalibration } from '../../host/diagnose/calibration';
import { describeLayers, layerRows, readBuildLogScores } from '../../host/diagnose/layers';
import { readGtStage, type StageMeasurement } from '../../host/diagnose/stages';
import { renderJson } from '../../host/report';
import type { VerifyReport } from '../../host/report/model';
import { parseLayerMapping } from '../../host/toolchain/layer-mapping';
import { isAxError } from '../../shared/errors';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { verifyMatch, verifyMismatch } from '../fixtures/report/verify';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'diagnose');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-diagnose-parts-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (!isAxError(err)) throw new Error(`expected an AxError, got ${String(err)}`);
  return err.code;
}

describe('a saved verify report (--verify-report)', () => {
  it('reads back what axctl verify --json writes, NaN and Infinity included', async () => {
    const withNaN: VerifyReport = { ...verifyMismatch, outputs: verifyMismatch.outputs.map((o, i) => (i === 0 ? { ...o, cosine: NaN, relErr2: Infinity } : o)) };
    const file = path.join(tmp, 'verify.json');
    fs.writeFileSync(file, renderJson(withNaN));
    const back = await loadVerifyReport(file);
    expect(back.verdict).toBe('mismatch');
    expect(back.outputs[0].cosine).toBeNaN();
    expect(back.outputs[0].relErr2).toBe(Infinity);
    expect(back.outputs[0].name).toBe('/model.24/m.0/Conv_output_0');
  });

  it('refuses what is not a verify report, naming the file', async () => {
    const notJson = path.join(tmp, 'broken.json');
    fs.writeFileSync(notJson, '{ "kind": ');
    expect(await codeOf(loadVerifyReport(notJson))).toBe('DIAGNOSE_VERIFY_REPORT_INVALID');
    const other = path.join(tmp, 'other.json');
    fs.writeFileSync(other, JSON.stringify({ kind: 'diagnose', conclusion: 'ok' }));
    expect(await codeOf(loadVerifyReport(other))).toBe('DIAGNOSE_VERIFY_REPORT_INVALID');
  });

  it('turns a mismatch into a failed step 4.2 and the listing into step 4.1', () => {
    const step = fromReport(verifyMismatch, 'the board');
    expect(step.outcome).toBe('mismatch');
    const [listing, board] = step.checks;
    expect([listing.step, listing.status, board.step, board.status]).toEqual(['4.1', 'pass', '4.2', 'fail']);
    expect(listing.reason).toContain('/model.24/m.0/Conv_output_0 [1, 255, 40, 40] NCHW float32');
    expect(listing.reason).toContain('images [1, 320, 320, 3] NHWC uint8 BGR');
    expect(board.reason).toContain('/model.24/m.0/Conv_output_0');
    expect(step.detail).toMatch(/^\/model\.24\/m\.0\/Conv_output_0: \d+ element\(s\) differ, max \|diff\| 3\.438/);
    expect(fromReport(verifyMatch, 'the board').checks[1].status).toBe('pass');
  });

  it('a failed run that dumped some outputs says how those compared beside the assertion', () => {
    const run = { ...verifyMismatch.run, assertions: ['Assertion `x\' failed.'] };
    const crashed: VerifyReport = { ...verifyMismatch, verdict: 'run-failed', run };
    expect(fromReport(crashed, 'the board').detail).toBe('Assertion `x\' failed.; of the 3 output(s) it dumped, /model.24/m.0/Conv_output_0 differ');
    expect(fromReport({ ...crashed, outputs: [] }, 'the board').detail).toBe('Assertion `x\' failed.');
  });
});

describe('the stages table', () => {
  it('names outputs as the model does and in its order when the listing is known; file names otherwise', () => {
    const stage = (kind: 'joint' | 'lava_joint', names: string[], cosine: number) => ({
      kind, source: 'gt folder' as const, gtDir: '/gt', toolchain: null, how: 'x',
      outputs: names.map((name) => ({ name, cosine, relErr2: 0 })),
    }) as unknown as StageMeasurement;
    const m = { joint: stage('joint', ['head_bbox_pred', 'head_cls_score'], 0.9), lava: stage('lava_joint', ['head_bbox_pred', 'head_cls_score'], 0.99) };
    expect(stageRows(m, ['head/cls_score', 'head/bbox/pred']).map((r) => [r.output, r.compileCosine, r.quantizationCosine])).toEqual([
      ['head/cls_score', 0.9, 0.99],
      ['head/bbox/pred', 0.9, 0.99],
    ]);
    expect(stageRows(m, []).map((r) => r.output)).toEqual(['head_bbox_pred', 'head_cls_score']);
  });
});

describe('the per-layer table (step 3.4)', () => {
  const mappingText = [
    'Layer Mapping:',
    'ORIGIN_NAMES                                                                                                    LAVA_NAMES',
    '--------------------------------------------------------------------------------------------------------------  --------------------------',
    "['resnetv15_stage3_conv0_fwd', 'resnetv15_stage3_batchnorm0_fwd', 'resnetv15_stage3_relu0_fwd']                 resnetv15_stage3_relu0_fwd",
    "['resnetv15_dense0_fwd']                                                                                        resnetv15_dense0_fwd",
    '--------------------------------------------------------------------------------------------------------------  --------------------------',
  ].join('\n');

  it('reads the build log, sorts worst first and says where the loss starts', async () => {
    const scores = await readBuildLogScores(path.join(FIXTURES, 'build-per-layer.log'));
    expect(scores).toHaveLength(18);
    const rows = layerRows(scores, null);
    expect(rows.map((r) => r.cosine)).toEqual([...rows.map((r) => r.cosine)].sort((a, b) => a - b));
    expect(rows[0]).toEqual({ name: 'resnetv15_dense0_fwd', onnxName: null, cosine: 0.8908, relErr2Percent: 46.73 });
    const { low, text } = describeLayers(scores, rows);
    expect(low).toBe(8);
    expect(text).toContain('the first is resnetv15_stage3_conv0_fwd (0.974800)');
  });

  it('names compiled layers in the onnx through pulsar info --layer_mapping', async () => {
    const scores = await readBuildLogScores(path.join(FIXTURES, 'build-per-layer.log'));
    const rows = layerRows(scores, parseLayerMapping(mappingText));
    const fused = rows.find((r) => r.name === 'resnetv15_stage3_relu0_fwd');
    expect(fused?.onnxName).toBe('resnetv15_stage3_conv0_fwd, resnetv15_stage3_batchnorm0_fwd, resnetv15_stage3_relu0_fwd');
    expect(rows.find((r) => r.name === 'resnetv15_stage3_conv0_fwd')?.onnxName).toBe('resnetv15_stage3_conv0_fwd');
    expect(rows.find((r) => r.name === 'resnetv15_pool0_fwd')?.onnxName).toBeNull();
  });

  it('a NaN layer counts as the worst', () => {
    const rows = layerRows([
      { layer: 'a', relErr2Percent: 1, cosine: 0.99, reference: null, target: null, line: 1 },
      { layer: 'b', relErr2Percent: NaN, cosine: NaN, reference: null, target: null, line: 2 },
    ], null);
    expect(rows.map((r) => r.name)).toEqual(['b', 'a']);
    expect(rows[0].relErr2Percent).toBeNull();
  });
});

describe('one calibration image (step 3.5)', () => {
  const stage = (cosine: number): StageMeasurement => ({
    kind: 'joint', source: 'pulsar run', gtDir: '/gt', toolchain: null, how: 'pulsar run',
    outputs: [{ name: 'prob', cosine, relErr2Percent: 1, low: cosine < 0.98 }],
  });
  it.each([
    [0.995, 0.89, 'pass', 'calibration data is probably unlike your data'],
    [0.89, 0.88, 'fail', 'the quantization itself loses'],
    [0.995, 0.996, 'pass', 'the calibration set looks like your data'],
    [0.9, 0.995, 'fail', 'unusual images'],
  ] as const)('calibration image %s, own input %s → %s', (calib, input, status, meaning) => {
    const v = judgeCalibration('calib/0001.jpg', stage(calib), stage(input));
    expect(v.status).toBe(status);
    expect(v.reason).toContain(meaning);
    expect(v.evidence).toMatchObject({ image: 'calib/0001.jpg', cosine: calib, inputCosine: input });
  });
  it('without a run of the own input it judges the image alone', () => {
    expect(judgeCalibration('c.jpg', stage(0.9), null).reason).toContain('even on data it was calibrated with');
  });
});

describe('stage scores from a gt folder (onnx/ vs joint/)', () => {
  async function gt(name: string, compileLoss: boolean, kind: 'classifier' | 'multi-input' = 'classifier'): Promise<string> {
    const model = path.join(tmp, `${name}.joint`);
    makeModel(kind, model);
    const dir = path.join(tmp, name);
    await makeGt(model, dir, { seed: 3, compileLoss });
    return dir;
  }

  it('a clean gt folder passes; one whose onnx moved away is low', async () => {
    const good = await readGtStage(await gt('good', false), 'joint');
    const lossy = await readGtStage(await gt('lossy', true), 'joint');
    if (typeof good === 'string' || typeof lossy === 'string') throw new Error(`no measurement: ${String(good)} ${String(lossy)}`);
    expect(good.source).toBe('gt folder');
    expect(good.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', low: false });
    expect(good.outputs[0].cosine).toBeGreaterThan(0.999);
    expect(lossy.outputs[0].low).toBe(true);
    expect(lossy.outputs[0].cosine).toBeLessThan(0.98);
  });

  it('an integer output with Q is judged by cosine (the scale does not matter), without a relative error', async () => {
    const m = await readGtStage(await gt('multi', false, 'multi-input'), 'joint');
    if (typeof m === 'string') throw new Error(m);
    const score = m.outputs.find((o) => o.name === 'head_cls_score');
    expect(score?.low).toBe(false);
    expect(score?.relErr2Percent).toBeNull();
    expect(m.outputs.find((o) => o.name === 'head_bbox_pred')?.relErr2Percent).not.toBeNull();
  });

  it('a gt folder of raw .bin files only (no .npy) cannot tell: a reason, not a usage error naming options diagnose lacks', async () => {
    const dir = await gt('raw-only', false);
    for (const sub of ['input', 'joint', 'onnx']) {
      for (const f of fs.readdirSync(path.join(dir, sub))) if (f.endsWith('.npy')) fs.rmSync(path.join(dir, sub, f));
    }
    const m = await readGtStage(dir, 'joint');
    expect(typeof m).toBe('string');
    expect(m).toContain('raw .bin files without the .npy files pulsar run writes');
  });

  it('a NaN in joint/ that onnx/ does not have is a low output, not a pass on the finite rest', async () => {
    const dir = await gt('nan-joint', false);
    const npy = path.join(dir, 'joint', 'resnetv15_dense0_fwd.npy');
    const bytes = fs.readFileSync(npy);
    // The classifier output is float32; poison its last element in the .npy and the .bin.
    bytes.writeFloatLE(Number.NaN, bytes.length - 4);
    fs.writeFileSync(npy, bytes);
    const bin = path.join(dir, 'joint', 'resnetv15_dense0_fwd.bin');
    const raw = fs.readFileSync(bin);
    raw.writeFloatLE(Number.NaN, raw.length - 4);
    fs.writeFileSync(bin, raw);
    const m = await readGtStage(dir, 'joint');
    if (typeof m === 'string') throw new Error(m);
    expect(m.outputs[0].low).toBe(true);
    expect(m.outputs[0].cosine).toBeNaN();
  });

  it('an onnx/ output missing from joint/ is not passed over: the folder cannot tell', async () => {
    const dir = await gt('one-sided', false);
    for (const ext of ['npy', 'bin']) {
      fs.copyFileSync(path.join(dir, 'onnx', `resnetv15_dense0_fwd.${ext}`), path.join(dir, 'onnx', `second_out.${ext}`));
    }
    expect(await readGtStage(dir, 'joint')).toMatch(/not every output .*second_out: .*has no counterpart/);
  });

  it('a gt folder without onnx/ cannot tell', async () => {
    const dir = await gt('no-onnx', false);
    fs.rmSync(path.join(dir, 'onnx'), { recursive: true });
    expect(await readGtStage(dir, 'joint')).toMatch(/has no onnx\/ outputs/);
  });
});
