/** Mapping gt/input files to model inputs, and the local checks that predict an input-error. */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inputBytes, planInputs } from '../../host/deploy/gt-inputs';
import { scanGtFolder } from '../../shared/parsers/gt-folder';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

/** A gt folder with the given input files (name → bytes) and one joint output. */
async function gtWith(inputs: Record<string, number>, sub = 'input', out = 'joint'): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-gt-'));
  dirs.push(dir);
  await fsp.mkdir(path.join(dir, sub));
  await fsp.mkdir(path.join(dir, out));
  for (const [name, size] of Object.entries(inputs)) await fsp.writeFile(path.join(dir, sub, name), Buffer.alloc(size));
  await fsp.writeFile(path.join(dir, out, 'out.bin'), Buffer.alloc(4));
  return dir;
}

function input(index: number, name: string, shape: number[], size: number): RunJointTensor {
  return { index, name, shape, layout: 'NHWC', dtype: 'uint8', colorSpace: 'RGB', q: null, memory: 'Physical', size, line: 1 };
}

describe('planInputs', () => {
  it('without the listing: every .bin, named by its file', async () => {
    const gt = await scanGtFolder(await gtWith({ 'b.bin': 3, 'a.bin': 5, 'a.npy': 90 }));
    const plan = await planInputs(gt, null);
    expect(plan.namesKnown).toBe(false);
    expect(plan.problems).toEqual([]);
    expect(plan.inputs.map((i) => [i.name, path.basename(i.file), i.size])).toEqual([['a', 'a.bin', 5], ['b', 'b.bin', 3]]);
  });

  it("with the listing: the model's order and names ('/' → '_' in the file name)", async () => {
    const gt = await scanGtFolder(await gtWith({ 'img.bin': 12, 'sensor_depth.bin': 4 }));
    const tensors = [input(0, 'sensor/depth', [1, 2, 2, 1], 4), input(1, 'img', [1, 2, 2, 3], 12)];
    const plan = await planInputs(gt, { names: tensors.map((t) => t.name), tensors, maxBatchSize: 1 });
    expect(plan.problems).toEqual([]);
    expect(plan.inputs.map((i) => [i.name, path.basename(i.file)])).toEqual([['sensor/depth', 'sensor_depth.bin'], ['img', 'img.bin']]);
  });

  it('finds a missing input and a file of the wrong size', async () => {
    const gt = await scanGtFolder(await gtWith({ 'img.bin': 11 }));
    const tensors = [input(0, 'img', [1, 2, 2, 3], 12), input(1, 'mask', [1, 2, 2, 1], 4)];
    const plan = await planInputs(gt, { names: tensors.map((t) => t.name), tensors, maxBatchSize: 1 });
    expect(plan.problems.map((p) => [p.code, p.input])).toEqual([['GT_INPUT_SIZE', 'img'], ['GT_INPUT_MISSING', 'mask']]);
    expect(plan.problems[0]!.reason).toMatch(/img\.bin is 11 bytes, model input 'img' \(uint8 \[1,2,2,3\]\) needs 12: run_joint would use random data/);
    expect(plan.problems[1]!.reason).toMatch(/no file for model input 'mask' \(expected mask\.bin\)/);
  });

  it("an input whose shape[0] is not the batch: the listed Size fits, and so does the dump rule's size; others do not", async () => {
    const tensors = [input(0, 'pair', [2, 2, 2, 3], 24)];
    const model = { names: ['pair'], tensors, maxBatchSize: 1 };
    for (const [bytes, problems] of [[24, []], [12, []], [18, ['GT_INPUT_SIZE']]] as const) {
      const plan = await planInputs(await scanGtFolder(await gtWith({ 'pair.bin': bytes })), model);
      expect(plan.problems.map((p) => p.code)).toEqual(problems);
    }
    const wrong = await planInputs(await scanGtFolder(await gtWith({ 'pair.bin': 18 })), model);
    expect(wrong.problems[0]!.reason).toContain('needs 24');
  });

  it('the older layout: one input.bin feeds the one model input', async () => {
    const gt = await scanGtFolder(await gtWith({ 'input.bin': 12 }, 'input', 'output'));
    expect(gt.layout).toBe('input-output');
    const plan = await planInputs(gt, { names: ['data'], tensors: [input(0, 'data', [1, 2, 2, 3], 12)], maxBatchSize: 1 });
    expect(plan.problems).toEqual([]);
    expect(plan.inputs.map((i) => [i.name, path.basename(i.file)])).toEqual([['data', 'input.bin']]);
  });

  it('an input with only a .npy, or no inputs at all, cannot be sent', async () => {
    const npyOnly = await planInputs(await scanGtFolder(await gtWith({ 'a.npy': 100 })), null);
    expect(npyOnly.problems).toMatchObject([{ code: 'GT_INPUT_NO_BIN', input: 'a' }]);
    const none = await planInputs(await scanGtFolder(await gtWith({})), null);
    expect(none.problems).toMatchObject([{ code: 'GT_NO_INPUTS' }]);
  });
});

describe('inputBytes', () => {
  it("is the listing's Size (run_joint reads an input whole)", () => {
    expect(inputBytes(input(0, 'x', [4, 2, 2, 3], 48))).toBe(48);
    expect(inputBytes(input(0, 'x', [1, 2, 2, 3], 12))).toBe(12);
    expect(inputBytes({ ...input(0, 'x', [1], 1), size: null })).toBeNull();
  });
});
