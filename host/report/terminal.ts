/**
 * The terminal form of the verify and diagnose reports: the verdict first in one line, then
 * the evidence a person needs to act on it, laid out for 100 columns. Colour is optional and
 * decided by the caller (`useColor`), so piped output and NO_COLOR stay plain. Strings from
 * the report have their control characters made visible: a log cannot drive the terminal.
 */
import { escapeTerminal, mapStrings } from './escape';
import {
  CONCLUSION_LABEL,
  CONCLUSION_TONE,
  COSINE_THRESHOLD,
  VERDICT_LABEL,
  VERDICT_TONE,
  describeRun,
  describeWorst,
  fallbackHeading,
  fmtCosine,
  fmtDtype,
  fmtMismatched,
  fmtNumber,
  fmtShape,
  outputResult,
  plural,
  shortHash,
  type Tone,
} from './format';
import type { Check, DiagnoseReport, Finding, VerifyReport } from './model';
import { TEXT_WIDTH, bullets, ellipsizeMiddle, renderTable, textWidth, wrap } from './text-layout';
import { boardLabel } from '../board/session';

export interface TextOptions {
  color: boolean;
}

/**
 * Whether to colour output written to `stream`: only on a terminal, never when NO_COLOR is
 * set to anything non-empty (no-color.org) or TERM is "dumb"; FORCE_COLOR (non-empty, not
 * "0") turns it on even when piped, for CI logs that understand escapes.
 */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

type Painter = (text: string, tone: Tone | 'dim', bold?: boolean) => string;

const ANSI: Record<Tone | 'dim', string> = { good: '32', bad: '31', warn: '33', info: '36', neutral: '39', dim: '2' };

function painter(color: boolean): Painter {
  if (!color) return (text) => text;
  return (text, tone, bold = false) => `\x1b[${bold ? '1;' : ''}${ANSI[tone]}m${text}\x1b[0m`;
}

/** `LABEL  summary`, wrapped under the summary; only the label is coloured. */
function headline(label: string, tone: Tone, summary: string, paint: Painter): string[] {
  const lines = wrap(summary, TEXT_WIDTH, `${label}  `, ' '.repeat(textWidth(label) + 2));
  lines[0] = paint(label, tone, true) + lines[0].slice(label.length);
  return lines;
}

function section(title: string, body: string[]): string[] {
  return body.length === 0 ? [] : ['', `${title}:`, ...body];
}

const OUTPUT_HEADERS = ['output', 'dtype', 'shape', 'exact', 'cosine', 'max |diff|', 'mismatched', 'result'];

function outputsTable(r: VerifyReport, paint: Painter): string[] {
  if (r.outputs.length === 0) return ['  no outputs were compared'];
  const rows = r.outputs.map((o) => [
    o.name,
    fmtDtype(o),
    fmtShape(o.shape),
    o.exact ? 'yes' : 'no',
    fmtCosine(o.cosine),
    fmtNumber(o.maxAbsDiff),
    fmtMismatched(o),
    outputResult(o),
  ]);
  return renderTable(OUTPUT_HEADERS, rows, {
    indent: '  ',
    flex: 0,
    right: [4, 5, 6],
    paint: (text, row, col) => (row >= 0 && col === 7 ? paint(text, text === 'pass' ? 'good' : 'bad', text !== 'pass') : text),
  });
}

/** The compile-stage finding, one item per output, for beside the verdict. */
function compileLines(r: VerifyReport, paint: Painter): string[] {
  const indent = ' '.repeat(textWidth(VERDICT_LABEL[r.verdict]) + 2);
  if (r.compile === null) return [`${indent}compile stage: not checked (no gt/onnx file pairs with one in gt/joint)`];
  const lead = `${indent}compile stage (gt/onnx vs gt/joint cosine) `;
  const state = r.compile.lossy ? 'LOSSY' : 'ok';
  const items = r.compile.outputs.map((o) => `${o.name} ${fmtCosine(o.cosine)}${o.lossy ? ` (< ${COSINE_THRESHOLD}, lossy)` : ''}`);
  const lines = wrap(items.join('; '), TEXT_WIDTH, `${lead}${state}: `, `${indent}  `);
  lines[0] = lead + paint(state, r.compile.lossy ? 'warn' : 'good', r.compile.lossy) + lines[0].slice(lead.length + state.length);
  return lines;
}

function identityLines(r: VerifyReport): string[] {
  const board = [r.board.hostname, r.board.agentVersion && `agent ${r.board.agentVersion}`, r.board.runJointVersion && `run_joint ${r.board.runJointVersion}`].filter(Boolean);
  return [
    `board ${boardLabel(r.board)}${board.length ? ` (${board.join(', ')})` : ''}`,
    `model ${r.model.path} ${shortHash(r.model.hash)}; gt ${r.gt.path} (${r.gt.layout})`,
  ];
}

/** Everything about one verify run except the headline and advice (diagnose embeds it). */
function verifyBody(r: VerifyReport, paint: Painter): string[] {
  const lines = ['', ...outputsTable(r, paint)];
  const partial = r.outputs.flatMap((o) => (o.partial ? [`${o.name}: run_joint dumped ${o.partial.rows} of its ${o.partial.of} rows (it writes Size / shape[0] × batch bytes); only those were compared`] : []));
  lines.push(...section('compared in part', partial.flatMap((t) => wrap(t, TEXT_WIDTH, '  ', '    '))));
  const failed = r.outputs.filter((o) => !o.pass);
  lines.push(...section('worst element of failed outputs', failed.flatMap((o) => describeWorst(o) ?? []).flatMap((w) => wrap(w, TEXT_WIDTH, '  ', '    '))));
  lines.push(...section('why', failed.flatMap((o) => o.reasons.map((reason) => `${o.name}: ${reason}`)).flatMap((t) => wrap(t, TEXT_WIDTH, '  ', '    '))));
  if (r.run.fallbacks.length > 0) {
    const items = r.run.fallbacks.map((f) => `${f.input}${f.file ? ` (${f.file})` : ''}: ${f.reason}`);
    lines.push(...section(paint(fallbackHeading(r.run), 'warn', true), bullets(items)));
  }
  if (r.run.assertions.length > 0) lines.push(...section(paint('assertions', 'bad', true), bullets(r.run.assertions)));
  else if (r.verdict === 'run-failed' && r.run.stderr.trim()) lines.push(...section('stderr (last lines)', tailLines(r.run.stderr, 8).map((l) => `  ${l}`)));
  lines.push('', ...wrap(`run: ${describeRun(r.run)}`, TEXT_WIDTH, '', '  '));
  return lines;
}

function tailLines(text: string, n: number): string[] {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  return lines.slice(-n).map((l) => ellipsizeMiddle(l, TEXT_WIDTH - 2));
}

export function renderVerifyText(report: VerifyReport, opts: TextOptions): string {
  const r = mapStrings(report, (s) => escapeTerminal(s));
  const paint = painter(opts.color);
  const lines = [...headline(VERDICT_LABEL[r.verdict], VERDICT_TONE[r.verdict], r.summary, paint), ...compileLines(r, paint)];
  lines.push(...identityLines(r), ...verifyBody(r, paint));
  lines.push(...section('advice', bullets(r.advice)));
  return `${lines.join('\n')}\n`;
}

const STATUS_TONE: Record<Check['status'], Tone | 'dim'> = { pass: 'good', fail: 'bad', skipped: 'dim' };

/** step, name, status, then the reason wrapped in its own column. */
function checksTable(checks: readonly Check[], paint: Painter): string[] {
  if (checks.length === 0) return ['  no checks ran'];
  const stepW = Math.max(4, ...checks.map((c) => textWidth(c.step)));
  const nameW = Math.min(40, Math.max(5, ...checks.map((c) => textWidth(c.name))));
  const statusW = 7;
  const reasonAt = 2 + stepW + 2 + nameW + 2 + statusW + 2;
  const lines = [
    `  ${'step'.padEnd(stepW)}  ${'check'.padEnd(nameW)}  ${'result'.padEnd(statusW)}  reason`,
    `  ${'-'.repeat(stepW)}  ${'-'.repeat(nameW)}  ${'-'.repeat(statusW)}  ${'-'.repeat(TEXT_WIDTH - reasonAt)}`,
  ];
  for (const c of checks) {
    const name = ellipsizeMiddle(c.name, nameW);
    const status = paint(c.status.padEnd(statusW), STATUS_TONE[c.status], c.status === 'fail');
    const prefix = `  ${c.step.padEnd(stepW)}  ${name.padEnd(nameW)}  `;
    const reason = wrap(c.reason || '-', TEXT_WIDTH, `${prefix}${'x'.repeat(statusW)}  `, ' '.repeat(reasonAt));
    reason[0] = `${prefix}${status}  ${reason[0].slice(reasonAt)}`;
    lines.push(...reason);
  }
  return lines;
}

function findingLines(f: Finding, paint: Painter): string[] {
  const where = f.file ? `${f.file}${f.line !== null ? `:${f.line}` : ''}: ` : '';
  const tone: Tone = f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'info';
  const lines = wrap(`${where}${f.severity} [${f.id}] ${f.message}`, TEXT_WIDTH, '  ', '      ');
  lines[0] = lines[0].replace(`${f.severity} [`, `${paint(f.severity, tone, true)} [`);
  if (f.hint) lines.push(...wrap(`hint: ${f.hint}`, TEXT_WIDTH, '      ', '      '));
  return lines;
}

const LAYERS_SHOWN = 10;

function layerLines(r: DiagnoseReport, paint: Painter): string[] {
  if (r.layers.length === 0) return [];
  const shown = r.layers.slice(0, LAYERS_SHOWN);
  const rows = shown.map((l) => [l.name, l.onnxName ?? '', fmtCosine(l.cosine), l.relErr2Percent == null ? '' : `${fmtNumber(l.relErr2Percent)}%`, l.cosine < COSINE_THRESHOLD ? 'LOSSY' : '']);
  const table = renderTable(['layer', 'onnx name', 'cosine', 'relErr2', ''], rows, {
    indent: '  ',
    flex: 0,
    right: [2, 3],
    paint: (text, row, col) => (row >= 0 && col === 4 && text ? paint(text, 'warn', true) : text),
  });
  const more = r.layers.length > shown.length ? [`  … and ${r.layers.length - shown.length} more layers`] : [];
  return section(`layers, worst first (cosine < ${COSINE_THRESHOLD} is lossy)`, [...table, ...more]);
}

function stageLines(r: DiagnoseReport): string[] {
  if (r.stages.length === 0) return [];
  const flag = (c: number | null) => (c !== null && c < COSINE_THRESHOLD ? ' lossy' : '');
  const rows = r.stages.map((s) => [s.output, fmtCosine(s.quantizationCosine) + flag(s.quantizationCosine), fmtCosine(s.compileCosine) + flag(s.compileCosine)]);
  return section('stages (cosine against onnx)', renderTable(['output', 'quantization (lava_joint)', 'compile (joint)'], rows, { indent: '  ', flex: 0 }));
}

export function renderDiagnoseText(report: DiagnoseReport, opts: TextOptions): string {
  const r = mapStrings(report, (s) => escapeTerminal(s));
  const paint = painter(opts.color);
  const lines = headline(CONCLUSION_LABEL[r.conclusion], CONCLUSION_TONE[r.conclusion], r.summary, paint);
  const versions = [r.toolchainVersion && `toolchain ${r.toolchainVersion}`, `axctl ${r.meta.axctlVersion}`, r.meta.startedAt].filter(Boolean);
  lines.push(' '.repeat(textWidth(CONCLUSION_LABEL[r.conclusion]) + 2) + versions.join(', '));
  const counts = (s: Check['status']) => r.checks.filter((c) => c.status === s).length;
  lines.push(...section(`checks (${counts('pass')} passed, ${counts('fail')} failed, ${counts('skipped')} skipped)`, checksTable(r.checks, paint)));
  lines.push(...section(`findings (${plural(r.findings.length, 'finding')})`, r.findings.flatMap((f) => findingLines(f, paint))));
  lines.push(...stageLines(r), ...layerLines(r, paint));
  if (r.verify) {
    const v = r.verify;
    lines.push('', ...headline(`board run: ${VERDICT_LABEL[v.verdict]}`, VERDICT_TONE[v.verdict], v.summary, paint), ...identityLines(v).map((l) => `  ${l}`), ...verifyBody(v, paint));
  }
  lines.push('', ...headline(CONCLUSION_LABEL[r.conclusion], CONCLUSION_TONE[r.conclusion], r.summary, paint));
  lines.push(...section('remedies', bullets(r.remedies)));
  if (r.escalation && r.escalation.length > 0) lines.push(...section("send to Axera's field engineer", bullets(r.escalation)));
  return `${lines.join('\n')}\n`;
}
