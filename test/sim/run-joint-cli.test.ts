import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../scripts/sim/make-gt';
import { lines, requireBuild, runSim, SIM } from './helpers';
import { tempDirs } from '../temp-dirs';

const tmp = tempDirs('axsim-test-');
let dir: string;
let classifier: string;

const USAGE = [
  'usage: run_joint [options] ... joint-file',
  'options:',
  '      --mode                   NPU mode, disable for no virtual npu; 1_1 for AX_NPU_VIRTUAL_1_1 (string [=])',
  '  -d, --data                   The format is file0;file1... to specify data files for input vars.',
  "\t'file*' would be directly loaded in binary format to tensor in order (string [=])",
  '      --bin-out-dir            Dump output tensors in binary format (string [=])',
  '      --repeat                 Repeat times for inference (int [=1])',
  '      --warmup                 Repeat times for warmup (int [=0])',
  '      --stride_w               mock input data with extra width stride (int [=0])',
  '      --override_batch_size    override batch size for dynamic batch model (int [=0])',
  '      --wbt_index              select WBT for inference (int [=0])',
  '  -p, --manual_alloc           manually alloc buffer with ax sys api instead of joint api',
  '  -t, --enable_trunc           truncate input data size to model required size when using a larger input data, experimental function, will be removed in future release',
  "      --cache-mode             'CACHED' means use only cached CMM memory; 'NONE-CACHED' means use only none-cached CMM memory; 'SMART_CACHED' means use cached and none-cached CMM memory in turn (string [=CACHED])",
  '  -?, --help                   print this message',
];

beforeAll(() => {
  dir = tmp.make();
  classifier = path.join(dir, 'classifier.joint');
  makeModel('classifier', classifier);
});
afterAll(() => tmp.cleanup());

describe('run-joint command line (cmdline.h)', () => {
  it('prints the usage on stderr and exits 0 for -? and --help', async () => {
    for (const flag of ['-?', '--help']) {
      const r = await runSim([flag, classifier]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual(USAGE);
    }
  });

  it('rejects -h like the real tool: the first error, then the usage, exit 1', async () => {
    const r = await runSim(['-h']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual(['undefined short option: -h', ...USAGE]);
  });

  it.each([
    [['--frobnicate', 'x.joint'], 'undefined option: --frobnicate'],
    [['--frob=1', 'x.joint'], 'undefined option: --frob'],
    [['x.joint', '--repeat'], 'option needs value: --repeat'],
    [['x.joint', '--repeat=abc'], 'option value is invalid: --repeat=abc'],
    [['x.joint', '--repeat', '10 '], 'option value is invalid: --repeat=10 '],
    [['x.joint', '--warmup', '1e3'], 'option value is invalid: --warmup=1e3'],
    [['x.joint', '--repeat', '99999999999'], 'option value is invalid: --repeat=99999999999'],
    [['x.joint', '--manual_alloc=1'], 'option value is invalid: --manual_alloc=1'],
    [['x.joint', '-x'], 'undefined short option: -x'],
    [['x.joint', '-pz'], 'undefined short option: -z'],
    [['x.joint', '-d'], 'option needs value: --data'],
  ])('%j → %s', async (args, error) => {
    const r = await runSim(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([error, ...USAGE]);
  });

  it('accepts every documented option, with values in both spellings, and bundled flags', async () => {
    const r = await runSim([
      '--mode=1_1', '--repeat', '2', '--warmup=1', '--stride_w', '0', '--override_batch_size=0', '--wbt_index', '0',
      '-pt', '--cache-mode', 'SMART_CACHED', classifier,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toContainEqual(expect.stringMatching(/^Run task took \d+ us \(1 rounds for average\)$/));
  });

  it('takes the value after a long option even when it looks like an option', async () => {
    const r = await runSim([classifier, '--data', '--repeat']);
    expect(lines(r.stdout)).toContain('read file --repeat for input[0] data data failed, using random data');
  });

  it('returns -1 (exit 255) with "must specify joint file" when no model is named', async () => {
    const r = await runSim([]);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('run joint version: 0.5.10\nmust specify joint file\n');
  });

  it('returns -1 (exit 255) with "read file X failed" for a model it cannot read', async () => {
    const missing = path.join(dir, 'missing.joint');
    const r = await runSim([missing]);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe(`run joint version: 0.5.10\nread file ${missing} failed\n`);
  });

  it('uses the first positional argument as the model and ignores the rest', async () => {
    const r = await runSim([classifier, path.join(dir, 'ignored.joint')]);
    expect(r.code).toBe(0);
  });

  it('runs directly as an executable (shebang, executable bit)', async () => {
    requireBuild();
    const r = await promisify(execFile)(SIM, [classifier]);
    expect(r.stdout.startsWith('run joint version: 0.5.10\n')).toBe(true);
  });
});

describe('run-joint assertion failures', () => {
  it('aborts on a file that is not a joint: the WARN line is lost with the buffer, the assertion is on stderr', async () => {
    const garbage = path.join(dir, 'garbage.joint');
    fs.writeFileSync(garbage, 'this is not a model\n');
    const r = await runSim([garbage]);
    expect(r.signal).toBe('SIGABRT');
    expect(r.code).toBeNull();
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('run_joint: run_joint.cc:219: AX_S32 parse_npu_mode_from_joint(const AX_CHAR*, AX_U32, AX_NPU_SDK_EX_HARD_MODE_T*): Assertion `0\' failed.\n');
  });

  it('aborts in AX_JOINT_CreateHandle when --mode skips the model-type check, also for an empty file', async () => {
    const empty = path.join(dir, 'empty.joint');
    fs.writeFileSync(empty, '');
    const r = await runSim(['--mode', '1_1', empty]);
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderr).toBe('run_joint: run_joint.cc:603: int main(int, char**): Assertion `AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_CreateHandle(&joint_handle, joint.data(), joint.size())\' failed.\n');
  });

  it('aborts on a joint whose JSON does not describe a model', async () => {
    const bad = path.join(dir, 'bad.joint');
    fs.writeFileSync(bad, 'AXSIMJOINT 1\n{"inputs": []}\n');
    expect((await runSim([bad])).signal).toBe('SIGABRT');
  });

  it('aborts on an unknown --mode and on a negative --wbt_index', async () => {
    const mode = await runSim(['--mode', '3_1', classifier]);
    expect(mode.signal).toBe('SIGABRT');
    expect(mode.stderr).toBe("run_joint: run_joint.cc:596: int main(int, char**): Assertion `0' failed.\n");
    const wbt = await runSim(['--wbt_index', '-1', classifier]);
    expect(wbt.signal).toBe('SIGABRT');
    expect(wbt.stderr).toBe("run_joint: run_joint.cc:616: int main(int, char**): Assertion `0' failed.\n");
  });
});
