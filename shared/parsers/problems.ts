/**
 * What the text parsers hand back besides their data. A parser never throws on bad text: it
 * keeps what it could read and lists every line it could not make sense of, so a caller can
 * show a half-readable log (a run that crashed, a capture cut short) instead of nothing.
 */

export interface ParseProblem {
  /** 1-based line number in the parsed text. */
  readonly line: number;
  readonly message: string;
}

/** A line the parser did not recognise at all (kept so nothing in a log is silently lost). */
export interface UnrecognizedLine {
  readonly line: number;
  readonly text: string;
}

// Serial consoles and some terminals leave colour codes and carriage returns in captures.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Splits a captured log into lines without CR, colour codes or surrounding blanks. */
export function splitLogLines(text: string): string[] {
  return text.split(/\r*\n|\r/).map((line) => line.replace(ANSI_ESCAPE, '').trim());
}

/** True when most of the text is printable: a log, not binary data misnamed as one. */
export function isMostlyText(text: string): boolean {
  if (text.length === 0) return false;
  const sample = text.slice(0, 64 * 1024);
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    // NUL, other C0 controls except tab/newline/CR/ESC, and U+FFFD from invalid UTF-8.
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x1b) || c === 0xfffd) bad++;
  }
  return bad / sample.length < 0.02;
}
