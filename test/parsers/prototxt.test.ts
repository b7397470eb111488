import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadFileError } from '../../shared/errors';
import {
  get, getAll, getScalars, parsePrototxt, PrototxtSyntaxError, toPlain, type PtMessage, type PtValue,
} from '../../shared/parsers/prototxt';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/parsers', name), 'utf8');

function syntaxError(text: string, file = 'c.prototxt'): PrototxtSyntaxError {
  try {
    parsePrototxt(text, file);
  } catch (err) {
    if (err instanceof PrototxtSyntaxError) return err;
    throw err;
  }
  throw new Error('expected a syntax error');
}

const scalar = (v: PtValue | undefined) => (v && v.kind !== 'list' && v.kind !== 'message' ? v.value : undefined);

describe('parsePrototxt on a resnet18 build config', () => {
  const doc = parsePrototxt(fixture('config-resnet18.prototxt'), 'config-resnet18.prototxt');

  it('reads enums, nested messages and booleans', () => {
    expect(doc.file).toBe('config-resnet18.prototxt');
    expect(scalar(get(doc, 'target_hardware'))).toBe('TARGET_HARDWARE_AX620');
    expect(get(doc, 'dst_input_tensors.color_space')).toMatchObject({ kind: 'enum', value: 'TENSOR_COLOR_SPACE_RGB' });
    expect(get(doc, 'cpu_backend_settings.axe_setting.axe_param.optimize_slim_model')).toMatchObject({ kind: 'bool', value: true });
    expect(get(doc, 'pulsar_conf.debug')).toMatchObject({ kind: 'bool', value: false });
  });

  it('reads mean/std lists through repeated input_modifications, with lines and columns', () => {
    const path = 'neuwizard_conf.operator_conf.input_conf_items.attributes.input_modifications.input_normalization.mean';
    expect(getScalars(doc, path)).toEqual([0.485, 0.456, 0.406]);
    const mean = get(doc, path);
    expect(mean).toMatchObject({ kind: 'list', line: 42, column: 19 });
    expect(getAll(doc, 'neuwizard_conf.operator_conf.input_conf_items.attributes.input_modifications')).toHaveLength(2);
  });

  it('reads the calibration and evaluation settings', () => {
    const calib = get(doc, 'neuwizard_conf.dataset_conf_calibration') as PtMessage;
    expect(toPlain(calib)).toEqual({
      path: '../dataset/imagenet-1k-images.tar',
      type: 'DATASET_TYPE_TAR',
      size: 256,
      batch_size: 32,
      calibration_strategy: 'CALIB_STRATEGY_PER_TENSOR',
      observer_method: 'OBSVR_METHOD_MSE_CLIPPING',
    });
    expect(calib.line).toBe(49);
    expect(scalar(get(doc, 'neuwizard_conf.evaluation_conf.score_compare_per_layer'))).toBe(true);
    expect(scalar(get(doc, 'dst_output_tensors.tensor_layout'))).toBe('NHWC');
  });

  it('gives undefined for missing paths', () => {
    expect(get(doc, 'neuwizard_conf.nothing.here')).toBeUndefined();
    expect(getAll(doc, 'dst_output_tensors.quantization_value')).toEqual([]);
  });
});

describe('parsePrototxt on a multi-input INT16 config', () => {
  const doc = parsePrototxt(fixture('config-yolo-int16-multi-input.prototxt'));

  it('reads repeated dst_input_tensors (with and without colon, single-quoted names)', () => {
    const tensors = getAll(doc, 'dst_input_tensors').map((v) => toPlain(v));
    expect(tensors).toEqual([
      { tensor_name: 'images', color_space: 'TENSOR_COLOR_SPACE_NV12', color_standard: 'CSS_ITU_BT601_STUDIO_SWING' },
      { tensor_name: 'im_info/scale', data_type: 'FLOAT32' },
    ]);
  });

  it('reads repeated scalars as a list and repeated messages with ; separators', () => {
    expect(getScalars(doc, 'neuwizard_conf.operator_conf.input_conf_items.attributes.input_modifications.input_normalization.std'))
      .toEqual([255.0326, 255.0326, 255.0326]);
    const items = getAll(doc, 'neuwizard_conf.operator_conf.operator_conf_items');
    expect(items.map((i) => toPlain(i))).toEqual([
      { selector: {}, attributes: { input_feature_type: 'UINT16', weight_type: 'INT8' } },
      { selector: { op_name: '192' }, attributes: { input_feature_type: 'UINT4', weight_type: 'INT8' } },
    ]);
    expect(getScalars(doc, 'neuwizard_conf.dataset_conf_calibration.dataset_conf_items.path')).toEqual(['input0.tar', 'input1.tar']);
  });

  it('reads < > messages and the output Q value', () => {
    expect(getScalars(doc, 'pulsar_conf.batch_size')).toEqual([1, 2, 4]);
    expect(toPlain(get(doc, 'dst_output_tensors') as PtValue)).toEqual({ tensor_layout: 'NHWC', data_type: 'INT16', quantization_value: 256 });
  });
});

describe('parsePrototxt scalar forms', () => {
  it('reads numbers of every form', () => {
    const doc = parsePrototxt('a: 10 b: -3 c: 0x1F d: 017 e: 1.5e-3 f: -2.5f g: .5 h: -inf i: nan j: inf k: 0');
    expect(getScalars(doc, 'a')).toEqual([10]);
    expect(doc.fields.map((f) => scalar(f.value))).toEqual([10, -3, 31, 15, 0.0015, -2.5, 0.5, -Infinity, NaN, Infinity, 0]);
    expect(get(doc, 'e')).toMatchObject({ kind: 'number', raw: '1.5e-3' });
    expect(toPlain(doc)).toMatchObject({ h: '-inf', i: 'nan', j: 'inf' });
  });

  it('reads strings with escapes, both quotes and adjacent concatenation', () => {
    const doc = parsePrototxt(String.raw`a: "tab\there \"q\" \\ \x41\101 \u00e9" b: 'it''s' c: "x" 'y' "z" d: "\303\251"`);
    expect(getScalars(doc, 'a')).toEqual(['tab\there "q" \\ AA é']);
    expect(getScalars(doc, 'b')).toEqual(['its']);
    expect(getScalars(doc, 'c')).toEqual(['xyz']);
    expect(getScalars(doc, 'd')).toEqual(['é']);
  });

  it('reads booleans, enums, lists of messages and extension names', () => {
    const doc = parsePrototxt('x: true y: False z: SOME_ENUM m [{ a: 1 }, < a: 2 >] [pkg.ext] { v: 1 } e: []');
    expect(doc.fields.map((f) => f.value.kind)).toEqual(['bool', 'bool', 'enum', 'list', 'message', 'list']);
    expect(getScalars(doc, 'm.a')).toEqual([1, 2]);
    expect(getScalars(doc, ['[pkg.ext]', 'v'])).toEqual([1]);
  });

  it('keeps 1-based lines and columns of fields', () => {
    const doc = parsePrototxt('# comment\n\n  outer {\n    inner: 5\n  }\n');
    const outer = doc.fields[0];
    expect([outer.line, outer.column]).toEqual([3, 3]);
    const inner = (outer.value as PtMessage).fields[0];
    expect([inner.line, inner.column, inner.value.line, inner.value.column]).toEqual([4, 5, 4, 12]);
  });

  it('parses an empty or comment-only text to an empty document', () => {
    expect(parsePrototxt('').fields).toEqual([]);
    expect(parsePrototxt('# nothing\n   \n').fields).toEqual([]);
  });
});

describe('parsePrototxt syntax errors', () => {
  it('is a BadFileError PROTOTXT_SYNTAX with file:line:col and what was expected', () => {
    const err = syntaxError('pulsar_conf {\n  batch_size 1\n}\n');
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.code).toBe('PROTOTXT_SYNTAX');
    expect(err.exitCode).toBe(2);
    expect(err.file).toBe('c.prototxt');
    expect([err.line, err.column]).toEqual([2, 14]);
    expect(err.message).toBe("c.prototxt:2:14: expected ':' or '{' after the field name 'batch_size', found '1'");
  });

  it('names the unclosed block', () => {
    expect(syntaxError('a {\n  b {\n    c: 1\n  }\n').message).toBe("c.prototxt:5:1: missing '}' to close 'a' opened at line 1, column 3");
  });

  it('reports unterminated strings, bad numbers, stray braces and missing values', () => {
    expect(syntaxError('path: "abc\n').message).toMatch(/^c\.prototxt:1:7: string not closed/);
    expect(syntaxError('size: 12ab').message).toMatch(/^c\.prototxt:1:7: malformed number '12a'/);
    expect(syntaxError('a: 1 }').message).toMatch(/^c\.prototxt:1:6: unexpected '\}': no block is open here/);
    expect(syntaxError('a: }').message).toMatch(/^c\.prototxt:1:4: expected a value for 'a'/);
    expect(syntaxError('a: [1, 2').message).toMatch(/^c\.prototxt:1:9: expected ',' or '\]' in the list of 'a', found the end of the file/);
    expect(syntaxError('a: "x\\q"').message).toMatch(/unknown escape '\\q'/);
    expect(syntaxError('a: 1 @').message).toMatch(/unexpected character '@'/);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(syntaxError('a {'.repeat(100000)).message).toBe('c.prototxt:1:303: messages nested more than 100 deep');
  });

  it('rejects a run_joint log', () => {
    expect(syntaxError(fixture('ax620-resnet18-8bit.log')).message).toMatch(/^c\.prototxt:1:5: expected ':' or '\{'/);
  });

  it('uses <prototxt> when no file is named', () => {
    expect(() => parsePrototxt('a b')).toThrow(/^<prototxt>:1:3:/);
  });

  it('never throws anything but PrototxtSyntaxError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ':', '{', '}', '<', '>', '[', ']', ',', '"', "'", '\\', '1', '.', '-', ' ', '\n', '#', 'e', 'x') }), (text) => {
        try {
          parsePrototxt(text);
        } catch (err) {
          if (!(err instanceof PrototxtSyntaxError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
