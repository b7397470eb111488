import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { lines, runSim } from './helpers';
import { tempDirs } from '../temp-dirs';

// run_joint never stops for a bad input file: it says so in one line and runs on whatever
// the input buffer held. These tests pin every such line and what the outputs then are.

const tmp = tempDirs('axsim-test-');
let dir: string;
let multi: string;
let classifier: string;
let gt: string;
let gtC: string;

beforeAll(async () => {
  dir = tmp.make();
  multi = path.join(dir, 'multi.joint');
  classifier = path.join(dir, 'classifier.joint');
  makeModel('multi-input', multi);
  makeModel('classifier', classifier);
  gt = path.join(dir, 'gt');
  gtC = path.join(dir, 'gt-c');
  await makeGt(multi, gt, { seed: 5 });
  await makeGt(classifier, gtC, { seed: 5 });
});
afterAll(() => tmp.cleanup());

const input = (name: string): string => path.join(gt, 'input', `${name}.bin`);

/** The lines prepare_io printed: from `Using batch size` up to the blank line after it. */
function ioLines(stdout: string): string[] {
  const out = lines(stdout);
  const at = out.indexOf('Using batch size 1');
  return out.slice(at + 1, out.indexOf('', at));
}

async function dumpWith(data: string[], extra: string[] = []): Promise<{ lines: string[]; files: Record<string, Buffer> }> {
  const out = fs.mkdtempSync(path.join(dir, 'out-'));
  const r = await runSim([multi, '-d', data.join(';'), '--bin-out-dir', out, ...extra]);
  expect(r.code).toBe(0);
  const files: Record<string, Buffer> = {};
  for (const f of fs.readdirSync(out)) files[f] = fs.readFileSync(path.join(out, f));
  return { lines: ioLines(r.stdout), files };
}

describe('run-joint input fallbacks', () => {
  it('falls back to random data for a file that does not exist, and the outputs no longer match gt', async () => {
    const missing = path.join(dir, 'missing.bin');
    const r = await dumpWith([missing, input('depth'), input('aux')]);
    expect(r.lines).toEqual([`read file ${missing} for input[0] rgb_image data failed, using random data`]);
    expect(r.files['head_bbox_pred.bin']).not.toEqual(fs.readFileSync(path.join(gt, 'joint', 'head_bbox_pred.bin')));
    expect(r.files['head_bbox_pred.bin'].length).toBe(256);
  });

  it('treats a folder as an unreadable file', async () => {
    const r = await dumpWith([input('rgb_image'), dir, input('aux')]);
    expect(r.lines).toEqual([`read file ${dir} for input[1] depth data failed, using random data`]);
  });

  it('falls back on a file of the wrong size, and an empty file is a wrong size, not a failed read', async () => {
    const short = path.join(dir, 'short.bin');
    const empty = path.join(dir, 'empty.bin');
    fs.writeFileSync(short, fs.readFileSync(input('rgb_image')).subarray(0, 700));
    fs.writeFileSync(empty, '');
    const r = await dumpWith([short, input('depth'), empty]);
    expect(r.lines).toEqual([
      `read file ${short} for input[0] rgb_image data size wrong, using random data`,
      `read file ${empty} for input[2] aux data size wrong, using random data`,
    ]);
  });

  it('says "data not provided" for inputs past the end of the list', async () => {
    const r = await dumpWith([input('rgb_image')]);
    expect(r.lines).toEqual([
      'input[1] depth data not provided, using random data',
      'input[2] aux data not provided, using random data',
    ]);
  });

  it('treats an empty name between two ";" as a file that cannot be read', async () => {
    const r = await dumpWith([input('rgb_image'), '', input('aux')]);
    expect(r.lines).toEqual(['read file  for input[1] depth data failed, using random data']);
  });

  it('ignores a trailing ";" and files beyond the last input', async () => {
    const trailing = await dumpWith([input('rgb_image'), input('depth'), input('aux'), '']);
    expect(trailing.lines).toEqual([]);
    const extra = await dumpWith([input('rgb_image'), input('depth'), input('aux'), path.join(dir, 'nothing.bin')]);
    expect(extra.lines).toEqual([]);
    expect(extra.files['head_cls_score.bin']).toEqual(fs.readFileSync(path.join(gt, 'joint', 'head_cls_score.bin')));
  });

  it('runs on random data that changes from run to run', async () => {
    const a = await dumpWith([]);
    const b = await dumpWith([]);
    expect(a.lines).toHaveLength(3);
    expect(a.files['head_bbox_pred.bin']).not.toEqual(b.files['head_bbox_pred.bin']);
  });

  it('with -t cuts a longer file to size and zero-pads a shorter one instead of falling back', async () => {
    const long = path.join(dir, 'long.bin');
    fs.writeFileSync(long, Buffer.concat([fs.readFileSync(input('aux')), Buffer.alloc(100, 7)]));
    const cut = await dumpWith([input('rgb_image'), input('depth'), long], ['-t']);
    expect(cut.lines).toEqual([]);
    expect(cut.files['head_bbox_pred.bin']).toEqual(fs.readFileSync(path.join(gt, 'joint', 'head_bbox_pred.bin')));

    const short = path.join(dir, 'aux-short.bin');
    fs.writeFileSync(short, fs.readFileSync(input('aux')).subarray(0, 16));
    const padded = await dumpWith([input('rgb_image'), input('depth'), short], ['--enable_trunc']);
    const zeroPadded = path.join(dir, 'aux-padded.bin');
    fs.writeFileSync(zeroPadded, Buffer.concat([fs.readFileSync(short), Buffer.alloc(16)]));
    const reference = await dumpWith([input('rgb_image'), input('depth'), zeroPadded]);
    expect(padded.lines).toEqual([]);
    expect(padded.files).toEqual(reference.files);
  });

  it('without -t a longer file is a wrong size', async () => {
    const long = path.join(dir, 'long2.bin');
    fs.writeFileSync(long, Buffer.concat([fs.readFileSync(input('aux')), Buffer.alloc(4)]));
    const r = await dumpWith([input('rgb_image'), input('depth'), long]);
    expect(r.lines).toEqual([`read file ${long} for input[2] aux data size wrong, using random data`]);
  });

  it('computes the same outputs with --stride_w and -p (they change only how buffers are allocated)', async () => {
    const data = [input('rgb_image'), input('depth'), input('aux')];
    const plain = await dumpWith(data);
    expect((await dumpWith(data, ['--stride_w', '4'])).files).toEqual(plain.files);
    expect((await dumpWith(data, ['-p'])).files).toEqual(plain.files);
  });

  it('matches gt for the classifier only when its one input file is given', async () => {
    const out = fs.mkdtempSync(path.join(dir, 'c-'));
    const r = await runSim([classifier, '--bin-out-dir', out]);
    expect(ioLines(r.stdout)).toEqual(['input[0] data data not provided, using random data']);
    expect(fs.readFileSync(path.join(out, 'resnetv15_dense0_fwd.bin'))).not.toEqual(fs.readFileSync(path.join(gtC, 'joint', 'resnetv15_dense0_fwd.bin')));
  });
});
