/** pulsar info --layer_mapping tables → lava layer ↔ onnx layers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lavaToOnnx, onnxToLava, parseLayerMapping } from '../../host/toolchain';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'toolchain', 'pulsar-info-layer-mapping.log');

describe('parseLayerMapping', () => {
  it('reads the simple table by its column rule, cells with spaces included, and skips the IO table', () => {
    const mappings = parseLayerMapping(fs.readFileSync(FIXTURE, 'utf8'));
    expect(mappings.map((m) => [m.lava, m.onnx, m.line])).toEqual([
      ['resnetv15_relu0_fwd', ['resnetv15_conv0_fwd', 'resnetv15_batchnorm0_fwd', 'resnetv15_relu0_fwd'], 19],
      ['resnetv15_pool0_fwd', ['resnetv15_pool0_fwd'], 20],
      ['resnetv15_stage1 conv0 fused', ['resnetv15_stage1_conv0_fwd'], 21],
      ['resnetv15_dense0_fwd', ['resnetv15_dense0_fwd'], 22],
    ]);
  });

  it('reads grid tables with the columns in either order, merging rows of one lava layer', () => {
    const grid = [
      '+--------------+----------------+',
      '| LAVA_NAMES   | ORIGIN_NAMES   |',
      '+==============+================+',
      '| fused_0      | conv_a, bn_a   |',
      '+--------------+----------------+',
      '| fused_0      | relu_a         |',
      '+--------------+----------------+',
      '| fc           | fc             |',
      '+--------------+----------------+',
    ].join('\n');
    const mappings = parseLayerMapping(grid);
    expect(mappings.map((m) => [m.lava, m.onnx])).toEqual([['fused_0', ['conv_a', 'bn_a']], ['fused_0', ['relu_a']], ['fc', ['fc']]]);
    expect(lavaToOnnx(mappings).get('fused_0')).toEqual(['conv_a', 'bn_a', 'relu_a']);
    expect(onnxToLava(mappings).get('relu_a')).toEqual(['fused_0']);
  });

  it('finds nothing in output without a mapping table', () => {
    expect(parseLayerMapping('IO Meta Info:\nNAME  I/O?\n----  ----\ndata  INPUT\n')).toEqual([]);
  });
});
