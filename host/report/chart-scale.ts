/** Axis arithmetic for the SVG charts: round tick values and value-to-pixel mapping. */

export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  /** Formats a tick with as many decimals as the step needs. */
  label: (v: number) => string;
}

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals over [lo, hi]. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/**
 * An axis covering [lo, hi], widened to round ticks. A flat range (every value the same)
 * is opened up around the value so it still draws; non-finite input falls back to [0, 1].
 */
export function niceAxis(lo: number, hi: number, count = 5, snap = true): Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep(hi - lo, count);
  if (snap) {
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
  }
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  const exponent = Math.floor(Math.log10(step));
  const tiny = Math.max(Math.abs(lo), Math.abs(hi)) < 1e-3 || Math.max(Math.abs(lo), Math.abs(hi)) >= 1e6;
  const label = (v: number) => {
    if (v === 0) return '0';
    if (tiny) return v.toExponential(Math.max(0, Math.floor(Math.log10(Math.abs(v))) - exponent)).replace(/\.?0+e/, 'e').replace('e+', 'e');
    return v.toFixed(Math.max(0, -exponent));
  };
  return { lo, hi, ticks, label };
}

/** Maps [d0, d1] onto [r0, r1] (r1 < r0 for a y axis that grows upwards). */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** A coordinate short enough for SVG: one decimal. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}
