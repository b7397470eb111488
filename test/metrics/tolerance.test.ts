import { describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { stageTolerance, withOverrides } from '../../shared/metrics';

describe('stageTolerance', () => {
  it('board vs simulator: integers bit-exact', () => {
    for (const dtype of ['int8', 'uint8', 'int16', 'uint16', 'int32', 'bool'] as const) {
      expect(stageTolerance('board-vs-simulator', dtype)).toEqual({ atol: 0, rtol: 0, equalNan: false, requireAllclose: true, minCosine: null });
    }
  });

  it('board vs simulator: floats at float32-rounding level', () => {
    expect(stageTolerance('board-vs-simulator', 'float32')).toEqual({ atol: 1e-5, rtol: 1e-4, equalNan: false, requireAllclose: true, minCosine: 0.9999 });
    expect(stageTolerance('board-vs-simulator', 'float16')).toMatchObject({ rtol: 1e-4 });
  });

  it('onnx vs joint: cosine 0.98, allclose informational', () => {
    expect(stageTolerance('onnx-vs-joint', 'float32')).toMatchObject({ requireAllclose: false, minCosine: 0.98 });
    expect(stageTolerance('onnx-vs-joint', 'int8')).toMatchObject({ requireAllclose: false, minCosine: 0.98 });
  });
});

describe('withOverrides', () => {
  const compile = stageTolerance('onnx-vs-joint', 'float32');

  it('spreads overrides and makes an explicit atol/rtol a requirement', () => {
    expect(withOverrides(compile, {})).toEqual(compile);
    expect(withOverrides(compile, { rtol: 1e-3 })).toMatchObject({ rtol: 1e-3, atol: compile.atol, requireAllclose: true });
    expect(withOverrides(compile, { minCosine: 0.99 })).toMatchObject({ minCosine: 0.99, requireAllclose: false });
    expect(withOverrides(compile, { minCosine: null }).minCosine).toBeNull();
  });

  it.each([
    [{ atol: -1 }, /atol -1 is not a number >= 0/],
    [{ rtol: NaN }, /rtol NaN/],
    [{ minCosine: 1.5 }, /min-cos 1.5 is not a number between -1 and 1/],
  ])('refuses %o', (overrides, message) => {
    let caught: unknown;
    try {
      withOverrides(compile, overrides);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AxError);
    expect((caught as AxError).code).toBe('TOLERANCE_INVALID');
    expect((caught as AxError).message).toMatch(message);
  });
});
