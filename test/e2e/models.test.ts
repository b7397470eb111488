/**
 * Models whose names and order a careless implementation would get wrong: inputs that are
 * not in alphabetical order (two of the same size, so a swap would run but compute something
 * else), output names with '/', an input name with '/' that the host learns from the agent.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../host/report/model';
import { makeGt, writeModel } from '../../scripts/sim/make-gt';
import { readyModel } from '../../scripts/sim/ready-models';
import { Cleanup, makeFixture, parseJson, requireBuild, runCli, startAgent, targetArgs, tempDir, type Fixture } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

/** Two same-size inputs listed as 'zeta' then 'alpha'. */
async function twinInputFixture(dir: string): Promise<Fixture> {
  const base = readyModel('multi-input');
  const first = base.inputs[0]!;
  const model = path.join(dir, 'twins.joint');
  writeModel({ ...base, inputs: [{ ...first, name: 'zeta' }, { ...first, name: 'alpha' }] }, model);
  const gt = path.join(dir, 'gt-twins');
  await makeGt(model, gt, { seed: 5 });
  return { dir, model, gt };
}

describe('names and order', () => {
  it('feeds inputs in the model\'s order, not alphabetically: two same-size inputs zeta, alpha', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await twinInputFixture(dir);
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(0);
    expect(report.verdict).toBe('match');
    expect(report.io.inputs.map((i) => i.name)).toEqual(['zeta', 'alpha']);
    expect(report.outputs.every((o) => o.exact)).toBe(true);

    // Swapping the two files changes what the board computes: the match above is not luck.
    const zeta = path.join(fx.gt, 'input', 'zeta.bin');
    const alpha = path.join(fx.gt, 'input', 'alpha.bin');
    const [z, a] = await Promise.all([fsp.readFile(zeta), fsp.readFile(alpha)]);
    await Promise.all([fsp.writeFile(zeta, a), fsp.writeFile(alpha, z)]);
    const swapped = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    expect(swapped.code).toBe(1);
  });

  it('multi-input (rgb_image, depth, aux) with outputs named head/cls_score and head/bbox/pred', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'multi-input', 3);
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(0);
    expect(report.io.inputs.map((i) => i.name)).toEqual(['rgb_image', 'depth', 'aux']);
    expect(report.outputs.map((o) => [o.name, o.dtype, o.layout, o.q, o.exact])).toEqual([
      ['head/cls_score', 'sint8', 'NHWC', 32, true],
      ['head/bbox/pred', 'float32', 'NCHW', null, true],
    ]);
    expect(report.compile!.outputs.map((o) => o.name)).toEqual(['head/cls_score', 'head/bbox/pred']);
    expect(report.compile!.outputs.every((o) => !o.lossy && o.cosine > 0.99)).toBe(true);
    expect(report.io.outputs[0]).toMatchObject({ name: 'head/cls_score', q: 32 });
    expect(report.advice.join('\n')).toMatch(/head\/cls_score.*Q=32: divide by 32/);
  });

  it("learns an input name with '/' from the agent and keeps the board's outputs with --save-outputs", async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'multi-input', 4);
    // The same computation with the input renamed sensor/depth; its gt file is sensor_depth.bin.
    const base = readyModel('multi-input');
    const model = path.join(dir, 'slash.joint');
    writeModel({ ...base, inputs: base.inputs.map((t) => (t.name === 'depth' ? { ...t, name: 'sensor/depth' } : t)) }, model);
    for (const ext of ['bin', 'npy']) await fsp.rename(path.join(fx.gt, 'input', `depth.${ext}`), path.join(fx.gt, 'input', `sensor_depth.${ext}`));
    const saved = path.join(dir, 'outputs');
    const res = await runCli(['verify', '--board', agent.url, '--model', model, '--gt', fx.gt, '--token-file', agent.tokenFile, '--json', '--save-outputs', saved], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(0);
    expect(report.io.inputs.map((i) => i.name)).toEqual(['rgb_image', 'sensor/depth', 'aux']);
    expect((await fsp.readdir(saved)).sort()).toEqual(['.axctl-saved-outputs.json', 'head_bbox_pred.bin', 'head_cls_score.bin']);
    const dumped = await fsp.readFile(path.join(saved, 'head_cls_score.bin'));
    expect(dumped.equals(await fsp.readFile(path.join(fx.gt, 'joint', 'head_cls_score.bin')))).toBe(true);
  });

  it('reports a lossy compile stage beside a board match', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    await makeGt(fx.model, fx.gt, { seed: 1, compileLoss: true });
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(0);
    expect(report.verdict).toBe('match');
    expect(report.compile!.lossy).toBe(true);
    expect(report.compile!.outputs[0]!.cosine).toBeLessThan(0.98);
    expect(report.advice.join('\n')).toMatch(/compile stage lost precision/);
  });
});
