/**
 * End to end: the compiled CLI (`npm run build` first) run as a child process, checking what a
 * user sees: stdout, stderr and the exit code.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '../..');
const cli = path.join(root, 'dist/host/cli.js');
const fx = (name: string) => path.join(__dirname, '../fixtures/parsers', name);
let tmp: string;

interface Run { code: number; stdout: string; stderr: string }

function axctl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: tmp, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A user error: exit 2, nothing on stdout, one `axctl: FILE...` line and no stack trace. */
function expectOneLineError(run: Run, start: string): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`axctl: ${start}`)).toBe(true);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/host/commands/inspect.js'))) {
    throw new Error('dist/host/commands/inspect.js is missing: run `npm run build` before these tests');
  }
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-inspect-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('axctl inspect (compiled CLI)', () => {
  it('prints the JSON contract for a run_joint log', async () => {
    const run = await axctl('inspect', fx('ax620-resnet18-8bit.log'), '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r).toMatchObject({ kind: 'run_joint-log', version: '0.5.10', quantization: '8 bit' });
    expect(r.inputs[0]).toMatchObject({ name: 'data', shape: [1, 224, 224, 3], layout: 'NHWC', dtype: 'uint8', colorSpace: 'RGB', q: null, size: 150528 });
    expect(r.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', shape: [1, 1000], layout: 'NHWC', dtype: 'float32', q: null, size: 4000 });
    expect(r.timing).toMatchObject({ runUs: 5415, rounds: 99, components: [{ name: 'NEU', avgUs: 5378, overheadUs: 10 }] });
    expect(r.fallbacks).toEqual([{ index: 0, name: 'data', file: null, reason: 'not-provided', fill: 'random', line: 24 }]);
    expect(r.dumps).toEqual([]);
  });

  it('prints readable text by default', async () => {
    const run = await axctl('inspect', fx('ax620-resnet50-axe-tail.log'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('quantization unknown');
    expect(run.stdout).toContain('[0] resnetv24_dense0_fwd  [1, 1000] NCHW float32  Virtual 4000 bytes');
    expect(run.stdout).toContain('AXE 43 us (overhead 4 us)');
  });

  it('reads the other kinds', async () => {
    const pulsar = JSON.parse((await axctl('inspect', fx('pulsar-run-resnet18.log'), '--json')).stdout);
    expect(pulsar).toMatchObject({ kind: 'pulsar-run-log', scores: [{ layer: 'resnetv15_dense0_fwd', relErr2Percent: 4.7, cosine: 0.9989 }] });

    const proto = await axctl('inspect', fx('config-resnet18.prototxt'));
    expect(proto.code).toBe(0);
    expect(proto.stdout).toContain('(all inputs): mean [0.485,0.456,0.406] std [0.229,0.224,0.225]  (line 41)');

    const npy = JSON.parse((await axctl('inspect', fx('gt-small/onnx/_head_fc.npy'), '--json')).stdout);
    expect(npy).toMatchObject({ kind: 'npy', dtype: 'float32', shape: [1, 10], stats: { count: 10, zeroCount: 0 } });
    expect(npy.stats.min).toBeCloseTo(-1.99, 5);
    expect(npy.stats.max).toBeCloseTo(4.01, 5);

    const bin = await axctl('inspect', fx('gt-old/input/input.bin'), '--dtype', 'uint8', '--shape', '1,4,4,3');
    expect(bin.code).toBe(0);
    expect(bin.stdout).toContain('uint8 [1, 4, 4, 3]  48 elements, 48 bytes (dtype and shape from options)');
    expect(bin.stdout).toContain('min 0  max 235  mean 117.5');

    const gt = JSON.parse((await axctl('inspect', fx('gt-small'), '--json')).stdout);
    expect(gt).toMatchObject({ kind: 'gt-folder', layout: 'input-joint-onnx', filenameTxt: ['images/cat.jpg'], problems: [] });
    expect(gt.joint[0]).toMatchObject({ fileBase: '_head_fc', dtype: 'float32', shape: [1, 10], binMatchesNpy: true });
  });

  it('refuses binary garbage given as a log', async () => {
    const file = path.join(tmp, 'run.log');
    writeFileSync(file, Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 97 + 3) % 256)));
    expectOneLineError(await axctl('inspect', file), `${file}: holds binary data`);
  });

  it('refuses an empty file, a folder that is not a gt folder and a bad prototxt', async () => {
    const empty = path.join(tmp, 'empty.txt');
    writeFileSync(empty, '');
    expectOneLineError(await axctl('inspect', empty), `${empty}: is empty`);
    expectOneLineError(await axctl('inspect', tmp), `${tmp}: is not a gt folder`);
    const bad = path.join(tmp, 'bad.prototxt');
    writeFileSync(bad, 'pulsar_conf {\n  batch_size 1\n}\n');
    expectOneLineError(await axctl('inspect', bad), `${bad}:2:14: expected ':' or '{'`);
  });

  it('refuses bad options and a .bin it cannot describe', async () => {
    expectOneLineError(await axctl('inspect', fx('gt-old/input/input.bin')), `${fx('gt-old/input/input.bin')}: is raw tensor data`);
    expectOneLineError(await axctl('inspect', fx('gt-old/input/input.bin'), '--dtype', 'float32', '--shape', '1,4,4,3'), `${fx('gt-old/input/input.bin')}: is 48 bytes`);
    expectOneLineError(await axctl('inspect', fx('gt-old/input/input.bin'), '--dtype', 'complex64'), "unknown dtype 'complex64'");
    expectOneLineError(await axctl('inspect', fx('gt-old/input/input.bin'), '--shape', 'a,b'), "--shape 'a,b'");
    expectOneLineError(await axctl('inspect'), 'axctl inspect needs 1 argument after it, got 0');
  });
});
