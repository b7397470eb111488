/** How metric values read in messages and tables: short, but never hiding a difference. */

/** A number in at most `digits` significant digits: 0.999912, 4.7e-06, Infinity, NaN. */
export function formatValue(x: number, digits = 6): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return '0';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1).replace(/\.?0+e/, 'e');
}

/**
 * A cosine with enough digits to tell 0.99999 from 1: up to 8 decimals, trailing zeros cut;
 * a value that rounds to 1 without being 1 shows as 0.99999999.
 */
export function formatCosine(cos: number): string {
  if (!Number.isFinite(cos)) return formatValue(cos);
  if (cos === 1) return '1';
  const fixed = cos.toFixed(8);
  if (fixed === '1.00000000') return '0.99999999';
  return fixed.replace(/0+$/, '').replace(/\.$/, '');
}

/** A share as a percentage: 0.0123 → "1.23%", tiny but non-zero shares never show as 0%. */
export function formatShare(share: number): string {
  if (share === 0) return '0%';
  const pct = share * 100;
  if (pct < 0.01) return '<0.01%';
  return `${Number(pct.toPrecision(3))}%`;
}

/** A fraction as a percentage with 3 significant digits: 0.047 → "4.7%", 5.4e-5 → "0.0054%". */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return formatValue(fraction);
  return `${formatValue(fraction * 100, 3)}%`;
}

/** `[1, 1000]` like run_joint's log. */
export function formatIndex(index: readonly number[]): string {
  return `[${index.join(', ')}]`;
}
