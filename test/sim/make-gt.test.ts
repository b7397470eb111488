import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { parseModel } from '../../scripts/sim/model';
import { readNpyHeader } from '../../shared/tensor/npy';
import { cosine, floats, int8s, MAKE_GT, requireBuild } from './helpers';
import { tempDirs } from '../temp-dirs';

const tmp = tempDirs('axsim-test-');
let dir: string;
let multi: string;
let classifier: string;

beforeAll(() => {
  dir = tmp.make();
  multi = path.join(dir, 'multi.joint');
  classifier = path.join(dir, 'classifier.joint');
  makeModel('multi-input', multi);
  makeModel('classifier', classifier);
});
afterAll(() => tmp.cleanup());

function listTree(root: string): string[] {
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(root, f)).isFile())
    .sort();
}

describe('makeModel', () => {
  it('writes ready models that parse back, with the documented I/O', () => {
    const c = parseModel(fs.readFileSync(classifier));
    const m = parseModel(fs.readFileSync(multi));
    expect(c.ok && c.model.inputs.map((t) => [t.name, t.shape, t.dtype, t.colorSpace])).toEqual([['data', [1, 32, 32, 3], 'uint8', 'RGB']]);
    expect(c.ok && c.model.outputs.map((t) => [t.name, t.shape, t.dtype])).toEqual([['resnetv15_dense0_fwd', [1, 10], 'float32']]);
    expect(m.ok && m.model.inputs.map((t) => t.name)).toEqual(['rgb_image', 'depth', 'aux']);
    expect(m.ok && m.model.outputs.map((t) => [t.name, t.dtype, t.q])).toEqual([['head/cls_score', 'sint8', 32], ['head/bbox/pred', 'float32', 0]]);
    expect(fs.readFileSync(classifier, 'utf8').startsWith('AXSIMJOINT 1\n{')).toBe(true);
  });

  it('refuses an unknown kind with a usage error', () => {
    expect(() => makeModel('resnet' as never, path.join(dir, 'x.joint'))).toThrow(expect.objectContaining({ code: 'SIM_MODEL_KIND', exitCode: 2 }));
  });
});

describe('makeGt', () => {
  it('writes the pulsar-run layout with matching .bin and .npy pairs', async () => {
    const gt = path.join(dir, 'gt-layout');
    const manifest = await makeGt(multi, gt, { seed: 1 });
    expect(listTree(gt)).toEqual([
      'input/aux.bin', 'input/aux.npy', 'input/depth.bin', 'input/depth.npy', 'input/filename.txt',
      'input/rgb_image.bin', 'input/rgb_image.npy',
      'joint/head_bbox_pred.bin', 'joint/head_bbox_pred.npy', 'joint/head_cls_score.bin', 'joint/head_cls_score.npy',
      'onnx/head_bbox_pred.bin', 'onnx/head_bbox_pred.npy', 'onnx/head_cls_score.bin', 'onnx/head_cls_score.npy',
    ].map((f) => f.split('/').join(path.sep)));
    expect(manifest.inputs.map((f) => f.name)).toEqual(['rgb_image', 'depth', 'aux']);
    expect(manifest.joint.map((f) => path.basename(f.bin))).toEqual(['head_cls_score.bin', 'head_bbox_pred.bin']);
    expect(fs.readFileSync(path.join(gt, 'input', 'filename.txt'), 'utf8').split('\n')).toHaveLength(4);

    const expectPair = async (bin: string, dtype: string, shape: number[]): Promise<void> => {
      const npy = bin.replace(/\.bin$/, '.npy');
      const header = await readNpyHeader(npy);
      expect([header.dtype, header.shape]).toEqual([dtype, shape]);
      expect(fs.readFileSync(npy).subarray(header.dataOffset)).toEqual(fs.readFileSync(bin));
    };
    await expectPair(path.join(gt, 'input', 'rgb_image.bin'), 'uint8', [1, 16, 16, 3]);
    await expectPair(path.join(gt, 'input', 'depth.bin'), 'uint16', [1, 16, 16, 1]);
    await expectPair(path.join(gt, 'input', 'aux.bin'), 'float32', [1, 1, 1, 8]);
    await expectPair(path.join(gt, 'joint', 'head_cls_score.bin'), 'int8', [1, 4, 4, 6]);
    await expectPair(path.join(gt, 'joint', 'head_bbox_pred.bin'), 'float32', [1, 4, 4, 4]);
    await expectPair(path.join(gt, 'onnx', 'head_cls_score.bin'), 'float32', [1, 4, 4, 6]);
    await expectPair(path.join(gt, 'onnx', 'head_bbox_pred.bin'), 'float32', [1, 4, 4, 4]);
  });

  it('is deterministic per seed and differs between seeds', async () => {
    await makeGt(classifier, path.join(dir, 's1a'), { seed: 1 });
    await makeGt(classifier, path.join(dir, 's1b'), { seed: 1 });
    await makeGt(classifier, path.join(dir, 's2'), { seed: 2 });
    const read = (d: string, f: string): Buffer => fs.readFileSync(path.join(dir, d, f));
    expect(read('s1a', 'input/data.bin')).toEqual(read('s1b', 'input/data.bin'));
    expect(read('s1a', 'joint/resnetv15_dense0_fwd.bin')).toEqual(read('s1b', 'joint/resnetv15_dense0_fwd.bin'));
    expect(read('s1a', 'input/data.bin')).not.toEqual(read('s2', 'input/data.bin'));
  });

  it('keeps onnx close to joint (cosine > 0.99, integer outputs divided by Q), and far with compileLoss (< 0.98)', async () => {
    const ok = path.join(dir, 'gt-ok');
    const lossy = path.join(dir, 'gt-lossy');
    await makeGt(multi, ok, { seed: 4 });
    await makeGt(multi, lossy, { seed: 4, compileLoss: true });
    const scores = Array.from(int8s(path.join(ok, 'joint', 'head_cls_score.bin')), (v) => v / 32);
    expect(cosine(scores, floats(path.join(ok, 'onnx', 'head_cls_score.bin')))).toBeGreaterThan(0.99);
    expect(cosine(floats(path.join(ok, 'joint', 'head_bbox_pred.bin')), floats(path.join(ok, 'onnx', 'head_bbox_pred.bin')))).toBeGreaterThan(0.99);
    // Not identical either: the joint's weights are quantized.
    expect(fs.readFileSync(path.join(ok, 'joint', 'head_bbox_pred.bin'))).not.toEqual(fs.readFileSync(path.join(ok, 'onnx', 'head_bbox_pred.bin')));

    expect(fs.readFileSync(path.join(lossy, 'joint', 'head_bbox_pred.bin'))).toEqual(fs.readFileSync(path.join(ok, 'joint', 'head_bbox_pred.bin')));
    expect(cosine(floats(path.join(lossy, 'joint', 'head_bbox_pred.bin')), floats(path.join(lossy, 'onnx', 'head_bbox_pred.bin')))).toBeLessThan(0.98);
    const lossyScores = Array.from(int8s(path.join(lossy, 'joint', 'head_cls_score.bin')), (v) => v / 32);
    expect(cosine(lossyScores, floats(path.join(lossy, 'onnx', 'head_cls_score.bin')))).toBeLessThan(0.98);
  });

  it('refuses a model file that is not a simulator joint, naming the file', async () => {
    const bad = path.join(dir, 'bad.joint');
    fs.writeFileSync(bad, 'AXSIMJOINT 1\n{"inputs": [1]}');
    await expect(makeGt(bad, path.join(dir, 'gt-bad'), { seed: 1 })).rejects.toMatchObject({ code: 'SIM_MODEL_INVALID', exitCode: 2 });
    await expect(makeGt(path.join(dir, 'nope.joint'), path.join(dir, 'gt-bad'), { seed: 1 })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('make-gt CLI', () => {
  const run = (args: string[]): Promise<{ code: number; stderr: string }> =>
    promisify(execFile)(process.execPath, [MAKE_GT, ...args]).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );

  it('writes a model and a gt folder', async () => {
    requireBuild();
    const model = path.join(dir, 'cli.joint');
    expect(await run(['model', 'classifier', model])).toEqual({ code: 0, stderr: '' });
    expect(await run(['gt', model, path.join(dir, 'cli-gt'), '--seed', '8', '--compile-loss'])).toEqual({ code: 0, stderr: '' });
    expect(fs.existsSync(path.join(dir, 'cli-gt', 'onnx', 'resnetv15_dense0_fwd.npy'))).toBe(true);
  });

  it('exits 2 with one line for bad usage and bad files', async () => {
    requireBuild();
    for (const args of [[], ['gt', 'only-one'], ['gt', path.join(dir, 'nope.joint'), path.join(dir, 'x')], ['model', 'nope', 'x'], ['gt', 'a', 'b', '--seed', 'abc'], ['--bogus']]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^make-gt: [^\n]+\n$/);
    }
  });
});
