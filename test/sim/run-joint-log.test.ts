import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { FIXTURES, lines, lineShape, runSim } from './helpers';
import { tempDirs } from '../temp-dirs';

const tmp = tempDirs('axsim-test-');
let dir: string;
let classifier: string;
let multi: string;

beforeAll(async () => {
  dir = tmp.make();
  classifier = path.join(dir, 'classifier.joint');
  multi = path.join(dir, 'multi.joint');
  makeModel('classifier', classifier);
  makeModel('multi-input', multi);
  await makeGt(classifier, path.join(dir, 'gt'), { seed: 3 });
});
afterAll(() => tmp.cleanup());

describe('run-joint log format', () => {
  it('has the same lines as the real resnet18 log (digits and whitespace aside)', async () => {
    // The fixture is the documented `run_joint resnet18.joint --repeat 100 --warmup 10`.
    const r = await runSim([classifier, '--repeat', '100', '--warmup', '10']);
    expect(r.code).toBe(0);
    const fixture = lines(fs.readFileSync(path.join(FIXTURES, 'ax620-resnet18-8bit.log'), 'utf8'));
    while (fixture[fixture.length - 1] === '') fixture.pop();
    expect(lines(r.stdout).map(lineShape)).toEqual(fixture.map(lineShape));
  });

  it('prints the exact printf strings of run_joint.cc, tabs and trailing spaces included', async () => {
    const r = await runSim([classifier, '--repeat', '100', '-d', path.join(dir, 'gt', 'input', 'data.bin')]);
    const out = lines(r.stdout);
    expect(out.slice(0, 23)).toEqual([
      'run joint version: 0.5.10',
      '',
      'virtual npu mode is 1_1',
      '',
      'tools version: 0.6.1.4',
      '59588c54',
      'Using wbt 0',
      'Max Batch Size 1',
      'Support Dynamic Batch? No',
      'Is FilterMode? No',
      '',
      'Quantization Type is 8 bit',
      '',
      'Input[0]: data',
      '    Shape [1, 32, 32, 3] NHWC uint8 RGB ',
      '    Memory Physical',
      '    Size 3072',
      'Output[0]: resnetv15_dense0_fwd',
      '    Shape [1, 10] NHWC float32 ',
      '    Memory Physical',
      '    Size 40',
      '',
      'Using batch size 1',
    ]);
    // The input was given and fits: no fallback line between the two blank lines.
    expect(out.slice(23, 29)).toEqual([
      '',
      'Not set environment variable to report memory usage!',
      '',
      'CMM usage: 13761984',
      '',
      expect.stringMatching(/^Create handle took \d+\.\d\d ms \(neu 10\.77 ms, onnx 0\.00 ms, axe 0\.00 ms, overhead \d+\.\d\d ms\)$/),
    ]);
    expect(out[29]).toMatch(/^Run task took \d+ us \(99 rounds for average\)$/);
    expect(out.slice(30)).toEqual([
      '\tRun NEU took an average of 5378 us (overhead 10 us)',
      '',
      'NPU perf cnt total: 4190383',
      '\tNPU perf cnt of eu(0): 2543447',
      '\tNPU perf cnt of eu(1): 0',
      '\tNPU perf cnt of eu(2): 0',
      '\tNPU perf cnt of eu(3): 2645657',
      '\tNPU perf cnt of eu(4): 0',
    ]);
    expect(r.stderr).toBe('');
  });

  it('prints Q= on integer outputs, Memory Virtual and one line per component of a model with a CPU tail', async () => {
    const r = await runSim([multi]);
    const out = lines(r.stdout);
    expect(out).toContain('Quantization Type is mix');
    expect(out).toContain('    Shape [1, 16, 16, 1] NHWC uint16 FeatureMap ');
    expect(out.slice(out.indexOf('Output[0]: head/cls_score'), out.indexOf('Output[0]: head/cls_score') + 8)).toEqual([
      'Output[0]: head/cls_score',
      '    Shape [1, 4, 4, 6] NHWC sint8 Q=32',
      '    Memory Physical',
      '    Size 96',
      'Output[1]: head/bbox/pred',
      '    Shape [1, 4, 4, 4] NCHW float32 ',
      '    Memory Virtual',
      '    Size 256',
    ]);
    const run = out.findIndex((l) => l.startsWith('Run task took'));
    expect(out[run]).toMatch(/^Run task took \d+ us \(1 rounds for average\)$/);
    expect(out.slice(run + 1, run + 4)).toEqual([
      '\tRun NEU took an average of 32626 us (overhead 22 us)',
      '\tRun AXE took an average of 43 us (overhead 4 us)',
      '',
    ]);
    expect(out[run - 1]).toMatch(/^Create handle took \d+\.\d\d ms \(neu 44\.76 ms, onnx 0\.00 ms, axe 13\.89 ms, overhead \d+\.\d\d ms\)$/);
    // Same component lines as the real resnet50 log with a CPU tail.
    const fixture = lines(fs.readFileSync(path.join(FIXTURES, 'ax620-resnet50-axe-tail.log'), 'utf8'));
    expect(out.slice(run - 1, run + 3).map(lineShape)).toEqual(fixture.slice(-4).map(lineShape));
  });

  it('puts the dump lines after the NPU perf counters, at the very end', async () => {
    const out = path.join(dir, 'order');
    fs.mkdirSync(out);
    const r = await runSim([multi, '--bin-out-dir', out]);
    expect(lines(r.stdout).slice(-4)).toEqual([
      '\tNPU perf cnt of eu(3): 16877193',
      '\tNPU perf cnt of eu(4): 0',
      `dump output[0] head/cls_score as ${out}/head_cls_score.bin success`,
      `dump output[1] head/bbox/pred as ${out}/head_bbox_pred.bin success`,
    ]);
  });

  it('reports the memory-detail message instead when AX_JOINT_MEMORY_DETAIL=ON', async () => {
    const r = await runSim([classifier], { env: { AX_JOINT_MEMORY_DETAIL: 'ON' } });
    const out = lines(r.stdout);
    expect(out).toContain('Report memory usage after AX_JOINT_RunSync');
    expect(out).not.toContain('Not set environment variable to report memory usage!');
  });

  it('prints the --mode choice the way run_joint does', async () => {
    expect(lines((await runSim([classifier, '--mode', 'disable'])).stdout).slice(1, 4)).toEqual(['', 'virtual npu disable', '']);
    expect(lines((await runSim([classifier, '--mode=1_1'])).stdout).slice(1, 4)).toEqual(['', 'virtual npu mode is 1_1', '']);
  });

  it('prints "alloc buffer with stride" before the I/O setup when --stride_w is given', async () => {
    const out = lines((await runSim([classifier, '--stride_w', '8'])).stdout);
    const at = out.indexOf('alloc buffer with stride 8');
    expect(at).toBeGreaterThan(0);
    expect(out.slice(at - 1, at + 3)).toEqual(['    Size 40', 'alloc buffer with stride 8', '', 'Using batch size 1']);
  });
});
