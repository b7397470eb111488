/**
 * Protobuf text format → a generic tree that keeps every node's line and column, so checks
 * on a Pulsar config (colour space vs mean/std order, calibration settings...) can point at
 * the exact line. No schema: values are typed by how they are written (string, number, bool,
 * enum identifier, list, message); repeated fields are simply the same name several times.
 * Accepted: `name { }`, `name: { }`, `name < >`, `name: value`, `name: [a, b]`, `name [{ }, { }]`,
 * `[ext.name]` field names, `;`/`,` after fields, `-inf`, `nan`, adjacent strings ("a" "b").
 * Syntax errors throw PrototxtSyntaxError (a BadFileError, code PROTOTXT_SYNTAX).
 */
import { BadFileError } from '../errors';
import { Lexer, numberValue, SyntaxProblem, type Token } from './prototxt-lexer';

export interface PtLocation {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}
export interface PtString extends PtLocation { readonly kind: 'string'; readonly value: string }
/** `raw` keeps the written form (int64 values beyond 2^53 lose precision in `value`). */
export interface PtNumber extends PtLocation { readonly kind: 'number'; readonly value: number; readonly raw: string }
export interface PtBool extends PtLocation { readonly kind: 'bool'; readonly value: boolean }
/** Any other bare identifier: an enum value such as TENSOR_COLOR_SPACE_BGR or NHWC. */
export interface PtEnum extends PtLocation { readonly kind: 'enum'; readonly value: string }
export type PtScalar = PtString | PtNumber | PtBool | PtEnum;
export interface PtList extends PtLocation { readonly kind: 'list'; readonly items: Array<PtScalar | PtMessage> }
export interface PtMessage extends PtLocation { readonly kind: 'message'; readonly fields: PtField[] }
export type PtValue = PtScalar | PtList | PtMessage;
export interface PtField extends PtLocation { readonly name: string; readonly value: PtValue }
export interface PtDocument extends PtMessage { readonly file: string | null }

/** A syntax error, with where it is and what was expected there. */
export class PrototxtSyntaxError extends BadFileError {
  readonly line: number;
  readonly column: number;
  constructor(file: string, line: number, column: number, problem: string) {
    super('PROTOTXT_SYNTAX', `${file}:${line}:${column}`, problem, {
      hint: 'protobuf text format: `name: value` or `name { ... }`, strings in quotes, # starts a comment',
    });
    this.line = line;
    this.column = column;
    // The message carries file:line:col; `file` itself stays the path, as for every BadFileError.
    Object.defineProperty(this, 'file', { value: file });
  }
}

/** Real configs nest < 10 deep; the limit keeps hostile input from overflowing the stack. */
const MAX_DEPTH = 100;
const BOOLEANS: Record<string, boolean> = { true: true, True: true, false: false, False: false };
const SPECIAL_FLOATS: Record<string, number> = { inf: Infinity, infinity: Infinity, nan: NaN };

function describe(t: Token): string {
  if (t.type === 'eof') return 'the end of the file';
  if (t.type === 'string') return `the string "${t.text.length > 20 ? `${t.text.slice(0, 20)}...` : t.text}"`;
  return `'${t.text}'`;
}

class Parser {
  private depth = 0;
  constructor(private readonly lexer: Lexer) {}

  private peek(): Token { return this.lexer.peek(); }
  private next(): Token { return this.lexer.next(); }
  private is(text: string): boolean { const t = this.peek(); return t.type === 'punct' && t.text === text; }
  private fail(message: string, at: Token = this.peek()): never { throw new SyntaxProblem(message, at.line, at.column); }
  private expect(text: string, what: string): Token {
    if (!this.is(text)) this.fail(`expected '${text}' ${what}, found ${describe(this.peek())}`);
    return this.next();
  }

  /** Fields until `close` ('}' or '>'), or until the end of the text for the top level. */
  fields(close: string | null, opener?: Token, name?: string): PtField[] {
    const fields: PtField[] = [];
    for (;;) {
      const t = this.peek();
      if (close !== null && this.is(close)) { this.next(); return fields; }
      if (t.type === 'eof') {
        if (close === null) return fields;
        this.fail(`missing '${close}' to close '${name}' opened at line ${opener?.line}, column ${opener?.column}`);
      }
      fields.push(this.field());
    }
  }

  private fieldName(): string {
    const t = this.peek();
    if (t.type === 'ident') return this.next().text;
    if (this.is('[')) {
      // Extension or Any type URL: [pkg.ext] or [type.googleapis.com/pkg.Type]
      this.next();
      let name = '';
      while (!this.is(']')) {
        const part = this.next();
        if (part.type !== 'ident' && !(part.type === 'punct' && (part.text === '.' || part.text === '/'))) {
          this.fail(`expected an extension name inside '[ ]', found ${describe(part)}`, part);
        }
        name += part.text;
      }
      this.next();
      return `[${name}]`;
    }
    if (isClosingBracket(t)) this.fail(`unexpected ${describe(t)}: no block is open here`);
    return this.fail(`expected a field name, found ${describe(t)}`);
  }

  private field(): PtField {
    const start = this.peek();
    const name = this.fieldName();
    let value: PtValue;
    if (this.is(':')) {
      this.next();
      if (this.is('{') || this.is('<')) value = this.message(name);
      else if (this.is('[')) value = this.list(name);
      else value = this.scalar(name);
    } else if (this.is('{') || this.is('<')) {
      value = this.message(name);
    } else if (this.is('[')) {
      value = this.list(name);
    } else {
      this.fail(`expected ':' or '{' after the field name '${name}', found ${describe(this.peek())}`);
    }
    if (this.is(';') || this.is(',')) this.next();
    return { name, value, line: start.line, column: start.column };
  }

  private message(name: string): PtMessage {
    const open = this.next();
    if (++this.depth > MAX_DEPTH) this.fail(`messages nested more than ${MAX_DEPTH} deep`, open);
    const fields = this.fields(open.text === '{' ? '}' : '>', open, name);
    this.depth--;
    return { kind: 'message', fields, line: open.line, column: open.column };
  }

  private list(name: string): PtList {
    const open = this.expect('[', `to start the list of '${name}'`);
    const items: Array<PtScalar | PtMessage> = [];
    if (!this.is(']')) {
      for (;;) {
        items.push(this.is('{') || this.is('<') ? this.message(name) : this.scalar(name));
        if (this.is(']')) break;
        this.expect(',', `or ']' in the list of '${name}'`);
      }
    }
    this.next();
    return { kind: 'list', items, line: open.line, column: open.column };
  }

  private scalar(name: string): PtScalar {
    const t = this.peek();
    const at = { line: t.line, column: t.column };
    if (t.type === 'string') {
      let value = '';
      while (this.peek().type === 'string') value += this.next().text;
      return { kind: 'string', value, ...at };
    }
    const negative = this.is('-');
    if (negative) this.next();
    const v = this.peek();
    if (v.type === 'number') {
      this.next();
      const value = numberValue(v.text);
      return { kind: 'number', value: negative ? -value : value, raw: (negative ? '-' : '') + v.text, ...at };
    }
    if (v.type === 'ident') {
      const special = SPECIAL_FLOATS[v.text.toLowerCase()];
      if (special !== undefined) {
        this.next();
        return { kind: 'number', value: negative ? -special : special, raw: (negative ? '-' : '') + v.text, ...at };
      }
      if (!negative) {
        this.next();
        if (v.text in BOOLEANS) return { kind: 'bool', value: BOOLEANS[v.text], ...at };
        return { kind: 'enum', value: v.text, ...at };
      }
    }
    return this.fail(`expected a value for '${name}' (number, "string", true/false or an enum name), found ${describe(v)}`, v);
  }
}

function isClosingBracket(t: Token): boolean {
  return t.type === 'punct' && (t.text === '}' || t.text === '>' || t.text === ']');
}

/** Parses protobuf text. `file` names the source in error messages. */
export function parsePrototxt(text: string, file?: string): PtDocument {
  try {
    const fields = new Parser(new Lexer(text)).fields(null);
    return { kind: 'message', fields, line: 1, column: 1, file: file ?? null };
  } catch (err) {
    if (err instanceof SyntaxProblem) throw new PrototxtSyntaxError(file ?? '<prototxt>', err.line, err.column, err.message);
    throw err;
  }
}

export { get, getAll, getScalars, toPlain } from './prototxt-query';
