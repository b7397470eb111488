/**
 * Words and numbers shared by the terminal, JUnit and HTML renderers, so a verdict reads the
 * same everywhere and a cosine of 0.9999996 never shows as a perfect 1.
 */
import { formatShare, formatValue } from '../../shared/metrics/format';
import type { Conclusion, OutputComparison, RunTiming, Verdict, VerifyReport } from './model';

/** good/bad/warn/info/neutral: how a renderer colours a verdict, conclusion or cell. */
export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'neutral';

export const VERDICT_LABEL: Record<Verdict, string> = {
  match: 'MATCH',
  mismatch: 'MISMATCH',
  'input-error': 'INPUT ERROR',
  'run-failed': 'RUN FAILED',
};

export const VERDICT_TONE: Record<Verdict, Tone> = {
  match: 'good',
  mismatch: 'bad',
  'input-error': 'warn',
  'run-failed': 'bad',
};

export const CONCLUSION_LABEL: Record<Conclusion, string> = {
  ok: 'OK',
  'model-or-platform': 'MODEL OR PLATFORM',
  'toolchain-loss': 'TOOLCHAIN LOSS',
  'quantization-loss': 'QUANTIZATION LOSS',
  'compile-loss': 'COMPILE LOSS',
  'board-fault': 'BOARD FAULT',
  'postprocessing-suspect': 'POST-PROCESSING SUSPECT',
  inconclusive: 'INCONCLUSIVE',
};

export const CONCLUSION_TONE: Record<Conclusion, Tone> = {
  ok: 'good',
  'model-or-platform': 'warn',
  'toolchain-loss': 'warn',
  'quantization-loss': 'warn',
  'compile-loss': 'warn',
  'board-fault': 'bad',
  'postprocessing-suspect': 'info',
  inconclusive: 'neutral',
};

/** The guide's rule: a cosine below this means the compiled model lost precision. */
export const COSINE_THRESHOLD = 0.98;

/** A cosine to 6 decimals; a value that rounds to 1 without being 1 shows as 0.999999. */
export function fmtCosine(cos: number | null | undefined): string {
  if (cos === null || cos === undefined) return 'n/a';
  if (!Number.isFinite(cos)) return formatValue(cos);
  if (cos === 1) return '1';
  const fixed = cos.toFixed(6);
  if (fixed === '1.000000') return '0.999999';
  if (fixed === '-0.000000') return '0.000000';
  return fixed;
}

/** A difference or value: 4 significant digits, tiny ones as 1.2e-7, zero as 0. */
export function fmtNumber(x: number): string {
  return formatValue(x, 4);
}

/** A relative error (a fraction) as a percentage: 0.047 → 4.7%. */
export function fmtRelErr(fraction: number): string {
  if (!Number.isFinite(fraction)) return formatValue(fraction);
  return `${formatValue(fraction * 100, 3)}%`;
}

/** Whole microseconds, as run_joint prints them: "32744 µs". */
export function fmtMicros(us: number): string {
  if (!Number.isFinite(us)) return `${formatValue(us)} µs`;
  return `${Math.round(us)} µs`;
}

/** Milliseconds, switching to seconds from 10 s on: "612 ms", "48.3 s". */
export function fmtMillis(ms: number): string {
  if (!Number.isFinite(ms)) return `${formatValue(ms)} ms`;
  if (ms >= 10_000) return `${formatValue(ms / 1000, 3)} s`;
  return `${Math.round(ms)} ms`;
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** `float32`, `sint16 Q=256`, with the layout when known: `float32 NCHW`. */
export function fmtDtype(o: Pick<OutputComparison, 'dtype' | 'layout' | 'q'>): string {
  const parts = [o.dtype];
  if (o.layout) parts.push(o.layout);
  if (o.q !== null && o.q !== undefined) parts.push(`Q=${o.q}`);
  return parts.join(' ');
}

/** `0`, or `1234 (12.3%)`. */
export function fmtMismatched(o: Pick<OutputComparison, 'mismatched' | 'mismatchedShare'>): string {
  return o.mismatched === 0 ? '0' : `${o.mismatched} (${formatShare(o.mismatchedShare)})`;
}

export function outputResult(o: OutputComparison): 'pass' | 'FAIL' {
  return o.pass ? 'pass' : 'FAIL';
}

/** `out[0, 417]: board 3.125, simulator 4.0625 (|diff| 0.9375)`. */
export function describeWorst(o: OutputComparison): string | null {
  const w = o.worst;
  if (!w) return null;
  const diff = Math.abs(w.actual - w.reference);
  return `${o.name}${fmtShape(w.at)} (flat ${w.index}): board ${fmtNumber(w.actual)}, simulator ${fmtNumber(w.reference)} (|diff| ${fmtNumber(diff)})`;
}

/** `exit 0`, `killed by SIGABRT`, `timed out`, and the two together when both apply. */
export function describeExit(run: VerifyReport['run']): string {
  const parts: string[] = [];
  if (run.timedOut) parts.push('timed out');
  if (run.signal) parts.push(`killed by ${run.signal}`);
  if (run.exitCode !== null) parts.push(`exit ${run.exitCode}`);
  if (parts.length === 0) parts.push(neverRan(run) ? 'not started' : 'no exit status');
  return parts.join(', ');
}

/** run_joint was never started (verify refused the inputs on the host, before any run). */
export function neverRan(run: VerifyReport['run']): boolean {
  return run.exitCode === null && run.signal === null && !run.timedOut && run.timing.wallMs === 0;
}

/**
 * The heading over inputs the board did not get: run_joint fed random data instead, or, when
 * the host refused them before any run, would have.
 */
export function fallbackHeading(run: VerifyReport['run']): string {
  return neverRan(run) ? 'inputs refused before the run (run_joint would have used random data)' : 'inputs run_joint replaced with random data';
}

/**
 * The run in one line, as every report gives it: `exit 0; avg 5415 µs per round ...; wall 612 ms`
 * (with the warm-up note when the average counts those rounds), or that it never started.
 */
export function describeRun(run: VerifyReport['run']): string {
  return neverRan(run) ? 'run_joint was not started' : `${describeExit(run)}; ${describeTiming(run.timing)}`;
}

/**
 * `5415 µs per round over 99 rounds (NEU 5378 µs + 10 µs overhead, AXE 43 µs); wall 612 ms`,
 * with a note when the average counts warm-up rounds.
 */
export function describeTiming(t: RunTiming): string {
  const parts: string[] = [];
  if (t.runUs !== null) {
    let avg = `avg ${fmtMicros(t.runUs)} per round`;
    if (t.rounds !== null) avg += ` over ${t.rounds} round${t.rounds === 1 ? '' : 's'}`;
    parts.push(avg);
  }
  if (t.components.length > 0) {
    const comps = t.components.map((c) => `${c.name} ${fmtMicros(c.avgUs)}${c.overheadUs !== null ? ` + ${fmtMicros(c.overheadUs)} overhead` : ''}`);
    parts.push(`(${comps.join(', ')})`);
  }
  if (t.includesWarmup) parts.push(`(${warmupNote(t.warmup ?? 0)})`);
  const run = parts.join(' ');
  return `${run ? `${run}; ` : ''}wall ${fmtMillis(t.wallMs)}`;
}

/** Beside a timing whose average counts the warm-up rounds (RunTiming.includesWarmup). */
function warmupNote(warmup: number): string {
  const rounds = warmup > 0 ? `${warmup} warm-up round${warmup === 1 ? '' : 's'}` : 'the warm-up rounds';
  return `timing includes ${rounds}: run_joint counts them when --repeat is 1; use --repeat 2 or more for a clean average`;
}

/** The short model hash for headlines: `sha256:0123abcd…` keeps its prefix and 12 hex digits. */
export function shortHash(hash: string): string {
  const m = /^([a-z0-9]+:)?([0-9a-f]+)$/i.exec(hash);
  if (!m || m[2].length <= 12) return hash;
  return `${m[1] ?? ''}${m[2].slice(0, 12)}…`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
