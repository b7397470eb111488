/**
 * End to end: the compiled CLI (`npm run build` first) run as a child process on files written
 * like pulsar run and run_joint write them; checks stdout, stderr and the exit code.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpyHeader, writeBin, writeNpy } from '../../shared/tensor';
import { writeScenario } from './scenario';

const root = path.join(__dirname, '../..');
const cli = path.join(root, 'dist/host/cli.js');
let tmp: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function axctl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'compare', ...args], { cwd: tmp, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A bad input: exit 2, nothing on stdout, one `axctl: <start>...` line, no stack trace. */
function expectOneLineError(run: Run, start: string, problem: RegExp): void {
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`axctl: ${start}`)).toBe(true);
  expect(lines[0]).toMatch(problem);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(2);
}

/** A copy of out/ to change, so tests do not disturb each other. */
function copyOut(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(tmp, 'out'), dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/host/commands/compare.js'))) {
    throw new Error('dist/host/commands/compare.js is missing: run `npm run build` before these tests');
  }
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-compare-cli-'));
  await writeScenario(tmp);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('axctl compare (compiled CLI): verdicts', () => {
  it('board dumps equal to gt/joint: a table of exact rows, exit 0', async () => {
    const run = await axctl('gt/joint', 'out');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['name', 'dtype', 'shape', 'cosine', 'relErr2', 'maxAbsDiff', 'mismatched', 'verdict']);
    expect(lines[2]).toMatch(/^_head_conv_out\s+int16\s+\[1, 2, 2, 3\]\s+1\s+0%\s+0\s+0\s+exact$/);
    expect(lines.filter((l) => / exact$/.test(l))).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/^PASS: 3 of 3 outputs within tolerance \(board-vs-simulator: .*bit-exact/);
  });

  it('one integer step off on the board: exit 1, JSON names the element', async () => {
    const out = copyOut('out-lsb');
    await writeBin(path.join(out, '_head_conv_out.bin'), Int16Array.from({ length: 12 }, (_, i) => (i - 6) * 300 + (i === 7 ? 1 : 0)));
    const run = await axctl('gt/joint', out, '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.pass).toBe(false);
    expect(report.outputs.map((o: { name: string }) => o.name)).toEqual(['_head_conv_out', 'logits_q', 'prob']);
    const conv = report.outputs[0];
    expect(conv).toMatchObject({ name: '_head_conv_out', pass: false, mismatched: 1, exact: false, maxAbsDiff: 1, nan: { ref: 0, got: 0 } });
    expect(conv.worst).toEqual({ index: 7, multiIndex: [0, 1, 0, 1], ref: 300, got: 301, absDiff: 1 });
    for (const field of ['cosine', 'relErr2', 'meanAbsDiff']) expect(typeof conv[field]).toBe('number');
    expect(conv.reasons[0]).toMatch(/1 of 12 elements .* differ \(bit-exact required\)/);
    expect(report.outputs[1]).toMatchObject({ pass: true, exact: true });
  });

  it('compile stage with --log: integer outputs dequantized by Q, in the log order', async () => {
    const run = await axctl('gt/onnx', 'out', '--log', 'run_joint.log', '--stage', 'compile', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.stage).toBe('onnx-vs-joint');
    expect(report.outputs.map((o: { name: string; q: number | null }) => [o.name, o.q])).toEqual([
      ['_head_conv_out', 256],
      ['prob', null],
      ['logits_q', 16],
    ]);
    for (const o of report.outputs) {
      expect(o.pass).toBe(true);
      expect(o.cosine).toBeGreaterThan(0.98);
      expect(o.tolerance).toMatchObject({ minCosine: 0.98, requireAllclose: false });
    }
    expect(report.outputs[0].got).toMatchObject({ dtype: 'int16', shape: [1, 2, 2, 3] });
  });

  it('--q dequantizes a single integer file against a float reference', async () => {
    const run = await axctl('gt/onnx/logits_q.npy', 'out/logits_q.bin', '--dtype', 'sint8', '--shape', '1,10', '--q', '16', '--stage', 'compile');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^logits_q\s+float32\/int8 Q=16\s+\[1, 10\]/m);
  });

  it('files present on one side only are failures', async () => {
    const out = copyOut('out-partial');
    rmSync(path.join(out, 'prob.bin'));
    await writeBin(path.join(out, 'extra.bin'), new Float32Array(4));
    const run = await axctl('gt/joint', out, '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const byName = Object.fromEntries(report.outputs.map((o: { name: string }) => [o.name, o]));
    expect(byName.prob).toMatchObject({ pass: false, cosine: null, got: null });
    expect(byName.prob.reasons[0]).toMatch(/prob\.npy has no counterpart prob\.npy or prob\.bin in /);
    expect(byName.extra).toMatchObject({ pass: false, ref: null });
    expect(byName._head_conv_out.pass).toBe(true);
  });

  it('a NaN on the board never passes, even in the compile stage', async () => {
    const out = copyOut('out-nan');
    const prob = Float32Array.from({ length: 10 }, (_, i) => ((i * 7) % 10) / 45);
    prob[3] = NaN;
    await writeBin(path.join(out, 'prob.bin'), prob);
    for (const stage of ['board', 'compile']) {
      const run = await axctl('gt/joint', out, '--stage', stage, '--json');
      expect(run.code).toBe(1);
      const o = JSON.parse(run.stdout).outputs.find((x: { name: string }) => x.name === 'prob');
      expect(o).toMatchObject({ pass: false, nan: { ref: 0, got: 1 }, worst: { index: 3, got: 'NaN' } });
      expect(o.reasons.join()).toMatch(/NaN or Inf/);
    }
  });

  it('writes non-finite metrics as strings in JSON', async () => {
    const dir = path.join(tmp, 'zeros');
    mkdirSync(dir);
    await writeNpy(path.join(dir, 'ref.npy'), 'float32', [4], new Float32Array(4));
    await writeNpy(path.join(dir, 'got.npy'), 'float32', [4], Float32Array.of(0, 0, 1, 0));
    const run = await axctl(path.join(dir, 'ref.npy'), path.join(dir, 'got.npy'), '--json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).outputs[0]).toMatchObject({ relErr2: 'Infinity', maxRelDiff: 'Infinity', cosine: 0 });
  });
});

describe('axctl compare (compiled CLI): bad input exits 2 with one line', () => {
  it('a .npy whose header promises more data than it holds', async () => {
    const file = path.join(tmp, 'lying.npy');
    writeFileSync(file, Buffer.concat([encodeNpyHeader('float32', [1, 20]), Buffer.alloc(40)]));
    expectOneLineError(await axctl('gt/joint/prob.npy', file), file, /./);
  });

  it('a dump whose size does not fit the reference it borrows its dtype from', async () => {
    const run = await axctl('gt/onnx', 'out');
    expectOneLineError(run, path.join('out', '_head_conv_out.bin'), /is 24 bytes, but .*float32 \[1, 2, 2, 3\]\) says it should be 48/);
  });

  it('a .bin whose size does not fit --dtype/--shape', async () => {
    expectOneLineError(await axctl('gt/joint/prob.npy', 'out/prob.bin', '--shape', '1,11'), 'out/prob.bin', /40 bytes/);
  });

  it('an unknown --dtype', async () => {
    const run = await axctl('gt/joint/prob.npy', 'out/prob.bin', '--dtype', 'float7');
    expectOneLineError(run, "unknown dtype 'float7'", /use one of/);
  });

  it('an empty dump', async () => {
    const file = path.join(tmp, 'empty.bin');
    writeFileSync(file, '');
    expectOneLineError(await axctl('gt/joint/prob.npy', file), file, /is empty \(0 bytes\)/);
  });

  it('a folder where a file is expected', async () => {
    expectOneLineError(await axctl('gt/joint/prob.npy', 'out'), 'out', /is a folder, but gt\/joint\/prob\.npy is a file/);
  });

  it('a missing file', async () => {
    expectOneLineError(await axctl('gt/joint/prob.npy', 'nothing.bin'), 'nothing.bin', /no such file/);
  });

  it('a raw file nothing describes', async () => {
    const run = await axctl('out/prob.bin', 'out/logits_q.bin');
    expectOneLineError(run, 'out/prob.bin', /dtype is unknown/);
  });

  it('a --log that is not a run_joint log', async () => {
    writeFileSync(path.join(tmp, 'notes.txt'), 'hello\n');
    expectOneLineError(await axctl('gt/joint', 'out', '--log', 'notes.txt'), 'notes.txt', /is not a run_joint log/);
  });

  it('a gt root folder instead of gt/joint', async () => {
    expectOneLineError(await axctl('gt', 'out'), 'gt', /holds no \.npy or \.bin files \(it looks like a gt folder: name gt\/joint/);
  });

  it('a bad tolerance', async () => {
    expectOneLineError(await axctl('gt/joint', 'out', '--rtol', '-1'), 'rtol -1', /is not a number >= 0/);
  });
});
