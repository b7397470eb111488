import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel, writeModel } from '../../scripts/sim/make-gt';
import { readyModel } from '../../scripts/sim/ready-models';
import { lines, runSim } from './helpers';
import { tempDirs } from '../temp-dirs';

const tmp = tempDirs('axsim-test-');
let dir: string;
let multi: string;
let classifier: string;
const multiInputs = (gt: string): string =>
  ['rgb_image', 'depth', 'aux'].map((n) => path.join(gt, 'input', `${n}.bin`)).join(';');

beforeAll(async () => {
  dir = tmp.make();
  classifier = path.join(dir, 'classifier.joint');
  multi = path.join(dir, 'multi.joint');
  makeModel('classifier', classifier);
  makeModel('multi-input', multi);
  await makeGt(classifier, path.join(dir, 'gt-c'), { seed: 11 });
  await makeGt(multi, path.join(dir, 'gt-m'), { seed: 12 });
});
afterAll(() => tmp.cleanup());

function outDir(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  return d;
}

describe('run-joint dumps', () => {
  it('dumps the classifier output byte for byte equal to gt/joint', async () => {
    const out = outDir('c1');
    const r = await runSim([classifier, '-d', path.join(dir, 'gt-c', 'input', 'data.bin'), '--bin-out-dir', out, '--repeat', '10']);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out)).toEqual(['resnetv15_dense0_fwd.bin']);
    expect(fs.readFileSync(path.join(out, 'resnetv15_dense0_fwd.bin')))
      .toEqual(fs.readFileSync(path.join(dir, 'gt-c', 'joint', 'resnetv15_dense0_fwd.bin')));
  });

  it('feeds inputs in the model order, and names dumps with every / replaced by _', async () => {
    const out = outDir('m1');
    const r = await runSim([multi, '--data', multiInputs(path.join(dir, 'gt-m')), '--bin-out-dir', out]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).not.toContainEqual(expect.stringContaining('random data'));
    expect(fs.readdirSync(out).sort()).toEqual(['head_bbox_pred.bin', 'head_cls_score.bin']);
    for (const f of ['head_bbox_pred.bin', 'head_cls_score.bin']) {
      expect(fs.readFileSync(path.join(out, f))).toEqual(fs.readFileSync(path.join(dir, 'gt-m', 'joint', f)));
    }
  });

  it('accepts --data=LIST and -d LIST alike', async () => {
    const a = outDir('m-eq');
    const b = outDir('m-d');
    await runSim([multi, `--data=${multiInputs(path.join(dir, 'gt-m'))}`, `--bin-out-dir=${a}`]);
    await runSim([multi, '-d', multiInputs(path.join(dir, 'gt-m')), '--bin-out-dir', b]);
    expect(fs.readFileSync(path.join(a, 'head_cls_score.bin'))).toEqual(fs.readFileSync(path.join(dir, 'gt-m', 'joint', 'head_cls_score.bin')));
    expect(fs.readFileSync(path.join(b, 'head_cls_score.bin'))).toEqual(fs.readFileSync(path.join(a, 'head_cls_score.bin')));
  });

  it('uses files by position, not by name: alphabetical order gives size errors', async () => {
    const gt = path.join(dir, 'gt-m');
    const alphabetical = ['aux', 'depth', 'rgb_image'].map((n) => path.join(gt, 'input', `${n}.bin`));
    const r = await runSim([multi, '-d', alphabetical.join(';')]);
    const out = lines(r.stdout);
    const at = out.indexOf('Using batch size 1');
    // depth.bin happens to land on input[1] depth, so only the other two complain.
    expect(out.slice(at, at + 4)).toEqual([
      'Using batch size 1',
      `read file ${alphabetical[0]} for input[0] rgb_image data size wrong, using random data`,
      `read file ${alphabetical[2]} for input[2] aux data size wrong, using random data`,
      '',
    ]);
  });

  it('prints the dump path as built from --bin-out-dir, so a trailing slash doubles', async () => {
    outDir('slash');
    const r = await runSim([classifier, '--bin-out-dir', 'slash/'], { cwd: dir });
    expect(lines(r.stdout).pop()).toBe('dump output[0] resnetv15_dense0_fwd as slash//resnetv15_dense0_fwd.bin success');
    expect(fs.statSync(path.join(dir, 'slash', 'resnetv15_dense0_fwd.bin')).size).toBe(40);
  });

  it('reports failed dumps into a folder that does not exist and still exits 0', async () => {
    const missing = path.join(dir, 'no-such-folder');
    const r = await runSim([multi, '--bin-out-dir', missing]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).slice(-2)).toEqual([
      `dump output[0] head/cls_score as ${missing}/head_cls_score.bin failed`,
      `dump output[1] head/bbox/pred as ${missing}/head_bbox_pred.bin failed`,
    ]);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('dumps Size / shape[0] * override_batch_size bytes even for a model without dynamic batch', async () => {
    const out = outDir('override');
    const r = await runSim([classifier, '-d', path.join(dir, 'gt-c', 'input', 'data.bin'), '--override_batch_size', '2', '--bin-out-dir', out]);
    // prepare_io ignores the override (no dynamic batch) but the dump does not.
    expect(lines(r.stdout)).toContain('Using batch size 1');
    const dumped = fs.readFileSync(path.join(out, 'resnetv15_dense0_fwd.bin'));
    expect(dumped.length).toBe(80);
    expect(dumped.subarray(0, 40)).toEqual(fs.readFileSync(path.join(dir, 'gt-c', 'joint', 'resnetv15_dense0_fwd.bin')));
  });

  it('aborts on two outputs whose dump names collide, after dumping the first', async () => {
    const base = readyModel('multi-input');
    const clash = path.join(dir, 'clash.joint');
    writeModel({ ...base, outputs: [base.outputs[0], { ...base.outputs[1], name: 'head_cls/score' }] }, clash);
    const out = outDir('clash');
    const r = await runSim([clash, '--bin-out-dir', out]);
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("run_joint: run_joint.cc:797: main(int, char**)::<lambda(const string&)>: Assertion `0' failed.\n");
    expect(fs.readdirSync(out).sort()).toEqual(['head_cls_score.bin']);
  });
});
