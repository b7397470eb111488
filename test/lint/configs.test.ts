/**
 * lintConfig on configs in the layout of the public Pulsar docs' examples
 * (test/fixtures/toolchain/configs), in a project folder with a real calibration tar.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasErrors, lintConfig, type Finding } from '../../host/lint';
import { lineOf, makeProject } from './helpers';

let root: string;
const cfg = (name: string) => path.join(root, 'config', name);
const text = (name: string) => fs.readFileSync(cfg(name), 'utf8');
const ids = (findings: Finding[]) => findings.map((f) => `${f.id}@${f.line}`);

beforeAll(() => {
  root = makeProject(300);
  fs.copyFileSync(path.join(root, 'dataset', 'calib.tar'), path.join(root, 'config', 'calib.tar'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('lint of docs-style configs', () => {
  it('finds nothing in a clean BGR config', async () => {
    expect(await lintConfig(cfg('clean-bgr.prototxt'))).toEqual([]);
  });

  it('flags the guide\'s classic: ImageNet mean/std in RGB order under BGR, at their lines', async () => {
    const t = text('guide-bgr-classic.prototxt');
    const findings = await lintConfig(cfg('guide-bgr-classic.prototxt'));
    expect(ids(findings)).toEqual([
      `norm-rgb-order-for-bgr@${lineOf(t, 'mean: [0.485')}`,
      `norm-rgb-order-for-bgr@${lineOf(t, 'std: [0.229')}`,
      `imagenet-std-typo@${lineOf(t, 'std: [0.229')}`,
    ]);
    expect(findings[0].file).toBe(cfg('guide-bgr-classic.prototxt'));
    expect(findings[0].message).toContain(`TENSOR_COLOR_SPACE_BGR (dst_input_tensors, line ${lineOf(t, 'color_space: TENSOR_COLOR_SPACE_BGR')})`);
    expect(findings[0].hint).toContain('[0.406, 0.456, 0.485]');
    expect(hasErrors(findings)).toBe(true);
  });

  it('accepts the RGB quick-start config but notes the std typo and the default strategy', async () => {
    const t = text('resnet18-rgb.prototxt');
    const findings = await lintConfig(cfg('resnet18-rgb.prototxt'));
    expect(ids(findings)).toEqual([
      `imagenet-std-typo@${lineOf(t, 'std: [0.229')}`,
      `calib-strategy-default@${lineOf(t, 'dataset_conf_calibration {')}`,
    ]);
    expect(hasErrors(findings)).toBe(false);
  });

  it('follows the onnx side (RGB) when the joint reads NV12, with repeated mean/std fields', async () => {
    expect(await lintConfig(cfg('nv12-lstm.prototxt'))).toEqual([]);
  });

  it('resolves container paths through mounts, and reports them missing without', async () => {
    const t = text('container-paths.prototxt');
    const without = await lintConfig(cfg('container-paths.prototxt'));
    expect(ids(without)).toEqual([
      `calib-path-not-found@${lineOf(t, '# tar of calibration images')}`,
      `error-measurement-path-not-found@${lineOf(t, '# the same images for error measurement')}`,
    ]);
    expect(without[0].hint).toContain('--mount /data=');
    expect(await lintConfig(cfg('container-paths.prototxt'), { mounts: [{ container: '/data', host: root }] })).toEqual([]);
  });

  it('accepts the documented 16-bit setting with a static-Q INT16 output', async () => {
    expect(await lintConfig(cfg('sixteen-bit.prototxt'))).toEqual([]);
  });

  it('notes only the default calibration strategy in the simplest config', async () => {
    const findings = await lintConfig(cfg('simplest.prototxt'));
    expect(findings.map((f) => [f.id, f.severity])).toEqual([['calib-strategy-default', 'info']]);
  });
});
