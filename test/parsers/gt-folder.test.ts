import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { findGtFile, scanGtFolder, tensorFileName } from '../../shared/parsers/gt-folder';

let root: string;

function makeTree(base: string, files: string[]): string {
  const dir = path.join(root, base);
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    if (!f.endsWith('/')) writeFileSync(path.join(dir, f), f.endsWith('.txt') ? 'images/img-319.jpg\n\n' : 'x');
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function scanError(dir: string): Promise<AxError> {
  try {
    await scanGtFolder(dir);
  } catch (err) {
    if (err instanceof AxError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'axctl-gt-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('tensorFileName', () => {
  it('replaces every / with _ like run_joint', () => {
    expect(tensorFileName('/model.24/m.0/Conv_output_0')).toBe('_model.24_m.0_Conv_output_0');
    expect(tensorFileName('data')).toBe('data');
  });
});

describe('scanGtFolder', () => {
  it('reads the current layout, pairing .bin and .npy and reading filename.txt', async () => {
    const dir = makeTree('gt', [
      'input/data.bin', 'input/data.npy', 'input/filename.txt',
      'joint/resnetv15_dense0_fwd.bin', 'joint/resnetv15_dense0_fwd.npy', 'joint/_head_conv_Conv_output_0.bin',
      'onnx/resnetv15_dense0_fwd.npy', 'onnx/notes.md',
    ]);
    const gt = await scanGtFolder(dir);
    expect(gt.layout).toBe('input-joint-onnx');
    expect(gt.inputs).toEqual([
      { tensorName: 'data', fileBase: 'data', bin: path.join(dir, 'input/data.bin'), npy: path.join(dir, 'input/data.npy') },
    ]);
    expect(gt.joint.map((f) => [f.fileBase, !!f.bin, !!f.npy])).toEqual([
      ['_head_conv_Conv_output_0', true, false],
      ['resnetv15_dense0_fwd', true, true],
    ]);
    expect(gt.onnx).toEqual([{ tensorName: 'resnetv15_dense0_fwd', fileBase: 'resnetv15_dense0_fwd', npy: path.join(dir, 'onnx/resnetv15_dense0_fwd.npy') }]);
    expect(gt.output).toEqual([]);
    expect(gt.filenameTxt).toEqual(['images/img-319.jpg']);
    expect(findGtFile(gt.joint, '/head/conv/Conv_output_0')?.bin).toBe(path.join(dir, 'joint/_head_conv_Conv_output_0.bin'));
    expect(findGtFile(gt.joint, 'missing')).toBeUndefined();
  });

  it('reads the older input/output layout', async () => {
    const dir = makeTree('gt-old', ['input/input.bin', 'output/output.bin']);
    const gt = await scanGtFolder(dir);
    expect(gt.layout).toBe('input-output');
    expect(gt.inputs.map((f) => f.fileBase)).toEqual(['input']);
    expect(gt.output.map((f) => f.fileBase)).toEqual(['output']);
    expect(gt.joint).toEqual([]);
    expect(gt.filenameTxt).toBeUndefined();
  });

  it('refuses a missing folder, a file, a folder without input/ and one without outputs', async () => {
    const missing = await scanError(path.join(root, 'nope'));
    expect([missing.code, missing.exitCode]).toEqual(['FILE_NOT_FOUND', 2]);
    expect(missing.message).toBe(`${path.join(root, 'nope')}: no such file or folder`);

    const file = path.join(makeTree('afile', ['x.bin']), 'x.bin');
    expect((await scanError(file)).code).toBe('GT_NOT_FOLDER');

    const noInput = await scanError(makeTree('not-gt', ['joint/a.bin']));
    expect(noInput.code).toBe('GT_NO_INPUT');
    expect(noInput.message).toMatch(/not-gt: is not a gt folder: it has no input\/ sub-folder$/);

    const noOutputs = await scanError(makeTree('half-gt', ['input/data.bin']));
    expect(noOutputs.code).toBe('GT_NO_OUTPUTS');
  });
});
