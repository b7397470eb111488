/**
 * Parser for the text `run_joint` prints on the board. Line-based and order-tolerant: stdout
 * and stderr may be interleaved, sections may be missing (older run_joint builds, a crash
 * half-way), indentation may be tabs or spaces. See run-joint-types.ts for what comes out.
 */
import { isMostlyText, splitLogLines, type ParseProblem, type UnrecognizedLine } from './problems';
import type {
  RunJointLog,
  RunJointQuantization,
  RunJointTensor,
  TensorLayout,
} from './run-joint-types';

export * from './run-joint-types';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Parsed = Mutable<RunJointLog> & { inputs: Mutable<RunJointTensor>[]; outputs: Mutable<RunJointTensor>[] };

interface State {
  log: Parsed;
  tensor: Mutable<RunJointTensor> | null;
  /** The hash line is only the tools commit right after `tools version`. */
  afterToolsVersion: boolean;
  lineNo: number;
}

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const QUANTIZATIONS: readonly RunJointQuantization[] = ['8 bit', '16 bit', 'mix', '32 bit', 'unknown'];

function yesNo(word: string): boolean | null {
  const w = word.toLowerCase();
  return w === 'yes' || w === 'true' ? true : w === 'no' || w === 'false' ? false : null;
}

function fillOf(text: string): 'random' | 'default' {
  return text === 'default value' ? 'default' : 'random';
}

function problem(s: State, message: string): void {
  s.log.problems.push({ line: s.lineNo, message });
}

function startTensor(s: State, kind: 'Input' | 'Output', index: string, name: string): void {
  const tensor: Mutable<RunJointTensor> = {
    index: Number(index), name, shape: [], layout: null, dtype: null, colorSpace: null,
    q: null, memory: null, size: null, line: s.lineNo,
  };
  (kind === 'Input' ? s.log.inputs : s.log.outputs).push(tensor);
  s.tensor = tensor;
}

function currentTensor(s: State, what: string): Mutable<RunJointTensor> | null {
  if (!s.tensor) problem(s, `${what} line outside an Input[i]/Output[i] block`);
  return s.tensor;
}

/** `[1, 224, 224, 3] NHWC uint8 RGB Q=256` (after the word Shape). */
function readShape(s: State, dims: string, rest: string): void {
  const t = currentTensor(s, 'Shape');
  if (!t) return;
  t.shape = dims.trim() === '' ? [] : dims.split(',').map((d) => Number(d.trim()));
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) problem(s, `shape [${dims}] has a dimension that is not a whole number`);
  const qMatch = /\bQ\s*=\s*(\S+)/.exec(rest);
  if (qMatch) {
    t.q = Number(qMatch[1]);
    if (!Number.isFinite(t.q)) problem(s, `Q value '${qMatch[1]}' is not a number`);
  }
  const words = rest.replace(/\bQ\s*=\s*\S+/, '').split(/\s+/).filter(Boolean);
  const [layout, dtype, colorSpace, ...extra] = words;
  if (layout === 'NHWC' || layout === 'NCHW') t.layout = layout as TensorLayout;
  else problem(s, layout ? `unknown layout '${layout}' (expected NHWC or NCHW)` : 'Shape line has no layout');
  if (dtype) t.dtype = dtype;
  else problem(s, 'Shape line has no dtype');
  t.colorSpace = colorSpace ?? null;
  if (extra.length) problem(s, `unexpected words after the Shape: ${extra.join(' ')}`);
}

type Rule = [RegExp, (m: RegExpExecArray, s: State) => void];

// Order matters only where patterns overlap (fallbacks before the generic error rule).
const RULES: Rule[] = [
  [/^run joint version:\s*(\S+)$/i, (m, s) => { s.log.runJointVersion = m[1]; }],
  [/^virtual npu mode is (\S+)$/i, (m, s) => { s.log.npuMode = m[1]; }],
  [/^virtual npu disable!?$/i, (_m, s) => { s.log.npuMode = 'disable'; }],
  [/^tools version:\s*(\S+)$/i, (m, s) => { s.log.toolsVersion = m[1]; s.afterToolsVersion = true; }],
  [/^Using wbt (\d+)$/, (m, s) => { s.log.wbt = Number(m[1]); }],
  [/^Max Batch Size (\d+)$/, (m, s) => { s.log.maxBatchSize = Number(m[1]); }],
  [/^Support Dynamic Batch\?\s*(\S+)$/, (m, s) => { s.log.dynamicBatch = yesNo(m[1]); }],
  [/^Is FilterMode\?\s*(\S+)$/, (m, s) => { s.log.filterMode = yesNo(m[1]); }],
  [/^Quantization Type is (.+)$/, (m, s) => {
    const q = m[1].trim().toLowerCase().replace(/\s+/g, ' ') as RunJointQuantization;
    if (QUANTIZATIONS.includes(q)) s.log.quantization = q;
    else { s.log.quantization = 'unknown'; problem(s, `unknown quantization type '${m[1]}'`); }
  }],
  [/^(Input|Output)\[(\d+)\]:\s*(.*)$/, (m, s) => startTensor(s, m[1] as 'Input' | 'Output', m[2], m[3])],
  [/^Shape\s*\[([^\]]*)\]\s*(.*)$/, (m, s) => readShape(s, m[1], m[2])],
  [/^Memory\s+(\S+)$/, (m, s) => { const t = currentTensor(s, 'Memory'); if (t) t.memory = m[1]; }],
  [/^Size\s+(\d+)$/, (m, s) => { const t = currentTensor(s, 'Size'); if (t) t.size = Number(m[1]); }],
  [/^Using batch size (\d+)$/, (m, s) => { s.log.batchSize = Number(m[1]); }],
  [/^input\[(\d+)\] (.*) data not provided, using (random data|default value)$/, (m, s) => {
    s.log.fallbacks.push({ index: Number(m[1]), name: m[2], file: null, reason: 'not-provided', fill: fillOf(m[3]), line: s.lineNo });
  }],
  [/^read file (.+?) for input\[(\d+)\] (.*) data (size wrong|failed), using (random data|default value)$/, (m, s) => {
    const reason = m[4] === 'failed' ? 'read-failed' : 'size-wrong';
    s.log.fallbacks.push({ index: Number(m[2]), name: m[3], file: m[1], reason, fill: fillOf(m[5]), line: s.lineNo });
  }],
  [/^dump output\[(\d+)\] (.+?) as (.+) (success|failed)$/, (m, s) => {
    s.log.dumps.push({ index: Number(m[1]), name: m[2], path: m[3], status: m[4] as 'success' | 'failed', line: s.lineNo });
  }],
  [/^can not dump output\[(\d+)\] (.*), it is none$/, (m, s) => {
    s.log.dumps.push({ index: Number(m[1]), name: m[2], path: null, status: 'none', line: s.lineNo });
  }],
  // Informational lines of run_joint with nothing to keep.
  [/^(Not set environment variable to report memory usage!|alloc buffer with stride \d+|mock input data with extra w stride \d+|init input\[\d+\] .* with file .*)$/, () => undefined],
  [/^CMM usage:\s*(\d+)$/, (m, s) => { s.log.cmmUsage = Number(m[1]); }],
  [new RegExp(String.raw`^Create handle took (${NUM}) ms(?:\s*\((.*)\))?$`), (m, s) => {
    const part = (key: string): number | null => {
      const hit = new RegExp(String.raw`\b${key}\s+(${NUM})\s*ms`).exec(m[2] ?? '');
      return hit ? Number(hit[1]) : null;
    };
    s.log.createHandle = { totalMs: Number(m[1]), neuMs: part('neu'), onnxMs: part('onnx'), axeMs: part('axe'), overheadMs: part('overhead') };
  }],
  [/^Run task took (\d+(?:\.\d+)?) us \((\d+) rounds? for average\)$/, (m, s) => {
    s.log.run = { totalUs: Number(m[1]), rounds: Number(m[2]) };
  }],
  [/^Run (\S+) took an average of (\d+(?:\.\d+)?) us(?: \(overhead (\d+(?:\.\d+)?) us\))?$/, (m, s) => {
    s.log.components.push({ name: m[1], avgUs: Number(m[2]), overheadUs: m[3] === undefined ? null : Number(m[3]) });
  }],
  [/^NPU perf cnt total:\s*(\d+)$/, (m, s) => { s.log.npuPerf = { total: Number(m[1]), eu: s.log.npuPerf?.eu ?? [] }; }],
  [/^NPU perf cnt of eu\((\d+)\):\s*(\d+)$/, (m, s) => {
    s.log.npuPerf ??= { total: 0, eu: [] };
    s.log.npuPerf.eu[Number(m[1])] = Number(m[2]);
  }],
  [/Assertion [`'‘].*[`'’] failed\.?$/, (m, s) => { s.log.assertions.push(m.input); }],
  [/^(must specify joint file|read file .+ failed|unknown npu mode .*|invalid WBT index .*|output name \(.*\) conflicts!|terminate called .*|(?:undefined (?:short )?option|option needs value|need option|option value is invalid):.*)$/i,
    (m, s) => { s.log.errors.push(m[1]); }],
  [/^(Aborted|Segmentation fault|Killed|Bus error)(?: \(core dumped\))?$/, (m, s) => { s.log.errors.push(m.input); }],
];

// Lines that start like run_joint output but did not match above: worth a problem, not silence.
const KNOWN_START = /^(run joint version|virtual npu|tools version|Using wbt|Max Batch Size|Support Dynamic Batch|Is FilterMode|Quantization Type|(Input|Output)\[|Shape\b|Memory\b|Size\b|Using batch size|input\[|read file|dump output|can not dump|CMM usage|Create handle|Run \S+ took|Run task|NPU perf)/;
const COMMIT_HASH = /^[0-9a-f]{6,40}$/i;

function emptyLog(): Parsed {
  return {
    runJointVersion: null, toolsVersion: null, toolsCommit: null, npuMode: null, wbt: null,
    maxBatchSize: null, dynamicBatch: null, filterMode: null, quantization: null,
    inputs: [], outputs: [], batchSize: null, fallbacks: [], dumps: [], cmmUsage: null,
    createHandle: null, run: null, components: [], npuPerf: null, assertions: [], errors: [],
    problems: [], unrecognized: [],
  };
}

export function parseRunJointLog(text: string): RunJointLog {
  const s: State = { log: emptyLog(), tensor: null, afterToolsVersion: false, lineNo: 0 };
  const unrecognized: UnrecognizedLine[] = s.log.unrecognized;
  for (const line of splitLogLines(text)) {
    s.lineNo++;
    if (line === '') continue;
    if (s.afterToolsVersion && COMMIT_HASH.test(line)) {
      s.log.toolsCommit = line;
      s.afterToolsVersion = false;
      continue;
    }
    s.afterToolsVersion = false;
    const rule = RULES.find(([re]) => re.test(line));
    if (rule) {
      const match = rule[0].exec(line) as RegExpExecArray;
      rule[1](match, s);
      // A tensor block ends at the first line that is not one of its own.
      if (!/^(Shape|Memory|Size|Input\[|Output\[)/.test(line)) s.tensor = null;
    } else if (KNOWN_START.test(line)) {
      problem(s, `cannot read this run_joint line: ${line}`);
    } else if (/\b(error|failed)\b/i.test(line)) {
      s.log.errors.push(line);
    } else {
      unrecognized.push({ line: s.lineNo, text: line });
    }
  }
  reportIncompleteTensors(s.log.inputs, 'Input', s.log.problems);
  reportIncompleteTensors(s.log.outputs, 'Output', s.log.problems);
  return s.log;
}

function reportIncompleteTensors(tensors: RunJointTensor[], kind: string, problems: ParseProblem[]): void {
  for (const t of tensors) {
    const missing = [t.layout === null && t.dtype === null ? 'Shape' : null, t.memory === null ? 'Memory' : null, t.size === null ? 'Size' : null]
      .filter((x): x is string => x !== null);
    if (missing.length) problems.push({ line: t.line, message: `${kind}[${t.index}] ${t.name} has no ${missing.join('/')} line (log cut short?)` });
  }
}

// Lines only run_joint prints; one is enough to call a text a run_joint log.
const SIGNATURES = [
  /^run joint version:/im,
  /^virtual npu (mode is|disable)/im,
  /^Quantization Type is /im,
  /^\s*Shape \[[\d, ]*\] (NHWC|NCHW) /m,
  /^Create handle took [\d.]+ ms/im,
  /^Run task took \d+ us \(\d+ rounds? for average\)/im,
  /^\s*Run (NEU|ONNX|AXE) took an average of/m,
  /data (not provided|size wrong|failed), using (random data|default value)$/im,
  /^(can not )?dump output\[\d+\] /im,
  /^must specify joint file$/im,
  // What is left of an aborted run: stdout's buffer is lost, stderr keeps glibc's assertion
  // line, which names the program (run_joint, or a path ending in it).
  /^(?:\S*\/)?run_joint: .*Assertion [`'‘].*[`'’] failed\.?$/m,
  /^read file \S.* failed$/im,
];

/** True when the text is run_joint output (even a failed or partial run). */
export function looksLikeRunJointLog(text: string): boolean {
  return isMostlyText(text) && SIGNATURES.some((re) => re.test(text));
}
