/**
 * A parser for the small subset of Python literals a .npy header uses:
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
 *
 * It never evaluates anything: strings, integers (with Python 2's `L` suffix, which old
 * numpy wrote), True/False/None, tuples, lists and dicts with string keys. Anything else
 * is a syntax error. Nesting is limited so a hostile header cannot exhaust the stack.
 */

import { shortenForMessage } from '../errors';

export type PyValue = string | number | boolean | null | PyValue[] | PyTuple | PyDict;
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  constructor(readonly entries: Map<string, PyValue>) {}
}

export class PyLiteralError extends Error {}

const MAX_DEPTH = 32;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseAll(): PyValue {
    const value = this.value(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected text after the value');
    return value;
  }

  private fail(what: string): never {
    throw new PyLiteralError(`${what} at character ${this.pos}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === "'" || c === '"') return this.string(c);
    if (c === '(') return new PyTuple(this.sequence(')', depth));
    if (c === '[') return this.sequence(']', depth);
    if (c === '{') return this.dict(depth);
    if (c === '-' || (c >= '0' && c <= '9')) return this.integer();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.text.startsWith(word, this.pos) && !/\w/.test(this.text[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    this.fail(`unexpected '${c}'`);
  }

  private string(quote: string): string {
    let out = '';
    this.pos++;
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++];
      if (e === undefined) this.fail('unterminated string');
      if (e === 'x' || e === 'u') {
        const digits = this.text.slice(this.pos, this.pos + (e === 'x' ? 2 : 4));
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== (e === 'x' ? 2 : 4)) this.fail('bad escape');
        out += String.fromCharCode(parseInt(digits, 16));
        this.pos += digits.length;
      } else {
        // Python keeps unknown escapes as written.
        out += ESCAPES[e] ?? `\\${e}`;
      }
    }
  }

  private integer(): number {
    const m = /^-?\d+[lL]?/.exec(this.text.slice(this.pos));
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    const n = Number(m[0].replace(/[lL]$/, ''));
    if (!Number.isSafeInteger(n)) this.fail(`number ${shortenForMessage(m[0], 30)} is too large`);
    return n;
  }

  /** Items up to `close`; a trailing comma is allowed, as in Python. */
  private sequence(close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private dict(depth: number): PyDict {
    const entries = new Map<string, PyValue>();
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return new PyDict(entries);
      }
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      entries.set(key, this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

/** Parses one Python literal; throws PyLiteralError saying where it went wrong. */
export function parsePyLiteral(text: string): PyValue {
  return new Parser(text).parseAll();
}
