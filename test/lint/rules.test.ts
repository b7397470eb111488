/**
 * Each lint rule on a small config written for it: the finding's id, severity and line
 * (marked in the config with a `# <-` comment), and the configs each rule must leave alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintConfig, lintConfigText, type Finding } from '../../host/lint';
import { isAxError } from '../../shared/errors';
import { lineOf, makeProject, makeTar } from './helpers';

let root: string;
beforeAll(() => {
  root = makeProject(40);
  makeTar(path.join(root, 'dataset', 'calib.tar.gz'), 40, { gzip: true });
  fs.writeFileSync(path.join(root, 'dataset', 'images.zip'), Buffer.from('PK\x03\x04 not really a zip', 'latin1'));
  fs.mkdirSync(path.join(root, 'dataset', 'images'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Calibration block that raises nothing by itself. */
const CALIB = `
neuwizard_conf {
  dataset_conf_calibration {
    path: "../dataset/calib.tar"
    type: DATASET_TYPE_TAR
    size: 32
    calibration_strategy: CALIB_STRATEGY_PER_TENSOR
    observer_method: OBSVR_METHOD_MIN_MAX
  }
}
`;

async function lint(text: string): Promise<Finding[]> {
  return lintConfigText(text, path.join(root, 'config', 'under-test.prototxt'));
}

function normalization(mean: string, std: string, extra = ''): string {
  return `
neuwizard_conf {
  operator_conf {
    input_conf_items {
      attributes {
        ${extra}
        input_modifications {
          input_normalization {
            ${mean}   # <- mean
            ${std}    # <- std
          }
        }
      }
    }
  }
}`;
}

describe('mean/std against the colour space', () => {
  it('flags ImageNet x255 RGB-order mean under the default AUTO colour space', async () => {
    const text = CALIB + normalization('mean: [123.675, 116.28, 103.53]', 'std: [1, 1, 1]');
    const f = await lint(text);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ id: 'norm-rgb-order-for-bgr', severity: 'error', line: lineOf(text, '# <- mean') });
    expect(f[0].message).toContain('the default colour space AUTO');
  });

  it('flags BGR-ordered ImageNet values under RGB, with enum values written without prefix', async () => {
    const text = `dst_input_tensors { color_space: RGB }\n${CALIB}${normalization('mean: [0.406, 0.456, 0.485]', 'std: [0.225, 0.224, 0.229]')}`;
    const f = await lint(text);
    expect(f.map((x) => [x.id, x.line])).toEqual([
      ['norm-bgr-order-for-rgb', lineOf(text, '# <- mean')],
      ['norm-bgr-order-for-rgb', lineOf(text, '# <- std')],
    ]);
  });

  it('uses the colour space of the input the selector names', async () => {
    const text = `
dst_input_tensors { tensor_name: "left" color_space: TENSOR_COLOR_SPACE_RGB }
dst_input_tensors { tensor_name: "right" color_space: TENSOR_COLOR_SPACE_BGR }
${CALIB}
neuwizard_conf { operator_conf {
  input_conf_items { selector { op_name: "left" } attributes { input_modifications { input_normalization {
    mean: [0.485, 0.456, 0.406]  # <- left
  } } } }
  input_conf_items { selector { op_name: "right" } attributes { input_modifications { input_normalization {
    mean: [0.485, 0.456, 0.406]  # <- right
  } } } }
} }`;
    const f = await lint(text);
    expect(f.map((x) => [x.id, x.line])).toEqual([['norm-rgb-order-for-bgr', lineOf(text, '# <- right')]]);
  });

  it('knows that input_3rvschn before the normalization swaps the order', async () => {
    const text = `dst_input_tensors { color_space: TENSOR_COLOR_SPACE_BGR }\n${CALIB}${normalization(
      'mean: [0.485, 0.456, 0.406]', 'std: [0.229, 0.224, 0.225]', 'input_modifications { input_3rvschn { } }')}`;
    expect(await lint(text)).toEqual([]);
  });

  it('checks the channel count: GRAY takes 1, BGR0 takes 4; a single value for BGR is only noted', async () => {
    const gray = `dst_input_tensors { color_space: TENSOR_COLOR_SPACE_GRAY }\n${CALIB}${normalization('mean: [0.5, 0.5, 0.5]', 'std: 0.5')}`;
    const g = await lint(gray);
    expect(g.map((x) => [x.id, x.severity, x.line])).toEqual([['norm-channel-count', 'error', lineOf(gray, '# <- mean')]]);
    expect(g[0].message).toContain('3 values but TENSOR_COLOR_SPACE_GRAY');

    const bgr0 = `dst_input_tensors { color_space: TENSOR_COLOR_SPACE_BGR0 }\n${CALIB}${normalization('mean: [1, 2, 3]', 'std: [1, 1, 1, 1]')}`;
    expect((await lint(bgr0)).map((x) => [x.id, x.line])).toEqual([['norm-channel-count', lineOf(bgr0, '# <- mean')]]);

    const single = `dst_input_tensors { color_space: TENSOR_COLOR_SPACE_BGR }\n${CALIB}${normalization('mean: 127.5', 'std: [1, 2, 3]')}`;
    expect((await lint(single)).map((x) => [x.id, x.severity, x.line])).toEqual([['norm-single-value', 'info', lineOf(single, '# <- mean')]]);
  });

  it('refuses a zero std', async () => {
    const text = `${CALIB}${normalization('mean: [0, 0, 0]', 'std: [1, 0, 1]')}`;
    expect((await lint(text)).map((x) => [x.id, x.line])).toEqual([['norm-std-zero', lineOf(text, '# <- std')]]);
  });

  it('reads the colour space of a tasks { } block (an expanded output config)', async () => {
    const text = `
tasks {
  dst_input_tensors { tensor_name: "data" color_space: TENSOR_COLOR_SPACE_BGR }
  neuwizard_conf {
    operator_conf { input_conf_items { attributes { input_modifications { input_normalization {
      mean: [0.485, 0.456, 0.406]  # <- mean
      std: [1, 1, 1]
    } } } } }
    dataset_conf_calibration { path: "../dataset/calib.tar" type: DATASET_TYPE_TAR size: 32 calibration_strategy: CALIB_STRATEGY_PER_TENSOR }
  }
  pulsar_conf { output_dir: "/data" }
}`;
    expect((await lint(text)).map((x) => [x.id, x.line])).toEqual([['norm-rgb-order-for-bgr', lineOf(text, '# <- mean')]]);
  });
});

describe('calibration and error-measurement datasets', () => {
  const calib = (body: string) => `neuwizard_conf {\n  dataset_conf_calibration {\n${body}\n  }\n}\n`;

  it('warns about PER_CHANNEL (also written without prefix) at its line', async () => {
    const text = calib('path: "../dataset/calib.tar"\ntype: DATASET_TYPE_TAR\nsize: 32\ncalibration_strategy: PER_CHANNEL  # <- here');
    expect((await lint(text)).map((x) => [x.id, x.severity, x.line])).toEqual([['calib-per-channel', 'warning', lineOf(text, '# <- here')]]);
  });

  it('warns below 32 images, refuses 0, and warns when the tar holds fewer files than size', async () => {
    const small = calib('path: "../dataset/calib.tar"\ntype: DATASET_TYPE_TAR\nsize: 8  # <- here\ncalibration_strategy: CALIB_STRATEGY_PER_TENSOR');
    expect((await lint(small)).map((x) => [x.id, x.line])).toEqual([['calib-size-small', lineOf(small, '# <- here')]]);
    const zero = calib('path: "../dataset/calib.tar"\ntype: DATASET_TYPE_TAR\nsize: 0  # <- here\ncalibration_strategy: CALIB_STRATEGY_PER_TENSOR');
    expect((await lint(zero)).map((x) => [x.id, x.severity, x.line])).toEqual([['calib-size-invalid', 'error', lineOf(zero, '# <- here')]]);
    const big = calib('path: "../dataset/calib.tar"  # <- here\ntype: DATASET_TYPE_TAR\nsize: 256\ncalibration_strategy: CALIB_STRATEGY_PER_TENSOR');
    const f = await lint(big);
    expect(f.map((x) => [x.id, x.line])).toEqual([['calib-size-exceeds-dataset', lineOf(big, '# <- here')]]);
    expect(f[0].message).toContain('only 40 files');
  });

  it('accepts a .tar.gz and checks every dataset_conf_items path (multi-input models)', async () => {
    const text = calib(`dataset_conf_items { selector { op_name: "0" } path: "../dataset/calib.tar.gz" }
dataset_conf_items { selector { op_name: "1" } path: "../dataset/images.zip"  # <- zip
}
type: DATASET_TYPE_TAR
size: 32
calibration_strategy: CALIB_STRATEGY_PER_TENSOR`);
    const f = await lint(text);
    expect(f.map((x) => [x.id, x.severity, x.line])).toEqual([['calib-not-tar', 'error', lineOf(text, '# <- zip')]]);
    expect(f[0].message).toContain('a zip archive');
  });

  it('refuses a folder, a missing path field and a missing file', async () => {
    const folder = calib('path: "../dataset/images"  # <- here\ntype: DATASET_TYPE_TAR\nsize: 32\ncalibration_strategy: CALIB_STRATEGY_PER_TENSOR');
    const ff = await lint(folder);
    expect(ff.map((x) => [x.id, x.line])).toEqual([['calib-not-tar', lineOf(folder, '# <- here')]]);
    expect(ff[0].hint).toContain('tar cf images.tar');
    const noPath = `neuwizard_conf {\n  dataset_conf_calibration {  # <- here\n type: DATASET_TYPE_TAR\n size: 32\n calibration_strategy: CALIB_STRATEGY_PER_TENSOR\n }\n}`;
    expect((await lint(noPath)).map((x) => [x.id, x.line])).toEqual([['calib-path-missing', lineOf(noPath, '# <- here')]]);
    const missing = calib('path: "calib.tar"  # <- here\ntype: DATASET_TYPE_TAR\nsize: 32\ncalibration_strategy: CALIB_STRATEGY_PER_TENSOR');
    const fm = await lint(missing);
    expect(fm.map((x) => [x.id, x.line])).toEqual([['calib-path-not-found', lineOf(missing, '# <- here')]]);
    expect(fm[0].message).toContain(path.join(root, 'config', 'calib.tar'));
  });

  it('warns when there is no calibration dataset at all', async () => {
    const text = 'input_type: INPUT_TYPE_ONNX\nneuwizard_conf {  # <- here\n}\n';
    expect((await lint(text)).map((x) => [x.id, x.line])).toEqual([['calib-missing', lineOf(text, '# <- here')]]);
  });

  it('checks the error-measurement path too', async () => {
    const text = `${CALIB}neuwizard_conf { dataset_conf_error_measurement {\n path: "../dataset/nope.tar"  # <- here\n type: DATASET_TYPE_TAR\n size: 4\n} }`;
    expect((await lint(text)).map((x) => [x.id, x.line])).toEqual([['error-measurement-path-not-found', lineOf(text, '# <- here')]]);
  });
});

describe('16-bit settings', () => {
  it('refuses the documented fragment pasted at the top level, and wants weight_type', async () => {
    const text = `${CALIB}
operator_conf_items {  # <- item
  selector {}
  attributes {
    input_feature_type: UINT16  # <- feature
  }
}`;
    const f = await lint(text);
    expect(f.map((x) => [x.id, x.severity, x.line])).toEqual([
      ['operator-conf-misplaced', 'error', lineOf(text, '# <- item')],
      ['int16-missing-weight-type', 'warning', lineOf(text, '# <- feature')],
    ]);
  });

  it('explains an INT16 output: dynamic Q without quantization_value, and not 16-bit quantization', async () => {
    const text = `${CALIB}dst_output_tensors {\n  tensor_layout: NHWC\n  data_type: INT16  # <- type\n}\n`;
    const f = await lint(text);
    expect(f.map((x) => [x.id, x.severity, x.line])).toEqual([
      ['int-output-dynamic-q', 'warning', lineOf(text, '# <- type')],
      ['int16-output-not-16bit-quantization', 'info', lineOf(text, '# <- type')],
    ]);
  });
});

describe('layer-by-layer comparison', () => {
  it('needs an error-measurement dataset and the error-measure evaluation type', async () => {
    const text = `${CALIB}neuwizard_conf { evaluation_conf {  # <- block
  path: "neuwizard.evaluator.error_measure_evaluator"
  score_compare_per_layer: true  # <- flag
} }`;
    const f = await lint(text);
    expect(f.map((x) => [x.id, x.severity, x.line])).toEqual([
      ['per-layer-evaluation-type', 'warning', lineOf(text, '# <- block')],
      ['per-layer-without-error-measurement', 'error', lineOf(text, '# <- flag')],
    ]);
  });
});

describe('input handling', () => {
  it('ignores fields it does not know', async () => {
    const text = `${CALIB}future_option { anything: [1, 2] nested { x: "y" } }\nanother_flag: true\n`;
    expect(await lint(text)).toEqual([]);
  });

  it('throws a BadFileError naming file, line and column for bad syntax', async () => {
    const file = path.join(root, 'config', 'broken.prototxt');
    fs.writeFileSync(file, 'neuwizard_conf {\n  dataset_conf_calibration {\n    size: 32\n');
    const err = await lintConfig(file).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('PROTOTXT_SYNTAX');
    expect((err as Error).message).toContain(`${file}:4`);
  });

  it('throws FILE_NOT_FOUND for a missing config', async () => {
    const err = await lintConfig(path.join(root, 'nope.prototxt')).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('FILE_NOT_FOUND');
  });
});
