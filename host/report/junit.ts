/**
 * JUnit XML for CI: every output of a verify run and every check of a diagnosis is a test
 * case, so a CI page lists exactly what failed and why. The verdict, board and model hash
 * travel as properties; run_joint's log (shortened) as system-out.
 *
 * A verify suite also has two cases for the run itself, "run_joint ran" and "inputs reached
 * the board": a run that crashed or fell back to random data then fails in CI even when no
 * output could be compared.
 */
import { escapeXmlAttr, escapeXmlText } from './escape';
import {
  CONCLUSION_LABEL,
  VERDICT_LABEL,
  describeExit,
  describeRun,
  describeWorst,
  fmtCosine,
  fmtDtype,
  fmtMismatched,
  fmtNumber,
  fmtRelErr,
  fmtShape,
  neverRan,
} from './format';
import { JUNIT_LOG_LIMITS, logExcerpt } from './log-excerpt';
import { boardLabel } from '../board/session';
import type { DiagnoseReport, VerifyReport } from './model';

export { writeReportFile } from './report-file';

interface Case {
  classname: string;
  name: string;
  time?: number;
  failure?: { type: string; message: string; text: string };
  /** The check could not be made at all (the board was not reached): JUnit's <error>. */
  error?: { type: string; message: string; text: string };
  skipped?: string;
}

interface Suite {
  name: string;
  timestamp: string;
  time: number;
  properties: [string, string][];
  cases: Case[];
  out: string;
  err: string;
}

const attr = (name: string, value: string | number) => `${name}="${escapeXmlAttr(String(value))}"`;
const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(3) : '0');

/** JUnit's timestamp has no time zone: ISO 8601 up to the seconds, in UTC. */
function junitTimestamp(iso: string): string | null {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t).toISOString().slice(0, 19);
}

function caseXml(c: Case): string {
  const open = `    <testcase ${attr('classname', c.classname)} ${attr('name', c.name)} ${attr('time', seconds(c.time ?? 0))}`;
  for (const [tag, problem] of [['failure', c.failure], ['error', c.error]] as const) {
    if (problem) return `${open}>\n      <${tag} ${attr('type', problem.type)} ${attr('message', problem.message)}>${escapeXmlText(problem.text)}</${tag}>\n    </testcase>`;
  }
  if (c.skipped !== undefined) return `${open}>\n      <skipped ${attr('message', c.skipped)}/>\n    </testcase>`;
  return `${open}/>`;
}

function count(suite: Suite) {
  return {
    tests: suite.cases.length,
    failures: suite.cases.filter((c) => c.failure).length,
    errors: suite.cases.filter((c) => c.error).length,
    skipped: suite.cases.filter((c) => c.skipped !== undefined).length,
  };
}

function suiteXml(s: Suite): string {
  const n = count(s);
  const ts = junitTimestamp(s.timestamp);
  const head = [attr('name', s.name), attr('tests', n.tests), attr('failures', n.failures), attr('errors', n.errors), attr('skipped', n.skipped), attr('time', seconds(s.time))];
  if (ts) head.push(attr('timestamp', ts));
  const props = s.properties.map(([k, v]) => `      <property ${attr('name', k)} ${attr('value', v)}/>`);
  return [
    `  <testsuite ${head.join(' ')}>`,
    '    <properties>',
    ...props,
    '    </properties>',
    ...s.cases.map(caseXml),
    `    <system-out>${escapeXmlText(s.out)}</system-out>`,
    `    <system-err>${escapeXmlText(s.err)}</system-err>`,
    '  </testsuite>',
  ].join('\n');
}

function document(name: string, suites: Suite[]): string {
  const totals = suites.map(count).reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors, skipped: a.skipped + b.skipped }));
  const time = suites.reduce((t, s) => Math.max(t, s.time), 0);
  const head = [attr('name', name), attr('tests', totals.tests), attr('failures', totals.failures), attr('errors', totals.errors), attr('skipped', totals.skipped), attr('time', seconds(time))];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${head.join(' ')}>\n${suites.map(suiteXml).join('\n')}\n</testsuites>\n`;
}

/**
 * The board in a class name: a farm's JUnit files, one per board, must not merge into one
 * class in Jenkins or GitLab. The inventory name when there is one, else the URL's host and
 * port; spaces, dots (which Jenkins reads as packages) and the like become '_'. (Reports saved
 * before `board.name` existed carry `evb1 (ws://...)` in `url`: its name is taken from there.)
 */
export function boardKey(board: { url: string; name?: string | undefined }): string {
  const named = board.name ?? /^(\S+) \(/.exec(board.url)?.[1];
  const key = named ?? board.url.replace(/^[a-z]+:\/\/(?:[^@/]*@)?/i, '').replace(/\/+$/, '');
  return key.replace(/[^A-Za-z0-9_-]+/g, '_') || 'board';
}

/**
 * The suite of one verify: the model, and the board as given (`name (url)` for an inventory
 * board). Not the name the board calls itself (a property): a verify with no verdict does not
 * know it, and both must name one board's suite alike.
 */
function verifySuiteName(model: string, board: string): string {
  return `axctl verify ${model} on ${board}`;
}

function outputCase(r: VerifyReport, o: VerifyReport['outputs'][number]): Case {
  const c: Case = { classname: `axctl.verify.${boardKey(r.board)}.outputs`, name: o.name };
  if (o.pass) return c;
  const lines = [
    `${o.name}: ${fmtDtype(o)} ${fmtShape(o.shape)}`,
    `cosine ${fmtCosine(o.cosine)}, 2-norm relative error ${fmtRelErr(o.relErr2)}, max |diff| ${fmtNumber(o.maxAbsDiff)}, mean |diff| ${fmtNumber(o.meanAbsDiff)}`,
    `mismatched ${fmtMismatched(o)} (tolerance: atol ${o.tolerance.atol}, rtol ${o.tolerance.rtol}, min cosine ${o.tolerance.minCosine}${o.tolerance.exact ? ', exact' : ''})`,
  ];
  if (o.nan.reference || o.nan.actual) lines.push(`NaN: ${o.nan.reference} in the simulator, ${o.nan.actual} on the board`);
  const worst = describeWorst(o);
  if (worst) lines.push(`worst element: ${worst}`);
  lines.push(...o.reasons.map((reason) => `- ${reason}`));
  const message = o.reasons.length ? o.reasons.join('; ') : `${VERDICT_LABEL[r.verdict]}: outside tolerance`;
  return { ...c, failure: { type: 'mismatch', message, text: lines.join('\n') } };
}

/**
 * One case per output of the model, compared or not: an output a failed run did not dump (or
 * every output, when the inputs did not arrive) is a skipped case saying why, so it does not
 * vanish from the test page.
 */
function notComparedCases(r: VerifyReport): Case[] {
  const classname = `axctl.verify.${boardKey(r.board)}.outputs`;
  const why = r.verdict === 'input-error' ? 'not compared: run_joint did not get the gt inputs' : 'not compared: the run failed before run_joint dumped it whole';
  return r.io.outputs.filter((o) => !r.outputs.some((c) => c.name === o.name)).map((o) => ({ classname, name: o.name, skipped: why }));
}

function runCases(r: VerifyReport): Case[] {
  const classname = `axctl.verify.${boardKey(r.board)}.run`;
  const run: Case = { classname, name: 'run_joint ran', time: r.run.timing.wallMs };
  if (r.verdict === 'run-failed') {
    const text = [describeRun(r.run), ...r.run.assertions, '', r.summary].join('\n');
    // A run that exited 0 failed for another reason (an output not dumped): the summary says which.
    // So does one that never started (the board's run_joint is gone).
    const cleanExit = (r.run.exitCode === 0 && !r.run.timedOut) || neverRan(r.run);
    run.failure = { type: 'run-failed', message: r.run.assertions[0] ?? (cleanExit ? r.summary : `run_joint ${describeExit(r.run)}`), text };
  } else if (neverRan(r.run)) {
    run.skipped = `run_joint was not started: ${r.summary}`; // inputs refused before the run
  }
  const inputs: Case = { classname, name: 'inputs reached the board' };
  if (r.verdict === 'input-error' || r.run.fallbacks.length > 0) {
    const lines = r.run.fallbacks.map((f) => `${f.input}${f.file ? ` (${f.file})` : ''}: ${f.reason}`);
    inputs.failure = { type: 'input-error', message: lines[0] ?? r.summary, text: [...lines, '', r.summary].join('\n') };
  } else if (r.verdict === 'run-failed' && neverRan(r.run)) {
    // Nothing can be said of the inputs of a run that could not start (the board's run_joint is gone).
    inputs.skipped = 'run_joint did not start, so it read no input';
  }
  return [run, inputs];
}

function verifySuite(r: VerifyReport): Suite {
  const props: [string, string][] = [
    ['verdict', r.verdict],
    ['summary', r.summary],
    ['board', r.board.url],
    ...(r.board.name ? [['board.name', r.board.name] as [string, string]] : []),
    ['model', r.model.path],
    ['model.hash', r.model.hash],
    ['gt', r.gt.path],
    ['gt.layout', r.gt.layout],
  ];
  if (r.board.hostname) props.push(['board.hostname', r.board.hostname]);
  if (r.board.agentVersion) props.push(['board.agentVersion', r.board.agentVersion]);
  if (r.board.runJointVersion) props.push(['board.runJointVersion', r.board.runJointVersion]);
  if (r.compile) {
    props.push(['compile.lossy', String(r.compile.lossy)]);
    for (const o of r.compile.outputs) props.push([`compile.cosine.${o.name}`, fmtCosine(o.cosine)]);
  }
  props.push(['axctl.version', r.meta.axctlVersion]);
  // The run and its timing as the text report gives them (with the note when it counts --warmup rounds).
  const out = [`${VERDICT_LABEL[r.verdict]}: ${r.summary}`, '', ...r.advice.map((a) => `- ${a}`), '', `run: ${describeRun(r.run)}`, '', 'run_joint log:', logExcerpt(r.run.log, JUNIT_LOG_LIMITS)];
  return {
    name: verifySuiteName(r.model.path, boardLabel(r.board)),
    timestamp: r.meta.startedAt,
    time: r.meta.durationMs,
    properties: props,
    cases: [...runCases(r), ...r.outputs.map((o) => outputCase(r, o)), ...notComparedCases(r)],
    out: out.join('\n'),
    err: logExcerpt(r.run.stderr, JUNIT_LOG_LIMITS),
  };
}

export function renderVerifyJUnit(r: VerifyReport): string {
  return document('axctl verify', [verifySuite(r)]);
}

/** A verify that ended without a verdict: the board not reached, the connection lost, a run it could not start. */
export interface VerifyErrorInput {
  /** The board as a verdict's report names it: its URL, and the inventory name given instead. */
  board: { url: string; name?: string };
  /** The model's path as a verdict's report shows it (relative to the current folder). */
  model: string;
  gt: string;
  error: { code: string; message: string; hint?: string | undefined; exitCode: number };
  startedAt: string;
  durationMs: number;
  axctlVersion: string;
}

/**
 * The JUnit of a verify that gave no verdict: one case in <error> (not <failure>: nothing was
 * compared), so a farm's CI page shows the board as broken rather than leaving it out.
 */
export function renderVerifyErrorJUnit(x: VerifyErrorInput): string {
  const text = [`${x.error.code}: ${x.error.message}`, ...(x.error.hint ? [`hint: ${x.error.hint}`] : []), `exit code ${x.error.exitCode}`].join('\n');
  const suite: Suite = {
    name: verifySuiteName(x.model, boardLabel(x.board)),
    timestamp: x.startedAt,
    time: x.durationMs,
    properties: [['verdict', 'none'], ['error.code', x.error.code], ['board', x.board.url], ...(x.board.name ? [['board.name', x.board.name] as [string, string]] : []), ['model', x.model], ['gt', x.gt], ['axctl.version', x.axctlVersion]],
    cases: [{ classname: `axctl.verify.${boardKey(x.board)}.run`, name: 'verify gave a verdict', time: x.durationMs, error: { type: x.error.code, message: x.error.message, text } }],
    out: text,
    err: '',
  };
  return document('axctl verify', [suite]);
}

export function renderDiagnoseJUnit(r: DiagnoseReport): string {
  const props: [string, string][] = [['conclusion', r.conclusion], ['summary', r.summary]];
  if (r.toolchainVersion) props.push(['toolchain.version', r.toolchainVersion]);
  if (r.verify) props.push(['verdict', r.verify.verdict], ['board', r.verify.board.url], ['model.hash', r.verify.model.hash]);
  props.push(['axctl.version', r.meta.axctlVersion]);
  const cases: Case[] = r.checks.map((c) => {
    const base: Case = { classname: 'axctl.diagnose.checks', name: `${c.step} ${c.name}` };
    if (c.status === 'skipped') return { ...base, skipped: c.reason };
    if (c.status === 'fail') {
      const evidence = c.evidence ? `\nevidence: ${JSON.stringify(c.evidence, null, 2)}` : '';
      return { ...base, failure: { type: 'check-failed', message: c.reason, text: `${c.reason}${evidence}` } };
    }
    return base;
  });
  const out = [
    `${CONCLUSION_LABEL[r.conclusion]}: ${r.summary}`,
    '',
    'findings:',
    ...r.findings.map((f) => `${f.file ? `${f.file}${f.line !== null ? `:${f.line}` : ''}: ` : ''}${f.severity} [${f.id}] ${f.message}${f.hint ? ` (hint: ${f.hint})` : ''}`),
    '',
    'remedies:',
    ...r.remedies.map((x) => `- ${x}`),
  ];
  if (r.escalation?.length) out.push('', "send to Axera's field engineer:", ...r.escalation.map((x) => `- ${x}`));
  if (r.layers.length) out.push('', 'worst layers:', ...r.layers.slice(0, 20).map((l) => `${fmtCosine(l.cosine)}  ${l.name}`));
  const suites: Suite[] = [
    { name: 'axctl diagnose', timestamp: r.meta.startedAt, time: r.meta.durationMs, properties: props, cases, out: out.join('\n'), err: '' },
  ];
  if (r.verify) suites.push(verifySuite(r.verify));
  return document('axctl diagnose', suites);
}
