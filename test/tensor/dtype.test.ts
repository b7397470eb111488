/** dtype names (run_joint, numpy descr), sizes, and float16 conversion against numpy. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  descrOf,
  DTYPE_BYTES,
  DTYPES,
  dtypeFromDescr,
  isFloatDType,
  isIntegerDType,
  parseDTypeOption,
  parseRunJointDtype,
  runJointPackedBits,
  runJointTensorSpec,
} from '../../shared/tensor/dtype';
import { decodeFloat16, encodeFloat16, float32ToHalfBits } from '../../shared/tensor/float16';
import { openNpy } from '../../shared/tensor/npy';
import { readAll } from '../../shared/tensor/open';
import { expectAxError, FIXTURES } from './helpers';

describe('sizes and kinds', () => {
  it('DTYPE_BYTES gives the stored size of each dtype', () => {
    expect(DTYPE_BYTES).toEqual({ bool: 1, uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, int64: 8, uint64: 8, float16: 2, float32: 4, float64: 8 });
  });

  it('splits dtypes into integer, float and bool', () => {
    expect(DTYPES.filter(isIntegerDType)).toEqual(['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'int64', 'uint64']);
    expect(DTYPES.filter(isFloatDType)).toEqual(['float16', 'float32', 'float64']);
    expect(isIntegerDType('bool') || isFloatDType('bool')).toBe(false);
  });
});

describe('run_joint dtype names', () => {
  it.each([
    ['uint8', 'uint8'], ['sint8', 'int8'], ['uint16', 'uint16'], ['sint16', 'int16'], ['sint32', 'int32'],
    ['uint32', 'uint32'], ['float32', 'float32'], ['float64', 'float64'], ['SINT16', 'int16'], [' float32 ', 'float32'],
    ['uint16_packed', 'uint16'], ['uint10_packed', 'uint8'], ['uint12_packed', 'uint8'], ['UINT14_PACKED', 'uint8'],
    ['uint10', 'uint8'], ['int8', 'int8'], ['float16', 'float16'],
  ])('%s → %s', (name, dtype) => {
    expect(parseRunJointDtype(name)).toBe(dtype);
  });

  it.each(['unknown', 'bfloat16', 'uint11_packed', 'sint64', ''])('%s → undefined', (name) => {
    expect(parseRunJointDtype(name)).toBeUndefined();
  });

  it('knows which names are packed camera RAW', () => {
    expect(['uint10_packed', 'uint12', 'uint14_packed', 'uint16_packed', 'uint16'].map(runJointPackedBits)).toEqual([10, 12, 14, 16, undefined]);
  });

  it('turns packed 10/12/14-bit tensors into flat bytes and keeps others as they are', () => {
    expect(runJointTensorSpec('uint12_packed', [1, 4, 6, 1], 36)).toEqual({ dtype: 'uint8', shape: [36], packedBits: 12 });
    expect(runJointTensorSpec('uint10_packed', [1, 2, 3, 1])).toEqual({ dtype: 'uint8', shape: [8], packedBits: 10 });
    expect(runJointTensorSpec('uint16_packed', [1, 2, 3, 1], 12)).toEqual({ dtype: 'uint16', shape: [1, 2, 3, 1], packedBits: 16 });
    expect(runJointTensorSpec('sint16', [1, 1000])).toEqual({ dtype: 'int16', shape: [1, 1000] });
    expect(runJointTensorSpec('complex', [1])).toBeUndefined();
  });

  it('parseDTypeOption accepts both vocabularies and refuses others with DTYPE_UNKNOWN', async () => {
    expect(parseDTypeOption('sint8')).toBe('int8');
    expect(parseDTypeOption('uint64')).toBe('uint64');
    const err = await expectAxError(Promise.resolve().then(() => parseDTypeOption('complex64')), 'DTYPE_UNKNOWN');
    expect(err.message).toMatch(/unknown dtype 'complex64'/);
  });
});

describe('numpy descr', () => {
  it.each([
    ['<f4', 'float32', 'little'], ['>i2', 'int16', 'big'], ['|u1', 'uint8', 'little'], ['|b1', 'bool', 'little'],
    ['<f2', 'float16', 'little'], ['<i8', 'int64', 'little'], ['>u8', 'uint64', 'big'], ['|i1', 'int8', 'little'],
    ['<u1', 'uint8', 'little'], ['>f8', 'float64', 'big'], ['=i4', 'int32', 'little'], ['u4', 'uint32', 'little'],
  ])('%s → %s %s', (descr, dtype, byteOrder) => {
    expect(dtypeFromDescr(descr)).toEqual({ dtype, byteOrder });
  });

  it.each(['<c8', '|O', '<U2', '|S3', '<M8[ns]', '<f16', '|f4', '<i3', '', 'f4 '])('%s is not supported', (descr) => {
    expect(dtypeFromDescr(descr)).toBeUndefined();
  });

  it('descrOf writes what numpy writes and reads back', () => {
    expect(DTYPES.map((d) => descrOf(d))).toEqual(['|b1', '|u1', '|i1', '<u2', '<i2', '<u4', '<i4', '<i8', '<u8', '<f2', '<f4', '<f8']);
    expect(descrOf('float64', 'big')).toBe('>f8');
    for (const d of DTYPES) for (const order of ['little', 'big'] as const) expect(dtypeFromDescr(descrOf(d, order))?.dtype).toBe(d);
  });
});

describe('float16', () => {
  it('decodes every half value as numpy does (checked on the numpy-written specials)', async () => {
    const values = await readAll(await openNpy(join(FIXTURES, 'float16_special.npy')));
    expect(Array.from(values as Float32Array)).toEqual([Infinity, -Infinity, NaN, 65504, 6.103515625e-5, 5.960464477539063e-8, -0, 0.333251953125]);
  });

  it('encodes float32 → float16 with the same rounding as numpy astype', async () => {
    const bits = (await readAll(await openNpy(join(FIXTURES, 'f16_rounding_in.npy')))) as Uint32Array;
    const expected = (await readAll(await openNpy(join(FIXTURES, 'f16_rounding_out.npy')))) as Uint16Array;
    const floats = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
    const ours = encodeFloat16(floats);
    const mismatches: string[] = [];
    for (let i = 0; i < ours.length; i++) {
      const bothNaN = Number.isNaN(floats[i]) && (expected[i] & 0x7c00) === 0x7c00 && (ours[i] & 0x3ff) !== 0;
      if (ours[i] !== expected[i] && !bothNaN) mismatches.push(`${bits[i].toString(16)}: ${ours[i].toString(16)} vs ${expected[i].toString(16)}`);
    }
    expect(mismatches).toEqual([]);
    expect(ours.length).toBeGreaterThan(3000);
  });

  it('round-trips every half bit pattern except NaN payloads', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const decoded = decodeFloat16(all);
    const back = encodeFloat16(decoded);
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN ? !Number.isNaN(decoded[i]) || (back[i] & 0x7c00) !== 0x7c00 || (back[i] & 0x3ff) === 0 : back[i] !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    expect(float32ToHalfBits(1e6)).toBe(0x7c00);
    expect(float32ToHalfBits(-1e-9)).toBe(0x8000);
  });
});
