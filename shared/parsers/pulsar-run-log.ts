/**
 * Parser for what `pulsar run` logs on the x86 side: the score table (onnx vs joint per output)
 * and where it dumped the gt tensors. Its lines carry a logger prefix such as
 * `[26 07:14:45 <frozen super_pulsar.func_wrappers.pulsar_run.utils>:70] `; the table rows
 * do not. Both are accepted, as are lines captured through docker with colour codes.
 */
import { isMostlyText, splitLogLines, type ParseProblem } from './problems';

export interface PulsarScore {
  /** Output (or, with per-layer compare, layer) name. */
  readonly layer: string;
  /** 2-norm relative error ‖ref − x‖₂ / ‖ref‖₂ in percent (NaN when pulsar printed nan). */
  readonly relErr2Percent: number;
  /** Cosine similarity, 1 = identical direction. */
  readonly cosine: number;
  /** From the preceding `###### Comparing A and B ######` line, when there was one. */
  readonly reference: string | null;
  readonly target: string | null;
  readonly line: number;
}

export interface PulsarDump {
  readonly name: string;
  readonly path: string;
  readonly line: number;
}

export interface PulsarRunLog {
  readonly scores: PulsarScore[];
  readonly dumps: PulsarDump[];
  readonly problems: ParseProblem[];
}

// `[dd hh:mm:ss <module>:line] ` or `[dd hh:mm:ss module.py:line] ` logger prefixes.
const LOG_PREFIX = /^\[[^\]]*\]\s*/;
const NUMBER = String.raw`[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)`;
const SCORE = new RegExp(String.raw`^Layer:\s*(.+?)\s+2-norm RE:\s*(${NUMBER})\s*%\s+cosine-sim:\s*(${NUMBER})\s*$`, 'i');
const DUMP = /^dump+ed '(.*)' to '(.*)'\.?$/;
const COMPARING = /^#+\s*Comparing (.+?) and (.+?)\s*#+$/;

function toNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN;
  if (lower.includes('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

export function parsePulsarRunLog(text: string): PulsarRunLog {
  const scores: PulsarScore[] = [];
  const dumps: PulsarDump[] = [];
  const problems: ParseProblem[] = [];
  let reference: string | null = null;
  let target: string | null = null;
  splitLogLines(text).forEach((raw, i) => {
    const line = raw.replace(LOG_PREFIX, '');
    const lineNo = i + 1;
    let m: RegExpExecArray | null;
    if ((m = COMPARING.exec(line))) {
      [reference, target] = [m[1], m[2]];
    } else if ((m = SCORE.exec(line))) {
      scores.push({ layer: m[1], relErr2Percent: toNumber(m[2]), cosine: toNumber(m[3]), reference, target, line: lineNo });
    } else if ((m = DUMP.exec(line))) {
      dumps.push({ name: m[1], path: m[2], line: lineNo });
    } else if (/^Layer:/.test(line) || /^dump+ed '/.test(line)) {
      problems.push({ line: lineNo, message: `cannot read this pulsar run line: ${line}` });
    }
  });
  return { scores, dumps, problems };
}

const SIGNATURES = [
  /^(\[[^\]]*\]\s*)?Layer:\s*\S+\s+2-norm RE:/m,
  /^(\[[^\]]*\]\s*)?dump+ed '.*' to '.*'/m,
  /Score compare table:/,
  /super_pulsar\.func_wrappers\.(wrapper_)?pulsar_run/,
];

/** True when the text is `pulsar run` output (a score table or gt dumps). */
export function looksLikePulsarRunLog(text: string): boolean {
  return isMostlyText(text) && SIGNATURES.some((re) => re.test(text));
}
