/**
 * Charts as inline SVG, drawn here rather than in the browser: the page needs no script, no
 * library and no network, prints as vectors and can be checked by tests. Every chart is an
 * <svg role="img"> with an id, a class, a <title> and a <desc>; colours come from CSS classes
 * (html-style.ts) so light, dark and print themes apply. No string from the report reaches
 * the SVG unescaped.
 */
import { linear, niceAxis, px, type Axis } from './chart-scale';
import { escapeHtml as esc } from './escape';
import { COSINE_THRESHOLD, fmtCosine, fmtNumber } from './format';
import type { DiagnoseReport, OutputComparison } from './model';
import { ellipsizeMiddle } from './text-layout';

interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function svgOpen(id: string, cls: string, width: number, height: number, title: string, desc: string): string {
  return (
    `<svg id="${esc(id)}" class="chart ${cls}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
    `role="img" aria-labelledby="${esc(id)}-title ${esc(id)}-desc"><title id="${esc(id)}-title">${esc(title)}</title>` +
    `<desc id="${esc(id)}-desc">${esc(desc)}</desc>`
  );
}

function xAxis(axis: Axis, x: (v: number) => number, f: Frame, label: string): string {
  const ticks = axis.ticks.map(
    (t) =>
      `<line class="grid" x1="${px(x(t))}" y1="${f.top}" x2="${px(x(t))}" y2="${f.bottom}"/>` +
      `<text class="tick" x="${px(x(t))}" y="${f.bottom + 14}" text-anchor="middle">${esc(axis.label(t))}</text>`,
  );
  return `<g class="axis x">${ticks.join('')}<line class="frame" x1="${f.left}" y1="${f.bottom}" x2="${f.right}" y2="${f.bottom}"/><text class="axis-label" x="${px((f.left + f.right) / 2)}" y="${f.bottom + 32}" text-anchor="middle">${esc(label)}</text></g>`;
}

function yAxis(axis: Axis, y: (v: number) => number, f: Frame, label: string, tickLabel: (v: number) => string = axis.label): string {
  const ticks = axis.ticks.map(
    (t) =>
      `<line class="grid" x1="${f.left}" y1="${px(y(t))}" x2="${f.right}" y2="${px(y(t))}"/>` +
      `<text class="tick" x="${f.left - 6}" y="${px(y(t) + 4)}" text-anchor="end">${esc(tickLabel(t))}</text>`,
  );
  const cy = px((f.top + f.bottom) / 2);
  return `<g class="axis y">${ticks.join('')}<line class="frame" x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.bottom}"/><text class="axis-label" x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})">${esc(label)}</text></g>`;
}

/** Board value against simulator value, one dot per sampled element, with the y = x line. */
export function scatterSvg(id: string, o: OutputComparison): string {
  const sample = (o.plot?.sample ?? []).filter(([r, a]) => Number.isFinite(r) && Number.isFinite(a));
  const dropped = (o.plot?.sample.length ?? 0) - sample.length;
  // The worst element is ringed only when it matters: on an output that failed.
  const worst = !o.pass && o.worst && Number.isFinite(o.worst.reference) && Number.isFinite(o.worst.actual) ? o.worst : null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const [r, a] of sample) {
    lo = Math.min(lo, r, a);
    hi = Math.max(hi, r, a);
  }
  if (worst) [lo, hi] = [Math.min(lo, worst.reference, worst.actual), Math.max(hi, worst.reference, worst.actual)];
  const axis = niceAxis(lo, hi);
  const W = 420;
  const H = 400;
  const f: Frame = { left: 62, top: 12, right: W - 14, bottom: H - 48 };
  const x = linear(axis.lo, axis.hi, f.left, f.right);
  const y = linear(axis.lo, axis.hi, f.bottom, f.top);
  const { atol, rtol } = o.tolerance;
  const seen = new Set<string>();
  const points: string[] = [];
  for (const [r, a] of sample) {
    const cx = px(x(r));
    const cy = px(y(a));
    const bad = Math.abs(a - r) > atol + rtol * Math.abs(r);
    const key = `${cx},${cy},${bad}`;
    if (seen.has(key)) continue; // same pixel: one dot is enough
    seen.add(key);
    points.push(`<circle class="pt${bad ? ' bad' : ''}" cx="${cx}" cy="${cy}" r="2"/>`);
  }
  const desc =
    `${sample.length} sampled elements of ${o.name}: simulator value on x, board value on y; dots off the diagonal differ` +
    (dropped ? `; ${dropped} non-finite pairs not drawn` : '');
  const parts = [
    svgOpen(id, 'scatter', W, H, `Board vs simulator: ${o.name}`, desc),
    xAxis(axis, x, f, 'simulator (gt/joint)'),
    yAxis(axis, y, f, 'board (run_joint)'),
    `<line class="diag" x1="${px(x(axis.lo))}" y1="${px(y(axis.lo))}" x2="${px(x(axis.hi))}" y2="${px(y(axis.hi))}"><title>y = x: board equals simulator</title></line>`,
    `<g class="points">${points.join('')}</g>`,
  ];
  if (worst) {
    parts.push(
      `<circle class="worst" cx="${px(x(worst.reference))}" cy="${px(y(worst.actual))}" r="6"><title>worst element [${esc(worst.at.join(', '))}]: board ${esc(fmtNumber(worst.actual))}, simulator ${esc(fmtNumber(worst.reference))}</title></circle>`,
    );
  }
  if (sample.length === 0) parts.push(`<text class="empty" x="${px((f.left + f.right) / 2)}" y="${px((f.top + f.bottom) / 2)}" text-anchor="middle">no finite values sampled</text>`);
  return `${parts.join('')}</svg>`;
}

/** Counts of (board − simulator) per bin; a log count axis when rare large errors hide. */
export function histogramSvg(id: string, o: OutputComparison): string {
  const { edges, counts } = o.plot?.histogram ?? { edges: [], counts: [] };
  const bins = counts.length === edges.length - 1 ? counts.map((c, i) => ({ from: edges[i], to: edges[i + 1], count: c })).filter((b) => Number.isFinite(b.from) && Number.isFinite(b.to)) : [];
  const W = 420;
  const H = 400;
  const f: Frame = { left: 62, top: 12, right: W - 14, bottom: H - 48 };
  const xa = niceAxis(bins.length ? bins[0].from : -1, bins.length ? bins[bins.length - 1].to : 1, 5, false);
  const x = linear(xa.lo, xa.hi, f.left, f.right);
  const max = Math.max(1, ...bins.map((b) => b.count));
  const minNonZero = Math.min(max, ...bins.filter((b) => b.count > 0).map((b) => b.count));
  const log = max / minNonZero >= 50;
  const value = (c: number) => (log ? Math.log10(1 + c) : c);
  const ya: Axis = log
    ? { lo: 0, hi: Math.ceil(Math.log10(1 + max)), ticks: [], label: (v) => String(Math.round(10 ** v - 1)) }
    : niceAxis(0, max, 4);
  if (log) for (let k = 0; k <= ya.hi; k++) ya.ticks.push(Math.log10(1 + 10 ** k));
  const y = linear(ya.lo, ya.hi, f.bottom, f.top);
  const bars = bins.map((b) => {
    const x0 = x(b.from);
    const w = Math.max(0.5, x(b.to) - x0 - 0.5);
    const top = y(value(b.count));
    return `<rect class="bar" x="${px(x0)}" y="${px(top)}" width="${px(w)}" height="${px(f.bottom - top)}"><title>[${esc(fmtNumber(b.from))}, ${esc(fmtNumber(b.to))}): ${b.count}</title></rect>`;
  });
  const parts = [
    svgOpen(id, 'histogram', W, H, `Error histogram: ${o.name}`, `How many elements of ${o.name} differ by how much (board minus simulator), in ${bins.length} bins${log ? ', count on a log scale' : ''}`),
    xAxis(xa, x, f, 'board − simulator'),
    yAxis(ya, y, f, log ? 'elements (log scale)' : 'elements'),
    `<g class="bars">${bars.join('')}</g>`,
  ];
  if (xa.lo <= 0 && xa.hi >= 0) parts.push(`<line class="zero" x1="${px(x(0))}" y1="${f.top}" x2="${px(x(0))}" y2="${f.bottom}"><title>no difference</title></line>`);
  if (bins.length === 0) parts.push(`<text class="empty" x="${px((f.left + f.right) / 2)}" y="${px((f.top + f.bottom) / 2)}" text-anchor="middle">no histogram</text>`);
  return `${parts.join('')}</svg>`;
}

/** A cosine axis from just below the lowest value (never above the threshold) up to 1. */
function cosineAxis(values: number[]): Axis {
  const finite = values.filter(Number.isFinite);
  const lo = Math.max(-1, Math.min(COSINE_THRESHOLD - 0.01, ...finite));
  const axis = niceAxis(lo, 1, 5);
  return { ...axis, hi: 1, ticks: axis.ticks.filter((t) => t <= 1 + 1e-12) };
}

function thresholdLine(x: (v: number) => number, top: number, bottom: number): string {
  const tx = px(x(COSINE_THRESHOLD));
  return `<g class="threshold"><line x1="${tx}" y1="${top}" x2="${tx}" y2="${bottom}"><title>the guide's threshold: cosine ${COSINE_THRESHOLD}</title></line><text class="tick" x="${tx}" y="${top - 4}" text-anchor="middle">${COSINE_THRESHOLD}</text></g>`;
}

/** The most layers a chart lists; the rest are counted in its description. */
export const LAYERS_CHARTED = 40;

/** Per-layer cosine, worst first, with the 0.98 line; bars below it are marked lossy. */
export function layerBarsSvg(id: string, layers: DiagnoseReport['layers']): string {
  const rows = [...layers].sort((a, b) => (Number.isNaN(a.cosine) ? -1 : Number.isNaN(b.cosine) ? 1 : a.cosine - b.cosine)).slice(0, LAYERS_CHARTED);
  const rowH = 18;
  const W = 780;
  const f: Frame = { left: 250, top: 22, right: W - 70, bottom: 22 + rows.length * rowH };
  const H = f.bottom + 40;
  const axis = cosineAxis(rows.map((l) => l.cosine));
  const x = linear(axis.lo, axis.hi, f.left, f.right);
  const bars = rows.map((l, i) => {
    const top = f.top + i * rowH;
    const lossy = !(l.cosine >= COSINE_THRESHOLD);
    const end = Number.isFinite(l.cosine) ? x(Math.max(axis.lo, l.cosine)) : f.left;
    const title = `${l.name}${l.onnxName ? ` (onnx ${l.onnxName})` : ''}: cosine ${fmtCosine(l.cosine)}${l.relErr2Percent != null ? `, 2-norm error ${fmtNumber(l.relErr2Percent)}%` : ''}`;
    return (
      `<g class="layer${lossy ? ' lossy' : ''}"><title>${esc(title)}</title>` +
      `<text class="name" x="${f.left - 8}" y="${top + 13}" text-anchor="end">${esc(ellipsizeMiddle(l.name, 38))}</text>` +
      `<rect class="bar" x="${f.left}" y="${top + 3}" width="${px(Math.max(1, end - f.left))}" height="${rowH - 6}"/>` +
      `<text class="value" x="${px(end + 5)}" y="${top + 13}">${esc(fmtCosine(l.cosine))}</text></g>`
    );
  });
  const more = layers.length > rows.length ? `; the ${layers.length - rows.length} better layers are not drawn` : '';
  return [
    svgOpen(id, 'layers', W, H, 'Per-layer cosine, worst first', `Cosine of each layer against onnx, ${rows.length} worst layers, threshold ${COSINE_THRESHOLD}${more}`),
    xAxis(axis, x, f, 'cosine against onnx'),
    `<g class="rows">${bars.join('')}</g>`,
    thresholdLine(x, f.top, f.bottom),
    '</svg>',
  ].join('');
}

/** Per output: cosine after quantization (lava_joint) and after the compile (joint). */
export function stageSvg(id: string, stages: DiagnoseReport['stages']): string {
  const barH = 14;
  const groupH = 2 * barH + 14;
  const W = 780;
  const f: Frame = { left: 250, top: 40, right: W - 70, bottom: 40 + stages.length * groupH };
  const H = f.bottom + 40;
  const axis = cosineAxis(stages.flatMap((s) => [s.quantizationCosine ?? NaN, s.compileCosine ?? NaN]));
  const x = linear(axis.lo, axis.hi, f.left, f.right);
  const bar = (value: number | null, cls: string, top: number, what: string, output: string) => {
    if (value === null) return `<text class="value na" x="${f.left + 4}" y="${top + 11}">${esc(what)}: not measured</text>`;
    const lossy = !(value >= COSINE_THRESHOLD);
    const end = Number.isFinite(value) ? x(Math.max(axis.lo, value)) : f.left;
    return (
      `<g class="stage ${cls}${lossy ? ' lossy' : ''}"><title>${esc(`${output}, ${what}: cosine ${fmtCosine(value)}`)}</title>` +
      `<rect class="bar" x="${f.left}" y="${top}" width="${px(Math.max(1, end - f.left))}" height="${barH}"/>` +
      `<text class="value" x="${px(end + 5)}" y="${top + 11}">${esc(fmtCosine(value))}</text></g>`
    );
  };
  const groups = stages.map((s, i) => {
    const top = f.top + i * groupH + 6;
    return (
      `<g class="output"><text class="name" x="${f.left - 8}" y="${top + barH + 3}" text-anchor="end">${esc(ellipsizeMiddle(s.output, 38))}<title>${esc(s.output)}</title></text>` +
      bar(s.quantizationCosine, 'quantization', top, 'quantization (onnx vs lava_joint)', s.output) +
      bar(s.compileCosine, 'compile', top + barH + 2, 'compile (onnx vs joint)', s.output) +
      '</g>'
    );
  });
  const legend =
    `<g class="legend"><rect class="swatch quantization" x="${f.left}" y="6" width="12" height="12"/><text x="${f.left + 18}" y="16">quantization: onnx vs lava_joint</text>` +
    `<rect class="swatch compile" x="${f.left + 240}" y="6" width="12" height="12"/><text x="${f.left + 258}" y="16">compile: onnx vs joint</text></g>`;
  return [
    svgOpen(id, 'stages', W, H, 'Cosine per stage and output', `For each of ${stages.length} outputs: cosine against onnx after quantization and after the hardware compile; threshold ${COSINE_THRESHOLD}`),
    legend,
    xAxis(axis, x, f, 'cosine against onnx'),
    `<g class="groups">${groups.join('')}</g>`,
    thresholdLine(x, f.top, f.bottom),
    '</svg>',
  ].join('');
}
