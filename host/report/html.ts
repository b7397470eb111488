/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, no URL) that a
 * person can open offline, mail or attach to a ticket. The verdict comes first, big and
 * coloured, with what to do; then tables and the charts that are quicker to look at than to
 * read. A Content-Security-Policy forbids every load and every script, so even a bug in the
 * escaping could not make the page fetch or run anything.
 */
import { escapeHtml as esc } from './escape';
import {
  CONCLUSION_LABEL,
  CONCLUSION_TONE,
  COSINE_THRESHOLD,
  VERDICT_LABEL,
  VERDICT_TONE,
  describeExit,
  describeTiming,
  describeWorst,
  fallbackHeading,
  neverRan,
  fmtCosine,
  fmtDtype,
  fmtMillis,
  fmtMismatched,
  fmtNumber,
  fmtRelErr,
  fmtShape,
  type Tone,
} from './format';
import { REPORT_CSS } from './html-style';
import { HTML_LOG_LIMITS, logExcerpt } from './log-excerpt';
import type { Check, DiagnoseReport, Finding, OutputComparison, VerifyReport } from './model';
import { LAYERS_CHARTED, histogramSvg, layerBarsSvg, scatterSvg, stageSvg } from './svg-charts';
import { boardLabel } from '../board/session';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'";

function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${esc(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const list = (items: readonly string[], cls = '') => `<ul${cls ? ` class="${cls}"` : ''}>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
const badge = (text: string, tone: Tone) => `<span class="badge tone-${tone}">${esc(text)}</span>`;
const td = (text: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(text)}</td>`;

function table(headers: string[], rows: string[], numeric: number[] = []): string {
  const ths = headers.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  return `<table><thead><tr>${ths}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function footer(meta: VerifyReport['meta'], extra: string[] = []): string {
  const bits = [`axctl ${meta.axctlVersion}`, ...extra, `started ${meta.startedAt}`, `took ${fmtMillis(meta.durationMs)}`];
  return `<footer>${esc(bits.join(' · '))}. This page is self-contained: it loads nothing and runs no script.</footer>`;
}

function compileNote(r: VerifyReport): string {
  if (r.compile === null) return `<p class="compile-note">${badge('compile stage not checked', 'neutral')} gt has no onnx/ folder.</p>`;
  const items = r.compile.outputs.map((o) => `${esc(o.name)} <span class="mono${o.lossy ? ' lossy-text' : ''}">${esc(fmtCosine(o.cosine))}</span>${o.lossy ? ' (lossy)' : ''}`);
  const state = r.compile.lossy ? badge('compile stage lossy', 'warn') : badge('compile stage ok', 'good');
  return `<p class="compile-note">${state} gt/onnx vs gt/joint cosine (lossy below ${COSINE_THRESHOLD}): ${items.join(' · ')}</p>`;
}

function outputRow(o: OutputComparison, anchor: string, showNan: boolean): string {
  const nan = showNan ? td(`${o.nan.reference} / ${o.nan.actual}`, 'num') : '';
  return (
    `<tr${o.pass ? '' : ' class="failed"'}><td class="name"><a href="#${anchor}">${esc(o.name)}</a></td>` +
    td(fmtDtype(o)) +
    td(fmtShape(o.shape), 'mono shape') +
    td(o.exact ? 'yes' : 'no') +
    td(fmtCosine(o.cosine), 'num') +
    td(fmtRelErr(o.relErr2), 'num') +
    td(fmtNumber(o.maxAbsDiff), 'num') +
    td(fmtNumber(o.meanAbsDiff), 'num') +
    td(fmtMismatched(o), 'num') +
    nan +
    td(o.pass ? 'pass' : 'FAIL', o.pass ? 'pass' : 'fail') +
    '</tr>'
  );
}

function outputDetail(o: OutputComparison, id: string): string {
  const t = o.tolerance;
  const parts = [
    `<section class="output-detail" id="${id}">`,
    `<h3>${esc(o.name)} ${o.pass ? badge(o.exact ? 'bit-exact' : 'pass', 'good') : badge('FAIL', 'bad')}</h3>`,
    `<p>${esc(`${fmtDtype(o)} ${fmtShape(o.shape)}; tolerance |board − simulator| ≤ ${t.atol} + ${t.rtol}·|simulator|, cosine ≥ ${t.minCosine}${t.exact ? ', bit-exact required' : ''}`)}</p>`,
  ];
  if (o.reasons.length) parts.push(list(o.reasons, 'reasons fail'));
  const worst = describeWorst(o);
  if (worst && !o.pass) parts.push(`<p><strong>Worst element:</strong> <span class="mono">${esc(worst)}</span></p>`);
  if (o.plot) {
    parts.push(
      '<div class="charts">',
      `<figure>${scatterSvg(`${id}-scatter`, o)}<figcaption>Board vs simulator, ${o.plot.sample.length} sampled elements; dots on the dashed line are equal${o.pass ? '' : ', red dots are outside tolerance, the ring is the worst element'}.</figcaption></figure>`,
      `<figure>${histogramSvg(`${id}-histogram`, o)}<figcaption>Error histogram (board − simulator) over all elements.</figcaption></figure>`,
      '</div>',
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function ioSection(r: VerifyReport): string {
  const n = (v: string | number | null) => (v === null ? '-' : String(v));
  const inputs = r.io.inputs.map((i) => `<tr>${td(i.name, 'name')}${td(fmtShape(i.shape), 'mono')}${td(n(i.layout))}${td(n(i.dtype))}${td(n(i.colorSpace))}</tr>`);
  const outputs = r.io.outputs.map((o) => `<tr>${td(o.name, 'name')}${td(fmtShape(o.shape), 'mono')}${td(n(o.layout))}${td(n(o.dtype))}${td(o.q === null ? '-' : `${o.q} (real = integer / ${o.q})`)}</tr>`);
  return [
    '<h2>What post-processing must honour</h2>',
    '<p>As run_joint lists the model on the board.</p>',
    inputs.length ? table(['input', 'shape', 'layout', 'dtype', 'colour space'], inputs) : '',
    outputs.length ? table(['output', 'shape', 'layout', 'dtype', 'Q'], outputs) : '',
  ].join('\n');
}

/** Everything of a verify report below its headline; `prefix` keeps ids unique when embedded. */
function verifyBody(r: VerifyReport, prefix: string): string[] {
  const facts: [string, string][] = [
    ['Board', [boardLabel(r.board), r.board.hostname, r.board.agentVersion && `agent ${r.board.agentVersion}`, r.board.runJointVersion && `run_joint ${r.board.runJointVersion}`].filter(Boolean).join(' · ')],
    ['Model', `${r.model.path} (${r.model.hash})`],
    ['gt folder', `${r.gt.path} (${r.gt.layout})`],
    ['run_joint', describeExit(r.run)],
    ['Timing', describeTiming(r.run.timing)],
  ];
  const out = [`<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`];
  if (r.run.fallbacks.length) {
    const items = r.run.fallbacks.map((f) => `${f.input}${f.file ? ` (${f.file})` : ''}: ${f.reason}`);
    out.push(`<section class="callout tone-warn" id="${prefix}fallbacks"><h2>${esc(fallbackHeading(r.run).replace(/^./, (c) => c.toUpperCase()))}</h2>${list(items)}<p>${neverRan(r.run) ? 'Nothing was run: the board needs these inputs first.' : 'Outputs of this run mean nothing until the board gets these inputs.'}</p></section>`);
  }
  if (r.run.assertions.length) {
    out.push(`<section class="callout tone-bad" id="${prefix}assertions"><h2>run_joint assertion</h2><pre class="log">${esc(r.run.assertions.join('\n'))}</pre></section>`);
  }
  out.push(`<h2 id="${prefix}outputs">Outputs: board vs simulator (gt/joint)</h2>`);
  if (r.outputs.length === 0) out.push('<p>No output was compared.</p>');
  else {
    // The NaN column only when there is a NaN to show: it is usually all zeros.
    const showNan = r.outputs.some((o) => o.nan.reference || o.nan.actual);
    const headers = ['output', 'dtype', 'shape', 'exact', 'cosine', '2-norm error', 'max |diff|', 'mean |diff|', 'mismatched', ...(showNan ? ['NaN sim/board'] : []), 'result'];
    out.push(table(headers, r.outputs.map((o, i) => outputRow(o, `${prefix}output-${i}`, showNan)), [4, 5, 6, 7, 8, 9]));
  }
  if (r.compile && r.compile.outputs.length) {
    const rows = r.compile.outputs.map((o) => `<tr>${td(o.name, 'name')}${td(fmtCosine(o.cosine), 'num')}${td(fmtRelErr(o.relErr2), 'num')}${td(o.lossy ? 'lossy' : 'ok', o.lossy ? 'fail' : 'pass')}</tr>`);
    out.push(`<h2 id="${prefix}compile">Compile stage: gt/onnx vs gt/joint</h2>`, table(['output', 'cosine', '2-norm error', `cosine ≥ ${COSINE_THRESHOLD}`], rows, [1, 2]));
  }
  out.push(...r.outputs.map((o, i) => outputDetail(o, `${prefix}output-${i}`)));
  out.push(ioSection(r));
  out.push(`<h2 id="${prefix}log">run_joint log</h2>`, `<pre class="log">${esc(logExcerpt(r.run.log, HTML_LOG_LIMITS)) || '(empty)'}</pre>`);
  if (r.run.stderr.trim()) out.push('<h3>stderr</h3>', `<pre class="log">${esc(logExcerpt(r.run.stderr, HTML_LOG_LIMITS))}</pre>`);
  return out;
}

export function renderVerifyHtml(r: VerifyReport): string {
  const tone = VERDICT_TONE[r.verdict];
  const header = [
    `<header class="verdict tone-${tone}" id="verdict">`,
    `<p class="kind">${esc(`axctl verify · ${r.model.path} on ${r.board.hostname ?? boardLabel(r.board)}`)}</p>`,
    `<h1 id="verdict-label">${esc(VERDICT_LABEL[r.verdict])}</h1>`,
    `<p class="summary">${esc(r.summary)}</p>`,
    compileNote(r),
    r.advice.length ? `<h2>What to do</h2>${list(r.advice, 'advice')}` : '',
    '</header>',
  ];
  return page(`axctl verify: ${VERDICT_LABEL[r.verdict]} – ${r.model.path}`, [...header, '<main>', ...verifyBody(r, ''), '</main>', footer(r.meta)]);
}

const STATUS_TONE: Record<Check['status'], Tone> = { pass: 'good', fail: 'bad', skipped: 'neutral' };

function findingItem(f: Finding): string {
  const where = f.file ? `<span class="mono">${esc(`${f.file}${f.line !== null ? `:${f.line}` : ''}`)}</span> ` : '';
  const tone: Tone = f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'info';
  const hint = f.hint ? `<span class="hint">${esc(`hint: ${f.hint}`)}</span>` : '';
  return `<li>${where}${badge(f.severity, tone)} <span class="mono">[${esc(f.id)}]</span> ${esc(f.message)}${hint}</li>`;
}

export function renderDiagnoseHtml(r: DiagnoseReport): string {
  const tone = CONCLUSION_TONE[r.conclusion];
  const header = [
    `<header class="verdict tone-${tone}" id="verdict">`,
    `<p class="kind">${esc(`axctl diagnose${r.toolchainVersion ? ` · toolchain ${r.toolchainVersion}` : ''}`)}</p>`,
    `<h1 id="verdict-label">${esc(CONCLUSION_LABEL[r.conclusion])}</h1>`,
    `<p class="summary">${esc(r.summary)}</p>`,
    r.remedies.length ? `<h2>What to do</h2>${list(r.remedies, 'advice')}` : '',
    '</header>',
  ];
  const main = ['<main>'];
  if (r.escalation?.length) main.push(`<section class="callout tone-bad" id="escalation"><h2>Send to Axera's field engineer</h2>${list(r.escalation)}</section>`);
  const count = (s: Check['status']) => r.checks.filter((c) => c.status === s).length;
  main.push(`<h2 id="checks">Checks: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped</h2>`);
  const checkRows = r.checks.map((c) => `<tr>${td(c.step, 'mono')}${td(c.name)}<td>${badge(c.status, STATUS_TONE[c.status])}</td>${td(c.reason)}</tr>`);
  main.push(r.checks.length ? table(['step', 'check', 'result', 'reason'], checkRows) : '<p>No check ran.</p>');
  main.push(`<h2 id="findings">Findings${r.findings.length ? ` (${r.findings.length})` : ''}</h2>`);
  main.push(r.findings.length ? `<ul class="findings">${r.findings.map(findingItem).join('')}</ul>` : '<p>None.</p>');
  if (r.stages.length) {
    const rows = r.stages.map((s) => {
      const cell = (c: number | null) => td(fmtCosine(c), `num${c !== null && c < COSINE_THRESHOLD ? ' fail' : ''}`);
      return `<tr>${td(s.output, 'name')}${cell(s.quantizationCosine)}${cell(s.compileCosine)}</tr>`;
    });
    main.push(
      '<h2 id="stages">Where the precision goes: quantization vs compile</h2>',
      `<figure class="wide">${stageSvg('stages-chart', r.stages)}<figcaption>Cosine against onnx per output; below ${COSINE_THRESHOLD} (dashed line) the guide calls it a precision loss.</figcaption></figure>`,
      table(['output', 'quantization (onnx vs lava_joint)', 'compile (onnx vs joint)'], rows, [1, 2]),
    );
  }
  if (r.layers.length) {
    const shown = Math.min(LAYERS_CHARTED, r.layers.length);
    main.push(
      `<h2 id="layers">Layers, worst first (${shown} of ${r.layers.length})</h2>`,
      `<figure class="wide">${layerBarsSvg('layers-chart', r.layers)}<figcaption>Per-layer cosine against onnx; red bars are below ${COSINE_THRESHOLD}. The first red layer from the input is where to look.</figcaption></figure>`,
    );
  }
  if (r.verify) {
    const v = r.verify;
    main.push(
      `<h2 id="verify">Board run (axctl verify): ${badge(VERDICT_LABEL[v.verdict], VERDICT_TONE[v.verdict])}</h2>`,
      `<p class="summary">${esc(v.summary)}</p>`,
      compileNote(v),
      ...verifyBody(v, 'verify-'),
    );
  }
  main.push('</main>');
  return page(`axctl diagnose: ${CONCLUSION_LABEL[r.conclusion]}`, [...header, ...main, footer(r.meta, r.toolchainVersion ? [`toolchain ${r.toolchainVersion}`] : [])]);
}
