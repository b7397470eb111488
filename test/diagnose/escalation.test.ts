/**
 * The escalation's minimal reproduction names the gt input files as they are in the gt folder:
 * a copy made on Windows has `rgb_image.BIN`, and the board's file system tells case apart, so
 * `--data gt/input/rgb_image.bin` would make run_joint fall back to random data.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareEscalation } from '../../host/diagnose/escalation';
import type { VerifyReport } from '../../host/report/model';
import { verifyMismatch } from '../fixtures/report/verify';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-escalation-');
afterEach(dirs.cleanup);

const input = (name: string) => ({ name, shape: [1, 8], layout: 'NHWC', dtype: 'uint8', colorSpace: null });

async function reproduction(inputs: string[], files: string[]): Promise<string> {
  const dir = dirs.make();
  const gt = path.join(dir, 'gt');
  await fsp.mkdir(path.join(gt, 'input'), { recursive: true });
  await fsp.mkdir(path.join(gt, 'joint'));
  for (const file of files) await fsp.writeFile(path.join(gt, 'input', file), Buffer.alloc(8));
  const report = { ...verifyMismatch, io: { ...verifyMismatch.io, inputs: inputs.map(input) } } as VerifyReport;
  const lines = await prepareEscalation({ report, reportFile: null, joint: path.join(dir, 'model.joint'), gt, toolchain: null, workDir: dir, argv: ['axctl', 'diagnose'] });
  return lines.find((l) => l.startsWith('Minimal reproduction'))!;
}

describe('the minimal reproduction', () => {
  it('names each input file as the gt folder has it, in the model input order', async () => {
    const line = await reproduction(['rgb_image', 'depth', 'aux/mask'], ['aux_mask.bin', 'depth.Bin', 'rgb_image.BIN']);
    expect(line).toContain("--data 'gt/input/rgb_image.BIN;gt/input/depth.Bin;gt/input/aux_mask.bin'");
  });

  it('pairs the only input with the only file whatever its name, and falls back to <name>.bin when a file is missing', async () => {
    expect(await reproduction(['images'], ['data.bin'])).toContain('--data gt/input/data.bin ');
    expect(await reproduction(['a', 'b'], ['a.bin'])).toContain("--data 'gt/input/a.bin;gt/input/b.bin'");
  });
});
