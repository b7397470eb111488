/**
 * The data behind an output's two charts: up to ~2000 [simulator, board] value pairs taken at
 * an even stride over the tensor, and a histogram of board − simulator. Two streaming passes
 * (the first finds the sample and the range of the differences, the second counts), so an
 * output of any size costs two reads, never a copy. Pairs with NaN or Inf are left out: the
 * metrics count them, a chart cannot place them.
 */
import type { NumericArray, TensorSource } from '../../shared/tensor/types';
import type { PlotData } from '../report/model';

export const PLOT_SAMPLE_MAX = 2000;
export const PLOT_BINS = 40;
const CHUNK_ELEMENTS = 1 << 18;

export async function plotOf(ref: TensorSource, got: TensorSource, bins = PLOT_BINS, maxSample = PLOT_SAMPLE_MAX): Promise<PlotData> {
  const n = Math.min(ref.info.length, got.info.length);
  const stride = Math.max(1, Math.ceil(n / maxSample));
  const sample: [number, number][] = [];
  let lo = Infinity;
  let hi = -Infinity;
  await pairs(ref, got, n, (r, g, i) => {
    if (!Number.isFinite(r) || !Number.isFinite(g)) return;
    const d = g - r;
    if (d < lo) lo = d;
    if (d > hi) hi = d;
    if (i % stride === 0) sample.push([r, g]);
  });
  if (lo > hi) {
    lo = 0;
    hi = 0;
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + width * i));
  const counts = new Array<number>(bins).fill(0);
  await pairs(ref, got, n, (r, g) => {
    if (!Number.isFinite(r) || !Number.isFinite(g)) return;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((g - r - lo) / width)))]!++;
  });
  return { sample, histogram: { edges, counts } };
}

/** Calls `visit` for the first `n` aligned element pairs (as numbers) of two sources. */
async function pairs(ref: TensorSource, got: TensorSource, n: number, visit: (r: number, g: number, index: number) => void): Promise<void> {
  const a = ref.chunks(CHUNK_ELEMENTS)[Symbol.asyncIterator]();
  const b = got.chunks(CHUNK_ELEMENTS)[Symbol.asyncIterator]();
  let ca: NumericArray | null = null;
  let cb: NumericArray | null = null;
  let ia = 0;
  let ib = 0;
  try {
    for (let i = 0; i < n; i++) {
      if (!ca || ia >= ca.length) {
        const next = await a.next();
        if (next.done) return;
        ca = next.value;
        ia = 0;
      }
      if (!cb || ib >= cb.length) {
        const next = await b.next();
        if (next.done) return;
        cb = next.value;
        ib = 0;
      }
      visit(Number(ca[ia++]), Number(cb[ib++]), i);
    }
  } finally {
    await a.return?.();
    await b.return?.();
  }
}
