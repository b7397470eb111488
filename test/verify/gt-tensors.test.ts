/** gt files read once per verify (the compile stage and the board's comparison share gt/joint), errors not kept. */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GtTensors } from '../../host/verify/tensors';
import type { GtFile } from '../../shared/parsers/gt-folder';
import { writeNpy } from '../../shared/tensor/npy';
import { readAll } from '../../shared/tensor/open';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

describe('GtTensors', () => {
  it('reads a gt file once: a second reader gets the same data though the file is gone; a failed read is tried again', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-gt-tensors-'));
    dirs.push(dir);
    const npy = path.join(dir, 'out.npy');
    const gt: GtFile = { tensorName: 'out', fileBase: 'out', npy };
    const tensors = new GtTensors();
    await expect(tensors.load(gt, null)).rejects.toMatchObject({ exitCode: 2 });
    await writeNpy(npy, 'float32', [1, 3], Float32Array.from([1, 2, 3]));
    const first = await tensors.load(gt, { dtype: 'float32', shape: [1, 3] });
    await fsp.rm(npy);
    const again = await tensors.load(gt, null); // a .npy's header decides: the spec asked does not matter
    expect(again).toBe(first);
    expect([...(await readAll(again))]).toEqual([1, 2, 3]);
    expect([...(await readAll(again))]).toEqual([1, 2, 3]); // and it reads again, for the next stage
  });
});
