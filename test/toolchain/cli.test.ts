/**
 * axctl build / sim / lint as the user runs them: the compiled CLI (`npm run build` first)
 * with the stand-in pulsar as AXCTL_PULSAR. Exit codes, stdout, and one-line errors.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makePulsarProject, PULSAR, removeProject, requireBuild } from './helpers';

interface Run { code: number; stdout: string; stderr: string }
let project: string;

function axctl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], {
      cwd: project, timeout: 60_000,
      env: { ...process.env, AXCTL_PULSAR: PULSAR, AXPULSAR_FAULT: '', AXPULSAR_VERSION: '', ...env },
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

/** exit 2, nothing on stdout, exactly one `axctl: ...` line, no stack trace. */
function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^axctl: /);
  expect(lines[0]).toMatch(pattern);
}

const build = (out: string) => ['build', '--onnx', 'model.onnx', '--config', 'config/config.prototxt', '--output', `${out}/model.joint`, '--output-config', `${out}/output_config.prototxt`];
const sim = (out: string, config = `${out}/output_config.prototxt`) => ['sim', '--onnx', 'model.onnx', '--joint', `${out}/model.joint`, '--config', config, '--input', 'images/cat.jpg', '--output-gt', `${out}/gt`];

beforeAll(() => {
  requireBuild();
  project = makePulsarProject('cli');
});
afterAll(() => removeProject(project));

describe('axctl build and sim', () => {
  it('builds (JSON on stdout, pulsar log on stderr) and simulates with exit 0', async () => {
    const b = await axctl([...build('out'), '--json']);
    expect(b.code).toBe(0);
    const result = JSON.parse(b.stdout);
    expect(result.toolchain).toMatchObject({ version: '0.6.1.14', commit: '4d9c2a71' });
    expect(result.recordFile).toBe(path.join(project, '.axctl', 'builds.json'));
    expect(b.stderr).toContain('planning task task_0');
    const s = await axctl([...sim('out'), '--quiet']);
    expect([s.code, s.stderr]).toEqual([0, '']);
    expect(s.stdout).toMatch(/resnetv15_dense0_fwd +\d+\.\d\d% +0\.99\d\d\n/);
    expect(s.stdout).toContain('ok: every output has cosine >= 0.98');
  });

  it('exits 1 when the simulator finds cosine below 0.98', async () => {
    expect((await axctl([...build('lossy'), '--quiet'], { AXPULSAR_FAULT: 'compile-loss' })).code).toBe(0);
    const s = await axctl([...sim('lossy'), '--json', '--quiet']);
    expect(s.code).toBe(1);
    const result = JSON.parse(s.stdout);
    expect(result.verdict).toBe('precision-loss');
    expect(result.scores[0].low).toBe(true);
  });

  it('refuses the unexpanded config in one line with the fix (exit 2)', async () => {
    const s = await axctl(sim('out', 'config/config.prototxt'));
    expectOneLineError(s, /config pulsar build READ .*step 3\.1.*\(pass --config .*out\/output_config\.prototxt\)$/);
  });

  it('says in one line that pulsar cannot be started (exit 2)', async () => {
    const s = await axctl(build('none'), { AXCTL_PULSAR: path.join(project, 'no-pulsar') });
    expectOneLineError(s, /cannot start pulsar: command ".*no-pulsar" not found \(from AXCTL_PULSAR\)/);
  });

  it('refuses bad usage before running anything', async () => {
    expectOneLineError(await axctl([...sim('out'), '--layer', 'a', 'b']), /1 --input file\(s\) but 2 --layer name\(s\)/);
    expectOneLineError(await axctl([...build('out'), '--timeout', '0']), /--timeout 0: expected a number of seconds from 0\.001 \(1 ms\) to 2147483 \(about 25 days\)/);
    expectOneLineError(await axctl([...build('out'), '--target-hardware', 'AX650']), /unknown target hardware "AX650"/);
    expectOneLineError(await axctl(build('out'), { AXCTL_PULSAR: 'docker run -v $PWD:/data img pulsar' }), /no shell runs the template/);
  });

  it('names --cwd and --work-dir when they are not folders, before anything runs', async () => {
    expectOneLineError(await axctl([...build('out'), '--cwd', 'model.onnx']), /model\.onnx: is not a folder \(--cwd: the folder pulsar works in\)/);
    expectOneLineError(await axctl([...sim('out'), '--cwd', 'no-such-folder']), /no-such-folder: no such folder \(--cwd/);
    expectOneLineError(await axctl(['diagnose', '--onnx', 'model.onnx', '--work-dir', 'model.onnx']), /model\.onnx: is not a folder \(--work-dir names the folder diagnose works in/);
    expectOneLineError(await axctl(['diagnose', '--config', 'config/config.prototxt', '--cwd', 'model.onnx']), /model\.onnx: is not a folder \(--cwd: the folder pulsar works in\)/);
  });
});

describe('axctl lint', () => {
  it('exits 0 for a config without errors and 1 with errors, pointing at file:line', async () => {
    expect(await axctl(['lint', 'config/config.prototxt'])).toMatchObject({ code: 0, stdout: 'config/config.prototxt: no findings\n' });
    const text = fs.readFileSync(path.join(project, 'config', 'config.prototxt'), 'utf8').replace('mean: [0.406, 0.456, 0.485]', 'mean: [0.485, 0.456, 0.406]');
    fs.writeFileSync(path.join(project, 'config', 'rgb-mean.prototxt'), text);
    const line = text.split('\n').findIndex((l) => l.includes('mean: [0.485')) + 1;
    const r = await axctl(['lint', 'config/rgb-mean.prototxt']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`config/rgb-mean.prototxt:${line}: error [norm-rgb-order-for-bgr] mean [0.485, 0.456, 0.406]`);
    const json = JSON.parse((await axctl(['lint', 'config/rgb-mean.prototxt', '--json'])).stdout);
    expect(json.findings[0]).toMatchObject({ id: 'norm-rgb-order-for-bgr', severity: 'error', line, file: 'config/rgb-mean.prototxt' });
  });

  it('exits 2 for a file that is not prototxt or does not exist', async () => {
    fs.writeFileSync(path.join(project, 'config', 'broken.prototxt'), 'neuwizard_conf {\n  size: 3\n');
    expectOneLineError(await axctl(['lint', 'config/broken.prototxt']), /config\/broken\.prototxt:3:1: missing '}'/);
    expectOneLineError(await axctl(['lint', 'config/none.prototxt']), /no such file/);
    expectOneLineError(await axctl(['lint', 'config/config.prototxt', '--mount', 'data']), /--mount data: expected CONTAINER=HOST \(e\.g\. --mount \/data=\. reads the config's \/data\/\.\.\. paths from this folder\)$/);
  });
});
