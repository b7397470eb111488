/**
 * printf conversions whose results must match glibc to the character.
 */

/**
 * `printf("%.2f", x)`: glibc rounds the exact binary value half-to-even, which differs from
 * Number.prototype.toFixed on exact ties (0.125 → "0.12" in C, "0.13" in JS).
 */
export function formatFixed2(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = decompose(Math.abs(x));
  // |x| * 100 = mantissa * 100 * 2^exponent, rounded half-to-even to an integer.
  const scaled = mantissa * 100n;
  let hundredths: bigint;
  if (exponent >= 0) {
    hundredths = scaled << BigInt(exponent);
  } else {
    const den = 1n << BigInt(-exponent);
    const q = scaled / den;
    const twiceRest = (scaled % den) * 2n;
    hundredths = twiceRest > den || (twiceRest === den && q % 2n === 1n) ? q + 1n : q;
  }
  const digits = hundredths.toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** A finite non-negative double as mantissa * 2^exponent, both integers. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** C's `int / int` for the averages run_joint prints: truncates toward zero; the board's
 * Arm CPU returns 0 for a division by zero instead of trapping. */
export function cIntDiv(a: number, b: number): number {
  if (b === 0) return 0;
  return Math.trunc(a / b);
}
