import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikePulsarRunLog, parsePulsarRunLog } from '../../shared/parsers/pulsar-run-log';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/parsers', name), 'utf8');

describe('parsePulsarRunLog', () => {
  it('reads the score table and dumps of a real-format pulsar run log', () => {
    const log = parsePulsarRunLog(fixture('pulsar-run-resnet18.log'));
    expect(log.problems).toEqual([]);
    expect(log.scores).toEqual([
      { layer: 'resnetv15_dense0_fwd', relErr2Percent: 4.7, cosine: 0.9989, reference: 'resnet18.onnx (with conf)', target: 'resnet18.joint', line: 10 },
    ]);
    expect(log.dumps).toEqual([
      { name: 'data', path: 'gt/input/data.bin', line: 3 },
      { name: 'resnetv15_dense0_fwd', path: 'gt/joint/resnetv15_dense0_fwd.bin', line: 6 },
    ]);
  });

  it('reads several tables, names with / and nan, with or without a logger prefix', () => {
    const text = [
      '###### Comparing m.onnx and m.lava_joint ######',
      'Layer: /head/conv/Conv_output_0  2-norm RE: 12.5%  cosine-sim: 0.98012',
      '[01 10:00:00 compare.py:82] Layer: out2  2-norm RE: nan%  cosine-sim: nan',
      '[01 10:00:01 <frozen super_pulsar.func_wrappers.pulsar_run.compare>:97] ###### Comparing m.onnx and m.joint ######',
      'Layer: out2  2-norm RE: 1.0e+02%  cosine-sim: -0.5',
      "dumped 'a/b' to 'gt/onnx/a_b.bin'",
    ].join('\n');
    const log = parsePulsarRunLog(text);
    expect(log.problems).toEqual([]);
    expect(log.scores.map((s) => [s.layer, s.relErr2Percent, s.cosine, s.target])).toEqual([
      ['/head/conv/Conv_output_0', 12.5, 0.98012, 'm.lava_joint'],
      ['out2', NaN, NaN, 'm.lava_joint'],
      ['out2', 100, -0.5, 'm.joint'],
    ]);
    expect(log.dumps).toEqual([{ name: 'a/b', path: 'gt/onnx/a_b.bin', line: 6 }]);
  });

  it('reports score lines it cannot read', () => {
    const log = parsePulsarRunLog('Layer: out  2-norm RE: ?%  cosine-sim: 0.9\n');
    expect(log.scores).toEqual([]);
    expect(log.problems).toEqual([{ line: 1, message: 'cannot read this pulsar run line: Layer: out  2-norm RE: ?%  cosine-sim: 0.9' }]);
  });

  it('tells pulsar logs from other texts', () => {
    expect(looksLikePulsarRunLog(fixture('pulsar-run-resnet18.log'))).toBe(true);
    expect(looksLikePulsarRunLog(fixture('ax620-resnet18-8bit.log'))).toBe(false);
    expect(looksLikePulsarRunLog('\u0000\u0001binary')).toBe(false);
  });
});
