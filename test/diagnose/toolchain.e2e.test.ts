/**
 * `axctl diagnose` as a child process against the stand-in pulsar (also a child process):
 * quantization loss, compile loss, toolchain loss with only the joint, a clean build, the
 * per-layer table of a build and of a saved build log, the calibration image, the config
 * lint alone, a refused config, a failing pulsar run, usage errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInto, diagnoseCli, diagnoseJson, FIXTURES, makePulsarProject, removeProject, requireBuild, step } from './helpers';

let project: string;

beforeAll(async () => {
  requireBuild();
  project = makePulsarProject('diagnose project');
  fs.writeFileSync(path.join(project, 'images', 'calib-0001.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 9]));
  await buildInto(project, 'ok');
  await buildInto(project, 'quant', 'quant-loss');
  await buildInto(project, 'compile', 'compile-loss');
}, 60_000);
afterAll(() => removeProject(project));

const joint = (out: string) => ['--joint', `${out}/model.joint`, '--input', 'images/cat.jpg'];

describe('stage bisection through pulsar run', () => {
  it('quantization loss: the lava_joint is already low (AXPULSAR_FAULT=quant-loss)', async () => {
    const { code, report } = await diagnoseJson(project, joint('quant'));
    expect(report.conclusion).toBe('quantization-loss');
    expect(code).toBe(1);
    expect(step(report, '2').status).toBe('fail');
    expect(step(report, '3.3').status).toBe('fail');
    expect(step(report, '3.1').status).toBe('pass');
    expect(report.stages).toHaveLength(1);
    expect(report.stages[0].quantizationCosine).toBeLessThan(0.98);
    expect(report.stages[0].compileCosine).toBeLessThan(0.98);
    expect(report.remedies.join('\n')).toMatch(/CALIB_STRATEGY_PER_TENSOR.*OBSVR_METHOD_MIN_MAX.*OBSVR_METHOD_MSE_CLIPPING/);
    expect(report.remedies.join('\n')).toContain('QAT');
    expect(report.findings.map((f) => f.id)).toContain('diagnose-from-build-record');
    expect(report.toolchainVersion).toBe('0.6.1.14 (4d9c2a71)');
    expect(report.escalation).toBeNull();
  });

  it('compile loss: the lava_joint is fine, the joint is not', async () => {
    const { code, report } = await diagnoseJson(project, joint('compile'));
    expect(report.conclusion).toBe('compile-loss');
    expect(code).toBe(1);
    expect(step(report, '3.3').status).toBe('pass');
    expect(report.stages[0].quantizationCosine).toBeGreaterThanOrEqual(0.98);
    expect(report.stages[0].compileCosine).toBeLessThan(0.98);
  });

  it('ok: every stage keeps the precision, exit 0', async () => {
    const { code, report } = await diagnoseJson(project, joint('ok'));
    expect(report.conclusion).toBe('ok');
    expect(code).toBe(0);
    for (const s of ['2', '3.1', '3.2', '3.3']) expect(step(report, s).status).toBe('pass');
    expect(step(report, '4.2').status).toBe('skipped');
  });

  it('toolchain loss when only the joint is known, saying what would decide the stage', async () => {
    const { code, report } = await diagnoseJson(project, [
      '--no-build-records', '--onnx', 'model.onnx', '--output-config', 'quant/output_config.prototxt', ...joint('quant'),
    ]);
    expect(report.conclusion).toBe('toolchain-loss');
    expect(code).toBe(1);
    const lava = step(report, '3.3');
    expect(lava.status).toBe('skipped');
    expect(lava.reason).toContain(`--lava-joint ${path.join(project, 'quant', 'model.lava_joint')}`);
    expect(report.summary).toContain('pass --lava-joint');
  });

  it('run from outside the project: step 2 says where it looked for the build record, and how to point there', async () => {
    const elsewhere = fs.mkdtempSync(path.join(path.dirname(project), 'elsewhere-'));
    try {
      const { report } = await diagnoseJson(elsewhere, ['--joint', path.join(project, 'ok', 'model.joint')]);
      const reason = step(report, '2').reason;
      expect(reason).toContain('pulsar run needs --onnx');
      expect(reason).toContain(`no build of this joint is recorded in ${path.join(elsewhere, '.axctl', 'builds.json')}`);
      expect(reason).toContain('or pass --cwd');
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('the gt folders a run wrote can be diagnosed again without pulsar', async () => {
    const work = path.join(project, 'work-gt');
    await diagnoseJson(project, [...joint('quant'), '--work-dir', 'work-gt']);
    const { code, report } = await diagnoseJson(project, ['--gt', path.join(work, 'gt-joint'), '--lava-gt', path.join(work, 'gt-lava'), '--pulsar', '/nonexistent/pulsar']);
    expect(report.conclusion).toBe('quantization-loss');
    expect(code).toBe(1);
    expect(step(report, '2').reason).toMatch(/^gt folder: /);
    expect(report.stages[0].output).toBe('resnetv15_dense0_fwd');
  });
});

describe('the per-layer table and the calibration image', () => {
  it('--build with score_compare_per_layer: layers worst first, named in the onnx, where the loss starts', async () => {
    const { code, report } = await diagnoseJson(project, ['--build', '--onnx', 'model.onnx', '--config', 'config/config.prototxt', '--input', 'images/cat.jpg'], {
      AXPULSAR_FAULT: 'quant-loss=resnetv15_stage3_conv0_fwd',
    });
    expect(report.conclusion).toBe('quantization-loss');
    expect(code).toBe(1);
    const layers = step(report, '3.4');
    expect(layers.status).toBe('fail');
    expect(layers.reason).toContain('the first is resnetv15_stage3_conv0_fwd');
    expect(report.layers[0].name).toBe('resnetv15_dense0_fwd');
    expect(report.layers.map((l) => l.cosine)).toEqual([...report.layers.map((l) => l.cosine)].sort((a, b) => a - b));
    const fused = report.layers.find((l) => l.name === 'resnetv15_stage3_relu0_fwd');
    expect(fused?.onnxName).toBe('resnetv15_stage3_conv0_fwd, resnetv15_stage3_batchnorm0_fwd, resnetv15_stage3_relu0_fwd');
    expect(report.remedies.join('\n')).toContain('Worst layers here: resnetv15_dense0_fwd');
    expect(report.summary).toContain('Layer by layer:');
  });

  it('--build-log of a saved build, mapped through the joint given', async () => {
    const { report } = await diagnoseJson(project, ['--build-log', path.join(FIXTURES, 'build-per-layer.log'), '--joint', 'ok/model.joint']);
    expect(step(report, '3.4').status).toBe('fail');
    expect(report.layers).toHaveLength(18);
    expect(report.layers.find((l) => l.name === 'resnetv15_relu0_fwd')?.onnxName).toBe('resnetv15_conv0_fwd, resnetv15_batchnorm0_fwd, resnetv15_relu0_fwd');
  });

  it('one calibration image: loses too under a quantization loss, fine on a good build', async () => {
    const lossy = await diagnoseJson(project, [...joint('quant'), '--calibration-image', 'images/calib-0001.jpg']);
    const calib = step(lossy.report, '3.5');
    expect(calib.status).toBe('fail');
    expect(calib.reason).toContain('the quantization itself loses');
    expect(lossy.report.remedies[0]).toContain('calibration strategy/method pairs');
    const good = await diagnoseJson(project, [...joint('ok'), '--calibration-image', 'images/calib-0001.jpg']);
    expect(step(good.report, '3.5').status).toBe('pass');
    expect(step(good.report, '3.5').reason).toContain('the calibration set looks like your data');
  });
});

describe('configs', () => {
  it('--config alone runs the lint: an RGB mean under BGR is a finding with file and line', async () => {
    const config = path.join(FIXTURES, 'rgb-mean-under-bgr.prototxt');
    const { code, report } = await diagnoseJson(project, ['--config', config]);
    expect(report.conclusion).toBe('inconclusive');
    expect(code).toBe(1);
    expect(report.findings).toContainEqual(expect.objectContaining({ id: 'norm-rgb-order-for-bgr', severity: 'error', file: config, line: 15 }));
    expect(step(report, '3.2').status).toBe('fail');
    expect(report.remedies[0]).toContain('Fix the config errors');
    for (const s of ['1', '2', '3.1', '3.3', '3.4', '3.5', '4.1', '4.2']) expect(step(report, s).status).toBe('skipped');
  });

  it('a clean config alone: inconclusive, exit 0, with what to give next', async () => {
    const { code, report } = await diagnoseJson(project, ['--config', 'config/config.prototxt']);
    expect([report.conclusion, code]).toEqual(['inconclusive', 0]);
    expect(report.remedies.join(' ')).toContain('--other-platforms-ok');
  });

  it('the config pulsar build read, given for pulsar run, is refused as a failed step 3.1', async () => {
    const { code, report } = await diagnoseJson(project, ['--output-config', 'config/config.prototxt', ...joint('ok')]);
    const refused = step(report, '3.1');
    expect(refused.status).toBe('fail');
    expect(refused.reason).toContain('READ');
    expect(refused.reason).toContain(`pass --config ${path.join(project, 'ok', 'output_config.prototxt')}`);
    expect(step(report, '2').status).toBe('skipped');
    expect(step(report, '2').reason).toContain('step 3.1');
    expect(report.conclusion).toBe('inconclusive');
    expect(code).toBe(1);
  });

  it('an unexpanded config is refused by its content when no build is known', async () => {
    const { report } = await diagnoseJson(project, ['--output-config', 'config/config.prototxt']);
    expect(step(report, '3.1').status).toBe('fail');
    expect(step(report, '3.1').reason).toContain('not the output config pulsar build writes');
  });
});

describe('failures', () => {
  it('a pulsar run that fails skips its check with pulsar\'s reason and exits 2, the report still printed', async () => {
    const run = await diagnoseCli(project, joint('ok'), { AXPULSAR_FAULT: 'run-fail' });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^INCONCLUSIVE/);
    expect(run.stdout).toContain('pulsar run failed');
  });

  it('nothing to diagnose, or contradicting answers: usage errors in one line', async () => {
    const none = await diagnoseCli(project, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^axctl: nothing to diagnose.*\n$/);
    const both = await diagnoseCli(project, ['--other-platforms-ok', '--other-platforms-bad']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('contradict');
  });

  it('a missing file is named before anything runs', async () => {
    const run = await diagnoseCli(project, ['--joint', 'nope/model.joint']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nope/model.joint: no such file (the compiled model (--joint))');
  });

  it('step 1 alone: every platform loses accuracy', async () => {
    const { code, report } = await diagnoseJson(project, ['--other-platforms-bad']);
    expect([report.conclusion, code]).toEqual(['model-or-platform', 1]);
    expect(step(report, '1').status).toBe('fail');
  });
});
