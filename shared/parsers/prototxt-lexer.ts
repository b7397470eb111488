/**
 * Tokens of the protobuf text format (the `.prototxt` Pulsar configs are written in).
 * Follows protobuf's text format spec: `#` comments, identifiers, decimal/hex/octal integers,
 * floats with exponent and optional `f` suffix, single- or double-quoted strings with C
 * escapes (`\n`, `\x41`, `\101`, `\u00e9`...). Every token knows its 1-based line and column.
 */

export type TokenType = 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly type: TokenType;
  /** Source text (for strings: the decoded value). */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** Thrown by the lexer and parser; prototxt.ts turns it into a BadFileError with the file name. */
export class SyntaxProblem extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)/y;
const PUNCT = '{}<>[]:;,-./';
const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
};

/**
 * Produces tokens one at a time, so a syntax error is reported at the first bad spot in the
 * text whether the lexer or the parser finds it.
 */
export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private ahead: Token | null = null;

  constructor(private readonly text: string) {}

  peek(): Token {
    this.ahead ??= this.read();
    return this.ahead;
  }

  next(): Token {
    const t = this.peek();
    this.ahead = null;
    return t;
  }

  private fail(message: string, at = this.pos): never {
    throw new SyntaxProblem(message, this.line, at - this.lineStart + 1);
  }

  private read(): Token {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text[this.pos];
      if (c === '\n') { this.pos++; this.line++; this.lineStart = this.pos; continue; }
      if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') { this.pos++; continue; }
      if (c === '#') {
        while (this.pos < text.length && text[this.pos] !== '\n') this.pos++;
        continue;
      }
      const start = this.pos;
      const at = { line: this.line, column: start - this.lineStart + 1 };
      if (c === '"' || c === "'") {
        const [value, end] = readString(text, start, (m, pos) => this.fail(m, pos));
        this.pos = end;
        return { type: 'string', text: value, ...at };
      }
      if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[start + 1] ?? ''))) {
        NUMBER.lastIndex = start;
        const number = NUMBER.exec(text) as RegExpExecArray;
        const end = start + number[0].length;
        if (/[A-Za-z0-9_.]/.test(text[end] ?? '')) this.fail(`malformed number '${text.slice(start, end + 1)}'`);
        this.pos = end;
        return { type: 'number', text: number[0], ...at };
      }
      IDENT.lastIndex = start;
      const ident = IDENT.exec(text);
      if (ident) {
        this.pos += ident[0].length;
        return { type: 'ident', text: ident[0], ...at };
      }
      if (PUNCT.includes(c)) {
        this.pos++;
        return { type: 'punct', text: c, ...at };
      }
      this.fail(`unexpected character '${c}'`);
    }
    return { type: 'eof', text: '', line: this.line, column: this.pos - this.lineStart + 1 };
  }
}

/** Reads a quoted string starting at `start`; returns its decoded value and the end offset. */
function readString(text: string, start: number, fail: (m: string, at: number) => never): [string, number] {
  const quote = text[start];
  const bytes: number[] = [];
  const pushChar = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  let pos = start + 1;
  for (;;) {
    const c = text[pos];
    if (c === undefined || c === '\n') fail(`string not closed (missing ${quote} before the end of the line)`, start);
    if (c === quote) return [Buffer.from(bytes).toString('utf8'), pos + 1];
    if (c !== '\\') {
      const cp = text.codePointAt(pos) as number;
      pushChar(String.fromCodePoint(cp));
      pos += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = text[pos + 1] ?? '';
    let m: RegExpExecArray | null;
    if (e in SIMPLE_ESCAPES) { bytes.push(SIMPLE_ESCAPES[e]); pos += 2; }
    else if ((m = /^[0-7]{1,3}/.exec(text.slice(pos + 1, pos + 4)))) { bytes.push(parseInt(m[0], 8) & 0xff); pos += 1 + m[0].length; }
    else if (e === 'x' && (m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(pos + 2, pos + 4)))) { bytes.push(parseInt(m[0], 16)); pos += 2 + m[0].length; }
    else if (e === 'u' && (m = /^[0-9a-fA-F]{4}/.exec(text.slice(pos + 2)))) { pushChar(String.fromCodePoint(parseInt(m[0], 16))); pos += 6; }
    else if (e === 'U' && (m = /^[0-9a-fA-F]{8}/.exec(text.slice(pos + 2))) && parseInt(m[0], 16) <= 0x10ffff) {
      pushChar(String.fromCodePoint(parseInt(m[0], 16)));
      pos += 10;
    } else fail(`unknown escape '\\${e}' in string`, pos);
  }
}

/** Numeric value of a number token (hex, octal, decimal, float with `f` suffix). */
export function numberValue(text: string): number {
  if (/^0[xX]/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return parseInt(text, 8);
  return Number(text.replace(/[fF]$/, ''));
}
