/** `axctl compare` output: a table for people, JSON for scripts (fields in docs/parts/metrics.md). */
import { formatCosine, formatPercent, formatShare, formatValue, type Tolerance } from '../../shared/metrics';
import { formatShape } from '../../shared/tensor/shape';
import type { CompareReport, OutputReport } from './compare';

/** The JSON form. Non-finite numbers (JSON has none) are written as "Infinity", "-Infinity", "NaN". */
export function reportJson(report: CompareReport): string {
  const json = {
    reference: report.reference,
    compared: report.compared,
    stage: report.stage,
    pass: report.pass,
    outputs: report.outputs.map(outputJson),
  };
  return `${JSON.stringify(json, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2)}\n`;
}

function outputJson(o: OutputReport) {
  const m = o.comparison?.metrics ?? null;
  return {
    name: o.name,
    pass: o.pass,
    ref: o.ref,
    got: o.got,
    q: o.q,
    count: m?.count ?? null,
    cosine: m?.cosine ?? null,
    relErr2: m?.relErr2 ?? null,
    maxAbsDiff: m?.maxAbsDiff ?? null,
    meanAbsDiff: m?.meanAbsDiff ?? null,
    maxRelDiff: m?.maxRelDiff ?? null,
    mismatched: m?.mismatched ?? null,
    mismatchedShare: m?.mismatchedShare ?? null,
    allclose: m?.allclose ?? null,
    exact: m?.exact ?? null,
    nan: m?.nan ?? null,
    inf: m?.inf ?? null,
    finiteCount: m?.finiteCount ?? null,
    worst: m?.worst ?? null,
    topK: m?.topK ?? null,
    tolerance: o.comparison?.tolerance ?? null,
    reasons: o.reasons,
    notes: o.notes,
  };
}

const HEADERS = ['name', 'dtype', 'shape', 'cosine', 'relErr2', 'maxAbsDiff', 'mismatched', 'verdict'];

function row(o: OutputReport): string[] {
  const m = o.comparison?.metrics ?? null;
  const ref = o.ref && 'dtype' in o.ref ? o.ref : null;
  const got = o.got && 'dtype' in o.got ? o.got : null;
  const dtype = !ref || !got ? '-' : (ref.dtype === got.dtype ? ref.dtype : `${ref.dtype}/${got.dtype}`) + (o.q !== null ? ` Q=${o.q}` : '');
  const shape = !ref || !got ? '-' : formatShape(ref.shape) === formatShape(got.shape) ? formatShape(ref.shape) : `${formatShape(ref.shape)}/${formatShape(got.shape)}`;
  const verdict = o.comparison === null ? (o.ref ? 'only in reference' : 'only in compared') : !o.pass ? 'FAIL' : m?.exact ? 'exact' : 'pass';
  if (!m) return [o.name, dtype, shape, '-', '-', '-', '-', verdict];
  return [
    o.name,
    dtype,
    shape,
    formatCosine(m.cosine),
    formatPercent(m.relErr2),
    formatValue(m.maxAbsDiff),
    m.mismatched === 0 ? '0' : `${m.mismatched} (${formatShare(m.mismatchedShare)})`,
    verdict,
  ];
}

function describeTolerance(t: Tolerance): string {
  const parts: string[] = [];
  if (t.requireAllclose) parts.push(t.atol === 0 && t.rtol === 0 ? 'bit-exact' : `|ref − got| <= ${formatValue(t.atol)} + ${formatValue(t.rtol)}·|ref|`);
  if (t.minCosine !== null) parts.push(`cosine >= ${formatValue(t.minCosine)}`);
  if (t.equalNan) parts.push('NaN = NaN');
  return parts.length ? parts.join(', ') : 'no NaN/Inf mismatches';
}

/** The human form: one row per output, then reasons and notes, then the verdict. */
export function reportTable(report: CompareReport): string {
  const rows = [HEADERS, ...report.outputs.map(row)];
  const widths = HEADERS.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  for (const o of report.outputs) {
    for (const reason of o.reasons) lines.push(`${o.name}: ${reason}`);
    for (const note of o.notes) lines.push(`${o.name}: note: ${note}`);
  }
  const tolerances = [...new Set(report.outputs.flatMap((o) => (o.comparison ? [describeTolerance(o.comparison.tolerance)] : [])))];
  const passed = report.outputs.filter((o) => o.pass).length;
  lines.push(
    `${report.pass ? 'PASS' : 'FAIL'}: ${passed} of ${report.outputs.length} output${report.outputs.length === 1 ? '' : 's'} within tolerance ` +
      `(${report.stage}${tolerances.length ? `: ${tolerances.join('; ')}` : ''})`,
  );
  return `${lines.join('\n')}\n`;
}
