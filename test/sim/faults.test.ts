import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel, writeModel } from '../../scripts/sim/make-gt';
import { readyModel } from '../../scripts/sim/ready-models';
import { collect, cosine, floats, int8s, lines, requireBuild, runSim, SIM, startSim } from './helpers';
import { tempDirs } from '../temp-dirs';

const tmp = tempDirs('axsim-test-');
let dir: string;
let multi: string;
let big: string;
let gt: string;
let data: string;

/** A model with enough outputs that its header alone is more than 4 KiB of log. */
function bigModel(): ReturnType<typeof readyModel> {
  const base = readyModel('classifier');
  const outputs = Array.from({ length: 60 }, (_, i) => ({ ...base.outputs[0], name: `big/out_${i}` }));
  return { ...base, outputs };
}

beforeAll(async () => {
  dir = tmp.make();
  multi = path.join(dir, 'multi.joint');
  makeModel('multi-input', multi);
  big = path.join(dir, 'big.joint');
  writeModel(bigModel(), big);
  gt = path.join(dir, 'gt');
  await makeGt(multi, gt, { seed: 9 });
  data = ['rgb_image', 'depth', 'aux'].map((n) => path.join(gt, 'input', `${n}.bin`)).join(';');
});
afterAll(() => tmp.cleanup());

async function dump(fault: string | undefined): Promise<{ code: number | null; out: string; stdout: string }> {
  const out = fs.mkdtempSync(path.join(dir, 'out-'));
  const r = await runSim([multi, '-d', data, '--bin-out-dir', out], { fault });
  return { code: r.code, out, stdout: r.stdout };
}

function waitForExit(child: ReturnType<typeof startSim>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('AXSIM_FAULT', () => {
  it('healthy: every dump equals gt/joint', async () => {
    const r = await dump(undefined);
    for (const f of ['head_cls_score.bin', 'head_bbox_pred.bin']) {
      expect(fs.readFileSync(path.join(r.out, f))).toEqual(fs.readFileSync(path.join(gt, 'joint', f)));
    }
  });

  it('perturb: float outputs differ slightly (cosine > 0.999), integer outputs stay exact', async () => {
    const r = await dump('perturb');
    expect(r.code).toBe(0);
    const board = floats(path.join(r.out, 'head_bbox_pred.bin'));
    const sim = floats(path.join(gt, 'joint', 'head_bbox_pred.bin'));
    expect(Array.from(board)).not.toEqual(Array.from(sim));
    expect(cosine(board, sim)).toBeGreaterThan(0.999);
    expect(fs.readFileSync(path.join(r.out, 'head_cls_score.bin'))).toEqual(fs.readFileSync(path.join(gt, 'joint', 'head_cls_score.bin')));
  });

  it('off-by-one: exactly one element of the integer output differs, by one', async () => {
    const r = await dump('off-by-one');
    const board = int8s(path.join(r.out, 'head_cls_score.bin'));
    const sim = int8s(path.join(gt, 'joint', 'head_cls_score.bin'));
    const diffs = Array.from(board).map((v, i) => v - sim[i]).filter((d) => d !== 0);
    expect(diffs).toHaveLength(1);
    expect(Math.abs(diffs[0])).toBe(1);
    expect(fs.readFileSync(path.join(r.out, 'head_bbox_pred.bin'))).toEqual(fs.readFileSync(path.join(gt, 'joint', 'head_bbox_pred.bin')));
  });

  it('no-dump and no-dump=I: that output\'s dump fails and its file is missing, the rest is dumped', async () => {
    const first = await dump('no-dump');
    expect(first.code).toBe(0);
    expect(lines(first.stdout).slice(-2)).toEqual([
      `dump output[0] head/cls_score as ${first.out}/head_cls_score.bin failed`,
      `dump output[1] head/bbox/pred as ${first.out}/head_bbox_pred.bin success`,
    ]);
    expect(fs.readdirSync(first.out)).toEqual(['head_bbox_pred.bin']);
    const second = await dump('no-dump=1');
    expect(lines(second.stdout).slice(-1)).toEqual([`dump output[1] head/bbox/pred as ${second.out}/head_bbox_pred.bin failed`]);
    expect(fs.readdirSync(second.out)).toEqual(['head_cls_score.bin']);
  });

  it('abort: SIGABRT in AX_JOINT_RunSync; buffered stdout is lost, stderr has the assertion, nothing is dumped', async () => {
    const r = await dump('abort');
    expect(r.code).toBeNull();
    expect(r.stdout).toBe('');
    expect(fs.readdirSync(r.out)).toEqual([]);
    const again = await runSim([multi], { fault: 'abort' });
    expect(again.signal).toBe('SIGABRT');
    expect(again.stderr).toBe("run_joint: run_joint.cc:691: int main(int, char**): Assertion `AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync(joint_handle, joint_ctx, &io)' failed.\n");
    const warm = await runSim([multi, '--warmup', '2'], { fault: 'abort' });
    expect(warm.stderr).toContain('run_joint.cc:687:');
  });

  it('abort after more than 4 KiB of log: exactly the full 4096-byte blocks reached the pipe', async () => {
    const healthy = await runSim([big]);
    expect(healthy.stdout.length).toBeGreaterThan(4096);
    const r = await runSim([big], { fault: 'abort' });
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout.length).toBe(4096 * Math.floor(healthy.stdout.indexOf('Not set environment') / 4096));
    expect(healthy.stdout.startsWith(r.stdout)).toBe(true);
  });

  it('on a terminal stdout is line-buffered, so the lines before an abort are seen', async () => {
    requireBuild();
    // `script` gives the child a pseudo-terminal; AXSIM_FAULT reaches it through the environment.
    const r = await promisify(execFile)('script', ['-qec', `${process.execPath} ${SIM} ${multi}`, '/dev/null'], {
      env: { ...process.env, AXSIM_FAULT: 'abort' },
      cwd: dir,
    }).catch((err: { stdout: string }) => err);
    expect(r.stdout).toContain('Using batch size 1');
    expect(r.stdout).toContain('Assertion `AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync');
  });

  it('hang: never exits on its own; SIGTERM ends it and the buffered log is lost', async () => {
    const child = startSim([big], { fault: 'hang' });
    const result = collect(child);
    expect(await waitForExit(child, 1500)).toBe(false);
    child.kill('SIGTERM');
    const r = await result;
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout.length % 4096).toBe(0);
    expect(r.stdout).not.toContain('Run task took');
  });

  it('hang-ignore-term: SIGTERM is ignored, SIGKILL ends it', async () => {
    const child = startSim([big], { fault: 'hang-ignore-term' });
    const result = collect(child);
    // The first 4 KiB block of the log reaches the pipe just before the run hangs; give the
    // simulator ample time to get from there into the hung RunSync.
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');
    expect(await waitForExit(child, 1000)).toBe(false);
    child.kill('SIGKILL');
    const r = await result;
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout.length).toBe(4096);
  });

  it('slow=MS: every round takes at least MS more, warm-up rounds included', async () => {
    const r = await runSim([multi, '--repeat', '3', '--warmup', '1'], { fault: 'slow=60' });
    const took = Number(/Run task took (\d+) us \(2 rounds for average\)/.exec(r.stdout)?.[1]);
    expect(took).toBeGreaterThanOrEqual(60000 + 32626 + 22 + 43 + 4);
    // NEU's own time is the model's; the delay is outside it.
    expect(lines(r.stdout)).toContain('\tRun NEU took an average of 32626 us (overhead 22 us)');
  });

  it('takes several faults at once, separated by commas', async () => {
    const r = await dump('perturb, off-by-one,no-dump=1');
    expect(fs.readdirSync(r.out)).toEqual(['head_cls_score.bin']);
    const diffs = Array.from(int8s(path.join(r.out, 'head_cls_score.bin'))).filter((v, i) => v !== int8s(path.join(gt, 'joint', 'head_cls_score.bin'))[i]);
    expect(diffs).toHaveLength(1);
  });

  it('refuses an unknown fault with exit 2 and a message naming it', async () => {
    const r = await runSim([multi], { fault: 'explode' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^AXSIM_FAULT: unknown fault 'explode'/);
  });
});
