/**
 * Shortening run_joint's log for a report file. The model listing at the top and the end
 * (timing, the assertion that killed it) are what people read, so a long log keeps its head
 * and its tail and says plainly how much was cut from the middle.
 */

export interface ExcerptLimits {
  headLines: number;
  tailLines: number;
  /** Upper bound on the characters kept, whatever the line counts say. */
  maxChars: number;
}

/** Generous for run_joint (a normal log is ~40 lines), small enough for a CI artifact. */
export const JUNIT_LOG_LIMITS: ExcerptLimits = { headLines: 120, tailLines: 280, maxChars: 64 * 1024 };
export const HTML_LOG_LIMITS: ExcerptLimits = { headLines: 400, tailLines: 1600, maxChars: 512 * 1024 };

/** Longest a single line may be before its middle is cut (binary junk can be one huge line). */
const MAX_LINE = 2000;

function clipLine(line: string): string {
  if (line.length <= MAX_LINE) return line;
  return `${line.slice(0, MAX_LINE / 2)} … [${line.length - MAX_LINE} characters cut] … ${line.slice(-MAX_LINE / 2)}`;
}

/** The log with CRLF as LF, long lines clipped, and the middle cut when it is too long. */
export function logExcerpt(log: string, limits: ExcerptLimits): string {
  const text = log.replace(/\r\n?/g, '\n').replace(/\n$/, '');
  if (text === '') return '';
  const lines = text.split('\n').map(clipLine);
  const n = lines.length;
  let tail = Math.min(limits.tailLines, n);
  let head = Math.min(limits.headLines, n - tail);
  let chars = 0;
  for (let i = 0; i < head; i++) chars += lines[i].length + 1;
  for (let i = n - tail; i < n; i++) chars += lines[i].length + 1;
  // Over the character budget: give up head lines first (the end says how the run ended).
  while (chars > limits.maxChars && head > 0) chars -= lines[--head].length + 1;
  while (chars > limits.maxChars && tail > 1) chars -= lines[n - tail--].length + 1;
  const cut = n - head - tail;
  if (cut === 0) return `${lines.join('\n')}\n`;
  const marker = `… [${cut} of ${n} lines cut] …`;
  return `${[...lines.slice(0, head), marker, ...lines.slice(n - tail)].join('\n')}\n`;
}
