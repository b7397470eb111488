/**
 * The stand-in pulsar on its own, as a child process: the documented command line, log lines,
 * score table and gt folder, and agreement with the board simulator on what it builds.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePulsarRunLog } from '../../shared/parsers/pulsar-run-log';
import { get, parsePrototxt } from '../../shared/parsers/prototxt';
import { makePulsarProject, PULSAR, removeProject, requireBuild, RUN_JOINT } from './helpers';

interface Run { code: number; stdout: string; stderr: string }

let project: string;
function pulsar(args: string[], fault = ''): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PULSAR, args, { cwd: project, timeout: 30_000, env: { ...process.env, AXPULSAR_FAULT: fault, AXPULSAR_VERSION: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const at = (p: string) => path.join(project, p);
const PREFIX_BUILD = String.raw`^\[\d\d \d\d:\d\d:\d\d frozen super_pulsar\.[a-z_.]+:\d+\] `;
const PREFIX_RUN = String.raw`^\[\d\d \d\d:\d\d:\d\d <frozen super_pulsar\.[a-z_.]+>:\d+\] `;

beforeAll(async () => {
  requireBuild();
  project = makePulsarProject('standin');
  const build = await pulsar(['build', '--input', 'model.onnx', '--output', 'model/model.joint', '--config', 'config/config.prototxt', '--output_config', 'config/output_config.prototxt']);
  if (build.code !== 0) throw new Error(`stand-in build failed: ${build.stderr}`);
});
afterAll(() => removeProject(project));

describe('pulsar version and usage', () => {
  it('prints the version and the commit on two lines', async () => {
    expect(await pulsar(['version'])).toEqual({ code: 0, stdout: '0.6.1.14\n4d9c2a71\n', stderr: '' });
  });
  it('prints argparse-style usage and errors', async () => {
    expect((await pulsar(['--help'])).stdout).toContain('usage: pulsar [-h] {debug,build,version,info,run,view} ...');
    const bad = await pulsar(['build', '--inptu', 'x']);
    expect([bad.code, bad.stderr]).toEqual([2, 'usage: pulsar build [-h] ...\npulsar build: error: unrecognized arguments: --inptu\n']);
    expect((await pulsar(['version'], 'explode')).code).toBe(2);
  });
});

describe('pulsar build', () => {
  it('logs like the quick start and writes joint, lava_joint, output config and inference report', () => {
    expect(fs.existsSync(at('model/model.joint'))).toBe(true);
    expect(fs.existsSync(at('model/model.lava_joint'))).toBe(true);
    expect(fs.existsSync(at('inference_report/part_0.lava/inference_report.log'))).toBe(true);
  });

  it('writes the task form of the config with AUTO resolved and output_dir set', () => {
    const doc = parsePrototxt(fs.readFileSync(at('config/output_config.prototxt'), 'utf8'));
    const task = get(doc, 'tasks');
    expect(task?.kind).toBe('message');
    if (task?.kind !== 'message') return;
    expect(get(task, 'pulsar_conf.output_dir')).toMatchObject({ value: project });
    expect(get(task, 'dst_input_tensors.color_space')).toMatchObject({ value: 'TENSOR_COLOR_SPACE_BGR' });
    expect(get(task, 'dst_output_tensors.tensor_layout')).toMatchObject({ value: 'NHWC' });
    expect(get(task, 'neuwizard_conf.dataset_conf_calibration.calibration_strategy')).toMatchObject({ value: 'CALIB_STRATEGY_PER_TENSOR' });
  });

  it('prints the log lines and the per-layer table with onnx layer names', async () => {
    const run = await pulsar(['build', '--input', 'model.onnx', '--output', 'again/model.joint', '--config', 'config/config.prototxt']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(new RegExp(`${PREFIX_BUILD}set task task_0's pulsar_conf\\.output_dir as ${project.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
    expect(lines[2]).toMatch(new RegExp(`${PREFIX_BUILD}planning task task_0$`));
    expect(lines.at(-2)).toMatch(new RegExp(`${PREFIX_BUILD}File saved: ${at('again/model.joint').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
    const scores = parsePulsarRunLog(run.stdout).scores;
    expect(scores.map((s) => s.layer)).toEqual(JSON.parse(fs.readFileSync(at('model.onnx'), 'utf8').split('\n').slice(1).join('\n')).layers);
    expect(scores.every((s) => s.cosine >= 0.98)).toBe(true);
  });

  it('fails like Python when the calibration tar is missing', async () => {
    fs.writeFileSync(at('config/nodata.prototxt'), fs.readFileSync(at('config/config.prototxt'), 'utf8').replace(/calib\.tar/g, 'missing.tar'));
    const run = await pulsar(['build', '--input', 'model.onnx', '--output', 'x/model.joint', '--config', 'config/nodata.prototxt']);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').pop()).toBe("FileNotFoundError: [Errno 2] No such file or directory: '../dataset/missing.tar'");
  });
});

describe('pulsar run', () => {
  it('prints the dumps and the score table in the documented format', async () => {
    const run = await pulsar(['run', 'model.onnx', 'model/model.joint', '--input', 'images/cat.jpg', '--config', 'config/output_config.prototxt', '--output_gt', 'gt/']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 4)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`${PREFIX_RUN}dumpped 'resnetv15_dense0_fwd' to 'gt/joint/resnetv15_dense0_fwd\\.bin'\\.$`))]));
    expect(lines.at(-5)).toMatch(new RegExp(`${PREFIX_RUN}###### Comparing model\\.onnx \\(with conf\\) and model\\.joint ######$`));
    expect(lines.at(-4)).toMatch(new RegExp(`${PREFIX_RUN}Score compare table:$`));
    expect(lines.at(-3)).toMatch(/^-{27} {2}-{16,17} {2}-{18}$/);
    expect(lines.at(-2)).toMatch(/^Layer: resnetv15_dense0_fwd {2}2-norm RE: \d+\.\d\d% {1,2}cosine-sim: \d\.\d{4}$/);
    expect(lines.at(-1)).toBe(lines.at(-3));
  });

  it('writes a gt folder the board simulator reproduces bit for bit', async () => {
    fs.mkdirSync(at('board'), { recursive: true });
    const board = await new Promise<number>((resolve) => {
      execFile(process.execPath, [RUN_JOINT, at('model/model.joint'), '--data', at('gt/input/data.bin'), '--bin-out-dir', at('board')], (err) => resolve(err ? 1 : 0));
    });
    expect(board).toBe(0);
    expect(fs.readFileSync(at('board/resnetv15_dense0_fwd.bin')).equals(fs.readFileSync(at('gt/joint/resnetv15_dense0_fwd.bin')))).toBe(true);
    expect(fs.readdirSync(at('gt/input')).sort()).toEqual(['data.bin', 'data.npy', 'filename.txt']);
  });

  it('checks inputs against the model like the real tool', async () => {
    const base = ['run', 'model.onnx', 'model/model.joint', '--config', 'config/output_config.prototxt'];
    const two = await pulsar([...base, '--input', 'images/cat.jpg', 'images/cat.jpg']);
    expect([two.code, two.stderr.trimEnd().split('\n').pop()]).toEqual([1, 'AssertionError: 2 input file(s) given but the model has 1 input(s): data']);
    const layer = await pulsar([...base, '--input', 'images/cat.jpg', '--layer', 'image']);
    expect(layer.code).toBe(1);
    expect((await pulsar([...base, '--input', 'images/cat.jpg', '--layer', 'data'])).code).toBe(0);
  });

  it('gives a low cosine for the unexpanded config and for run-fail exits 1', async () => {
    const run = await pulsar(['run', 'model.onnx', 'model/model.joint', '--input', 'images/cat.jpg', '--config', 'config/config.prototxt']);
    expect(parsePulsarRunLog(run.stdout).scores[0].cosine).toBeLessThan(0.98);
    const fail = await pulsar(['run', 'model.onnx', 'model/model.joint', '--input', 'images/cat.jpg', '--config', 'config/output_config.prototxt'], 'run-fail');
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('Traceback (most recent call last):');
  });
});

describe('pulsar info', () => {
  it('prints the IO table and the layer mapping', async () => {
    const run = await pulsar(['info', 'model/model.joint', '--layer_mapping']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^data {18}INPUT {3}\[1, 32, 32, 3\] {2}uint8 {4}NHWC$/m);
    expect(run.stdout).toMatch(/^ORIGIN_NAMES +LAVA_NAMES$/m);
  });

  it('has no layer names for a joint whose build it cannot find', async () => {
    fs.mkdirSync(at('moved'), { recursive: true });
    fs.copyFileSync(at('model/model.joint'), at('moved/model.joint'));
    const run = await pulsar(['info', 'moved/model.joint', '--layer_mapping']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("KeyError: 'onnx_layer_name'");
  });
});
