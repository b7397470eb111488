/**
 * compareSources: one streaming pass over two tensors, the metrics, and a verdict with its
 * reasons. A difference in element count or shape is a reported failure, not an exception;
 * only a source that breaks its own contract (yields more or fewer elements than its info
 * says) throws.
 */
import { BadFileError } from '../errors';
import { isFloatDType } from '../tensor/dtype';
import { sameShape, sameShapeIgnoringOnes } from '../tensor/shape';
import type { DType, NumericArray, TensorSource } from '../tensor/types';
import { MetricsAccumulator, type Metrics } from './accumulator';
import { formatCosine, formatIndex, formatShare, formatValue } from './format';
import type { Tolerance } from './tolerance';
import { allInOrder } from '../all-in-order';

export interface TensorSummary {
  readonly path: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly length: number;
}

export interface Comparison {
  /** The reference (gt/joint, gt/onnx) and the tensor judged against it (board output...). */
  readonly ref: TensorSummary;
  readonly got: TensorSummary;
  readonly tolerance: Tolerance;
  /** null when the element counts differ (nothing to line up). */
  readonly metrics: Metrics | null;
  readonly pass: boolean;
  /** Why it failed, one sentence each; empty when it passed. */
  readonly reasons: string[];
  /** Worth knowing but not failures (dtype mixes, squeezed shapes, "not bit-exact"). */
  readonly notes: string[];
}

export interface CompareOptions {
  /** Elements per chunk asked of both sources (default 1 Mi). */
  readonly chunkElements?: number;
}

const DEFAULT_CHUNK_ELEMENTS = 1 << 20;

export async function compareSources(ref: TensorSource, got: TensorSource, tol: Tolerance, options: CompareOptions = {}): Promise<Comparison> {
  const summary = (s: TensorSource): TensorSummary => ({ path: s.info.path, dtype: s.info.dtype, shape: [...s.info.shape], length: s.info.length });
  const base = { ref: summary(ref), got: summary(got), tolerance: tol };
  const notes = dtypeNotes(ref.info.dtype, got.info.dtype);
  if (ref.info.length !== got.info.length) {
    const reason =
      `element counts differ: reference ${formatIndex(ref.info.shape)} has ${ref.info.length}, ` +
      `compared ${formatIndex(got.info.shape)} has ${got.info.length}`;
    return { ...base, metrics: null, pass: false, reasons: [reason], notes };
  }
  const reasons: string[] = [];
  const shapes = shapeVerdict(ref.info.shape, got.info.shape);
  if (shapes.reason) reasons.push(shapes.reason);
  if (shapes.note) notes.push(shapes.note);

  const acc = new MetricsAccumulator({ shape: ref.info.shape, atol: tol.atol, rtol: tol.rtol, equalNan: tol.equalNan });
  await zipChunks(ref, got, acc, options.chunkElements ?? DEFAULT_CHUNK_ELEMENTS);
  const metrics = acc.result();
  reasons.push(...metricReasons(metrics, tol));
  if (reasons.length === 0 && tol.requireAllclose && !metrics.exact) notes.push('within tolerance but not bit-exact');
  return { ...base, metrics, pass: reasons.length === 0, reasons, notes };
}

/** Feeds both sources' chunks to `acc` as aligned pairs, whatever sizes each source yields. */
async function zipChunks(ref: TensorSource, got: TensorSource, acc: MetricsAccumulator, chunkElements: number): Promise<void> {
  const sides = [new ChunkCursor(ref, chunkElements), new ChunkCursor(got, chunkElements)] as const;
  const [r, g] = sides;
  try {
    for (;;) {
      await allInOrder([r.ensure(), g.ensure()]);
      if (r.chunk === undefined || g.chunk === undefined) break;
      const n = Math.min(r.remaining, g.remaining);
      acc.update(r.take(n), g.take(n));
    }
  } finally {
    await Promise.all(sides.map((side) => side.close()));
  }
  // Lengths were checked equal from the infos, so a side that ended short, or one that went on
  // past its length, broke its contract (a file that changed under us, a reader bug).
  for (const side of sides) {
    const expected = side.source.info.length;
    if ((side.ended && side.yielded < expected) || side.yielded > expected) {
      throw new BadFileError(
        'COMPARE_SOURCE_LENGTH',
        side.source.info.path,
        `yielded ${side.yielded < expected ? side.yielded : 'more than ' + expected} elements where its dtype and shape say ${expected}`,
        { hint: 'the file changed while it was read; read it again once nothing writes it' },
      );
    }
  }
}

/** One source's chunk stream with a read position inside the current chunk. */
class ChunkCursor {
  chunk: NumericArray | undefined;
  /** Elements received from the source so far (whole chunks). */
  yielded = 0;
  private at = 0;
  private readonly it: AsyncIterator<NumericArray>;
  private done = false;

  constructor(
    readonly source: TensorSource,
    chunkElements: number,
  ) {
    this.it = source.chunks(chunkElements)[Symbol.asyncIterator]();
  }

  get remaining(): number {
    return this.chunk === undefined ? 0 : this.chunk.length - this.at;
  }

  get ended(): boolean {
    return this.done;
  }

  /** Makes sure a chunk with unread elements is at hand, unless the source has ended. */
  async ensure(): Promise<void> {
    while (!this.done && this.remaining === 0) {
      const next = await this.it.next();
      if (next.done) {
        this.done = true;
        this.chunk = undefined;
      } else {
        this.chunk = next.value;
        this.at = 0;
        this.yielded += next.value.length;
      }
    }
  }

  /** The next `n` elements (a view, no copy). */
  take(n: number): NumericArray {
    const chunk = this.chunk as NumericArray;
    const part = this.at === 0 && n === chunk.length ? chunk : chunk.subarray(this.at, this.at + n);
    this.at += n;
    return part;
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

function dtypeNotes(refType: DType, gotType: DType): string[] {
  if (refType === gotType) return [];
  const mixed = isFloatDType(refType) !== isFloatDType(gotType);
  return [
    `dtypes differ (reference ${refType}, compared ${gotType}): values compared as numbers` +
      (mixed ? '; if the integer side is quantized, dequantize it first (axctl compare --q N or --log)' : ''),
  ];
}

/** Same element count: equal shapes pass, shapes equal but for 1-sized dims pass with a note. */
function shapeVerdict(refShape: readonly number[], gotShape: readonly number[]): { reason?: string; note?: string } {
  if (sameShape(refShape, gotShape)) return {};
  const shapes = `reference ${formatIndex(refShape)}, compared ${formatIndex(gotShape)}`;
  if (sameShapeIgnoringOnes(refShape, gotShape)) return { note: `shapes differ only in 1-sized dimensions (${shapes})` };
  return { reason: `shapes differ (${shapes}) with the same element count: the layouts (NCHW vs NHWC?) may differ` };
}

function metricReasons(m: Metrics, tol: Tolerance): string[] {
  const reasons: string[] = [];
  const at = (w: NonNullable<Metrics['worst']>) =>
    `at ${w.multiIndex ? formatIndex(w.multiIndex) : `flat index ${w.index}`}: reference ${formatValue(w.ref)}, compared ${formatValue(w.got)}`;
  if (m.nonFiniteMismatched > 0 && m.worst) {
    reasons.push(`${m.nonFiniteMismatched} element(s) have NaN or Inf that the other side does not match (first ${at(m.worst)})`);
  }
  const finiteMismatched = m.mismatched - m.nonFiniteMismatched;
  if (tol.requireAllclose && finiteMismatched > 0) {
    const limit = tol.atol === 0 && tol.rtol === 0 ? 'differ (bit-exact required)' : `are outside atol ${formatValue(tol.atol)} + rtol ${formatValue(tol.rtol)}·|reference|`;
    const worst = m.nonFiniteMismatched === 0 && m.worst ? `; largest difference ${formatValue(m.maxAbsDiff)} ${at(m.worst)}` : '';
    reasons.push(`${finiteMismatched} of ${m.count} elements (${formatShare(finiteMismatched / m.count)}) ${limit}${worst}`);
  }
  if (tol.minCosine !== null && !(m.cosine >= tol.minCosine)) {
    reasons.push(`cosine similarity ${formatCosine(m.cosine)} is below ${formatValue(tol.minCosine)}`);
  }
  return reasons;
}
