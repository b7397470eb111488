/** One board output against gt/joint: dtypes from the listing, Q, sizes that do not fit. */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareBoardOutput } from '../../host/verify/compare-output';
import type { GtFile } from '../../shared/parsers/gt-folder';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';
import { writeBin } from '../../shared/tensor/bin';
import { writeNpy } from '../../shared/tensor/npy';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-cmp-'));
  dirs.push(d);
  return d;
}

function tensor(over: Partial<RunJointTensor>): RunJointTensor {
  return { index: 0, name: 'head/cls', shape: [1, 2, 3], layout: 'NHWC', dtype: 'sint8', colorSpace: null, q: 16, memory: 'Physical', size: 6, line: 1, ...over };
}

describe('compareBoardOutput', () => {
  it('compares sint8 dumps bit for bit against the gt .npy and finds the element off by one', async () => {
    const dir = await tmp();
    const ref = Int8Array.from([1, -2, 3, 4, 5, 127]);
    await writeNpy(path.join(dir, 'head_cls.npy'), 'int8', [1, 2, 3], ref);
    const board = Int8Array.from(ref);
    board[4] = 6;
    await writeBin(path.join(dir, 'dump.bin'), board);
    const gt: GtFile = { tensorName: 'head_cls', fileBase: 'head_cls', npy: path.join(dir, 'head_cls.npy') };
    const c = await compareBoardOutput({ name: 'head/cls', tensor: tensor({}), dumpFile: path.join(dir, 'dump.bin') }, gt);
    expect(c).toMatchObject({ name: 'head/cls', dtype: 'sint8', shape: [1, 2, 3], layout: 'NHWC', q: 16, exact: false, pass: false, mismatched: 1, maxAbsDiff: 1 });
    expect(c.worst).toEqual({ index: 4, at: [0, 1, 1], reference: 5, actual: 6 });
    expect(c.tolerance).toEqual({ atol: 0, rtol: 0, minCosine: 1, exact: true });
    expect(c.plot!.sample).toHaveLength(6);
  });

  it('dequantizes the board\'s integers with Q when gt/joint holds floats', async () => {
    const dir = await tmp();
    await writeNpy(path.join(dir, 'out.npy'), 'float32', [1, 2, 3], Float32Array.from([0.0625, -0.125, 0.1875, 0.25, 0.3125, 0.375]));
    await writeBin(path.join(dir, 'dump.bin'), Int8Array.from([1, -2, 3, 4, 5, 6]));
    const gt: GtFile = { tensorName: 'out', fileBase: 'out', npy: path.join(dir, 'out.npy') };
    const c = await compareBoardOutput({ name: 'out', tensor: tensor({ name: 'out' }), dumpFile: path.join(dir, 'dump.bin') }, gt);
    expect(c.pass).toBe(true);
    expect(c.exact).toBe(true);
    expect(c.tolerance.exact).toBe(false);
  });

  it('reads a raw gt .bin with the listing and reports a dump of the wrong size as a count mismatch', async () => {
    const dir = await tmp();
    await writeBin(path.join(dir, 'out.bin'), Float32Array.from([1, 2, 3, 4, 5, 6]));
    await writeBin(path.join(dir, 'dump.bin'), Float32Array.from([1, 2, 3, 4]));
    const gt: GtFile = { tensorName: 'out', fileBase: 'out', bin: path.join(dir, 'out.bin') };
    const c = await compareBoardOutput({ name: 'out', tensor: tensor({ name: 'out', dtype: 'float32', q: null, size: 24 }), dumpFile: path.join(dir, 'dump.bin') }, gt);
    expect(c.pass).toBe(false);
    expect(c.reasons.join()).toMatch(/element counts differ/);
    expect(c.plot).toBeUndefined();
    expect(Number.isNaN(c.cosine)).toBe(true);
  });

  it("compares only the rows run_joint dumped when the output's first dimension is not the batch", async () => {
    const dir = await tmp();
    // [4, 2] float32, batch 1: run_joint writes Size / shape[0] * 1 = 8 bytes, the first row.
    await writeNpy(path.join(dir, 'boxes.npy'), 'float32', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const gt: GtFile = { tensorName: 'boxes', fileBase: 'boxes', npy: path.join(dir, 'boxes.npy') };
    const listing = tensor({ name: 'boxes', shape: [4, 2], dtype: 'float32', q: null, size: 32 });
    await writeBin(path.join(dir, 'same.bin'), Float32Array.from([1, 2]));
    const same = await compareBoardOutput({ name: 'boxes', tensor: listing, dumpFile: path.join(dir, 'same.bin') }, gt);
    expect(same).toMatchObject({ pass: true, exact: true, mismatched: 0, partial: { rows: 1, of: 4 }, shape: [4, 2] });
    await writeBin(path.join(dir, 'off.bin'), Float32Array.from([1, 2.5]));
    const off = await compareBoardOutput({ name: 'boxes', tensor: listing, dumpFile: path.join(dir, 'off.bin') }, gt);
    expect(off).toMatchObject({ pass: false, mismatched: 1, partial: { rows: 1, of: 4 } });
    expect(off.worst).toMatchObject({ index: 1, reference: 2, actual: 2.5 });
    // A whole dump is compared whole, with no note.
    await writeBin(path.join(dir, 'whole.bin'), Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const whole = await compareBoardOutput({ name: 'boxes', tensor: listing, dumpFile: path.join(dir, 'whole.bin') }, gt);
    expect(whole.pass).toBe(true);
    expect(whole.partial).toBeUndefined();
  });

  it('compares a dump held in memory (an output that came back with its run) as it compares the same dump from its file', async () => {
    const dir = await tmp();
    await writeNpy(path.join(dir, 'boxes.npy'), 'float32', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const gt: GtFile = { tensorName: 'boxes', fileBase: 'boxes', npy: path.join(dir, 'boxes.npy') };
    const listing = tensor({ name: 'boxes', shape: [4, 2], dtype: 'float32', q: null, size: 32 });
    // Whole and off, the first row only (partial), a count that fits no row (flat), and 3 bytes.
    const dumps = [Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8.5]), Float32Array.from([1, 2.5]), Float32Array.from([1, 2, 3])].map((a) => Buffer.from(a.buffer));
    dumps.push(Buffer.from([1, 2, 3]));
    for (const [i, bytes] of dumps.entries()) {
      const file = path.join(dir, `dump-${i}.bin`);
      await fsp.writeFile(file, bytes);
      const fromFile = await compareBoardOutput({ name: 'boxes', tensor: listing, dumpFile: file }, gt).catch((err: Error) => err);
      // Named by a file that is not there: the bytes given are all that is read.
      const fromMemory = await compareBoardOutput({ name: 'boxes', tensor: listing, dumpFile: path.join(dir, 'never-written.bin'), dumpBytes: new Uint8Array(bytes) }, gt).catch((err: Error) => err);
      if (fromFile instanceof Error) expect(fromMemory).toMatchObject({ code: (fromFile as Error & { code: string }).code });
      else expect(fromMemory).toEqual(fromFile);
    }
  });

  it('a raw gt file nothing describes is a bad local file', async () => {
    const dir = await tmp();
    await writeBin(path.join(dir, 'out.bin'), Float32Array.from([1]));
    const gt: GtFile = { tensorName: 'out', fileBase: 'out', bin: path.join(dir, 'out.bin') };
    await expect(compareBoardOutput({ name: 'out', tensor: null, dumpFile: path.join(dir, 'out.bin') }, gt)).rejects.toMatchObject({ code: 'GT_TENSOR_UNDESCRIBED', exitCode: 2 });
  });
});
