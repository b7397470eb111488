/**
 * pulsar's log format: Python logging lines with a `[DD HH:MM:SS module:line]` prefix
 * (pulsar build prints `frozen module:line`, pulsar run `<frozen module>:line`), and tables
 * drawn by the tabulate library in its "simple" format (columns padded and separated by two
 * spaces, a rule of dashes above and below when there are no headers).
 */

export type Write = (text: string) => void;

export class PulsarLog {
  constructor(private readonly write: Write) {}

  /** `[09 06:46:17 frozen super_pulsar.func_wrappers.wrapper_pulsar_build:28] message` */
  frozen(module: string, line: number, message: string): void {
    this.write(`[${stamp()} frozen ${module}:${line}] ${message}\n`);
  }

  /** `[26 07:14:45 <frozen super_pulsar.func_wrappers.pulsar_run.utils>:70] message` */
  angled(module: string, line: number, message: string): void {
    this.write(`[${stamp()} <frozen ${module}>:${line}] ${message}\n`);
  }

  raw(text: string): void {
    this.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  lines(lines: readonly string[]): void {
    for (const l of lines) this.raw(l);
  }
}

function stamp(now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(now.getDate())} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
}

/** tabulate(rows, tablefmt="simple") without headers; with headers the rule goes under them. */
export function tabulateSimple(rows: readonly (readonly string[])[], headers?: readonly string[]): string[] {
  const all = headers ? [headers, ...rows] : rows;
  if (all.length === 0) return [];
  const widths = all[0].map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  if (headers) return [line(headers), rule, ...rows.map(line)];
  return [rule, ...rows.map(line), rule];
}

/** The score table row pulsar prints: `Layer: NAME  2-norm RE: 4.70%  cosine-sim: 0.9989`. */
export function scoreRow(layer: string, relErr2Percent: number, cosine: number): string[] {
  return [`Layer: ${layer}`, `2-norm RE: ${fixed(relErr2Percent, 2)}%`, `cosine-sim: ${fixed(cosine, 4)}`];
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'nan';
}
