#!/usr/bin/env python3
"""Writes the .npy/.bin fixtures of test/tensor with real numpy, plus expected.json.

Run once (python3 scripts/gen-npy-fixtures.py) and commit the output: the tests read the
files and compare with expected.json, so they need no numpy. expected.json holds, per file,
what numpy says about it: dtype, shape, header version, byte order, Fortran order, and the
values flattened in C order (int64/uint64 as decimal strings, non-finite floats as
"nan"/"inf"/"-inf").
"""
import json
import math
import os
import sys

import numpy as np
from numpy.lib import format as npformat

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'tensor')

# Values per dtype, including each type's extremes.
VALUES = {
    'bool': [True, False, True, False, False, True],
    'uint8': [0, 1, 127, 128, 254, 255],
    'int8': [-128, -1, 0, 1, 126, 127],
    'uint16': [0, 1, 255, 256, 65534, 65535],
    'int16': [-32768, -1, 0, 1, 256, 32767],
    'uint32': [0, 1, 65536, 2**31, 2**32 - 2, 2**32 - 1],
    'int32': [-2**31, -1, 0, 1, 65536, 2**31 - 1],
    'int64': [-2**63, -1, 0, 2**53 + 1, 2**62, 2**63 - 1],
    'uint64': [0, 1, 2**53 + 1, 2**63, 2**64 - 2, 2**64 - 1],
    'float16': [0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-24],
    'float32': [0.0, -0.0, 1.5, -3.25, 3.4028234663852886e38, 2.0**-149],
    'float64': [math.pi, -math.e, 1e308, 5e-324, 0.0, -1.0],
}

expected = {}


def plain(v, dtype):
    if dtype in ('int64', 'uint64'):
        return str(int(v))
    if dtype == 'bool':
        return int(bool(v))
    if dtype.startswith('float'):
        f = float(v)
        if math.isnan(f):
            return 'nan'
        if math.isinf(f):
            return 'inf' if f > 0 else '-inf'
        return f
    return int(v)


def record(name, arr, version, dtype_name):
    expected[name] = {
        'dtype': dtype_name,
        'shape': list(arr.shape),
        'version': version,
        'byteOrder': 'big' if arr.dtype.byteorder == '>' else 'little',
        'fortranOrder': bool(arr.flags.f_contiguous and not arr.flags.c_contiguous),
        'values': [plain(v, dtype_name) for v in np.ascontiguousarray(arr).ravel(order='C')],
    }


def save(name, arr, version=(1, 0), dtype_name=None):
    path = os.path.join(ROOT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        npformat.write_array(f, arr, version=version, allow_pickle=False)
    if dtype_name:
        record(name, arr, version[0], dtype_name)


def main():
    os.makedirs(ROOT, exist_ok=True)
    for dtype, values in VALUES.items():
        le = np.array(values, dtype=np.dtype(dtype).newbyteorder('<')).reshape(2, 3)
        save(f'le_{dtype}.npy', le, dtype_name=dtype)
        if le.dtype.itemsize > 1:
            save(f'be_{dtype}.npy', le.astype(le.dtype.newbyteorder('>')), dtype_name=dtype)

    grid = np.arange(12, dtype='<i2').reshape(3, 4) * 1000 - 5000
    save('v2_int16.npy', grid, version=(2, 0), dtype_name='int16')
    save('v3_float32.npy', (np.arange(12, dtype='<f4') / 8).reshape(3, 4), version=(3, 0), dtype_name='float32')

    save('fortran_float32.npy', np.asfortranarray(np.arange(24, dtype='<f4').reshape(2, 3, 4) - 7.5), dtype_name='float32')
    save('fortran_be_int16.npy', np.asfortranarray((np.arange(15) * 37 - 200).astype('>i2').reshape(3, 5)), dtype_name='int16')
    save('fortran_float64_4d.npy', np.asfortranarray(np.linspace(-1, 1, 24, dtype='<f8').reshape(2, 3, 2, 2)), dtype_name='float64')

    specials = [np.inf, -np.inf, np.nan, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -0.0, 1 / 3]
    save('float16_special.npy', np.array(specials, dtype='<f2'), dtype_name='float16')

    save('scalar_float32.npy', np.array(3.5, dtype='<f4'), dtype_name='float32')
    save('scalar_int64.npy', np.array(-7, dtype='<i8'), dtype_name='int64')
    save('zero_dim_float32.npy', np.zeros((3, 0, 2), dtype='<f4'), dtype_name='float32')
    save('empty_uint8.npy', np.zeros((0,), dtype='|u1'), dtype_name='uint8')

    # A gt folder as `pulsar run --output_gt` leaves it: raw .bin (ndarray.tofile) + .npy twin.
    image = (np.arange(48, dtype=np.uint8) * 5).reshape(1, 4, 4, 3)
    logits = np.linspace(-2, 2, 10, dtype='<f4').reshape(1, 10)
    for folder, name, arr, dtype in (('gt/input', 'data', image, 'uint8'), ('gt/joint', 'out', logits, 'float32')):
        save(f'{folder}/{name}.npy', arr, dtype_name=dtype)
        arr.tofile(os.path.join(ROOT, folder, f'{name}.bin'))

    # Types the reader must refuse.
    save('unsupported_complex64.npy', np.array([1 + 2j, 3 - 4j], dtype='<c8'))
    save('unsupported_unicode.npy', np.array(['ab', 'c'], dtype='<U2'))
    save('unsupported_structured.npy', np.zeros(2, dtype=[('a', '<i4'), ('b', '<f4')]))
    with open(os.path.join(ROOT, 'unsupported_object.npy'), 'wb') as f:
        npformat.write_array(f, np.array([1, 'x', None], dtype=object), allow_pickle=True)

    # float32 → float16 rounding as numpy does it, on random bit patterns and exact ties.
    rng = np.random.default_rng(20240607)
    bits = rng.integers(0, 2**32, size=3000, dtype=np.uint64).astype(np.uint32)
    ties = (np.arange(1, 200, dtype=np.uint32) << 13) | 0x1000  # mantissa exactly halfway
    ties = (ties & 0x7FFFFF) | (np.uint32(112 + 3) << 23)
    sub_ties = np.array([0x33000000, 0x33000001, 0x33800000, 0x337FFFFF, 0x38800000, 0x387FE000, 0x387FF000], dtype=np.uint32)
    bits = np.concatenate([bits, ties, sub_ties, sub_ties | 0x80000000])
    floats = bits.view('<f4')
    save('f16_rounding_in.npy', bits.astype('<u4'))
    with np.errstate(over='ignore'):  # large values round to ±inf, as intended
        save('f16_rounding_out.npy', floats.astype('<f2').view('<u2'))

    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        lines = [f'  {json.dumps(name)}: {json.dumps(expected[name])}' for name in sorted(expected)]
        f.write('{\n' + ',\n'.join(lines) + '\n}\n')
    print(f'wrote {len(expected)} described fixtures to {os.path.normpath(ROOT)} with numpy {np.__version__}', file=sys.stderr)


if __name__ == '__main__':
    main()
