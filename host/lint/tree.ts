/**
 * Reading a Pulsar config tree the way the lint rules need: every occurrence of a field
 * anywhere (real configs put blocks in slightly different places), with the chain of fields
 * above it; enum values compared without their prefixes (TENSOR_COLOR_SPACE_BGR, BGR, "bgr").
 */
import type { PtField, PtMessage, PtValue } from '../../shared/parsers/prototxt';

export interface Located {
  readonly field: PtField;
  /** Fields from the root down to (not including) this one. */
  readonly ancestors: readonly PtField[];
}

/** Every field named `name` at any depth, in file order. */
export function findFields(root: PtMessage, name: string): Located[] {
  const found: Located[] = [];
  const visit = (msg: PtMessage, ancestors: PtField[]) => {
    for (const field of msg.fields) {
      if (field.name === name) found.push({ field, ancestors });
      for (const child of messagesOf(field.value)) visit(child, [...ancestors, field]);
    }
  };
  visit(root, []);
  return found;
}

export function messagesOf(value: PtValue): PtMessage[] {
  if (value.kind === 'message') return [value];
  if (value.kind === 'list') return value.items.filter((i): i is PtMessage => i.kind === 'message');
  return [];
}

/** Direct children named `name` of a message (a field may repeat). */
export function children(msg: PtMessage, name: string): PtField[] {
  return msg.fields.filter((f) => f.name === name);
}

export function child(msg: PtMessage, name: string): PtField | undefined {
  return msg.fields.find((f) => f.name === name);
}

/** The message value of a field, or undefined. */
export function asMessage(field: PtField | undefined): PtMessage | undefined {
  return field?.value.kind === 'message' ? field.value : undefined;
}

/** An enum or string value, upper-cased and without any of the prefixes; null for others. */
export function enumValue(value: PtValue | undefined, prefixes: readonly string[] = []): string | null {
  if (!value || (value.kind !== 'enum' && value.kind !== 'string')) return null;
  let v = value.value.trim().toUpperCase();
  for (const p of prefixes) if (v.startsWith(p)) { v = v.slice(p.length); break; }
  return v;
}

export interface NumberList {
  readonly values: number[];
  /** Line of the first occurrence of the field. */
  readonly line: number;
}

/** `mean: [1, 2, 3]` and `mean: 1 mean: 2 mean: 3` alike; undefined when the field is absent. */
export function numberList(msg: PtMessage, name: string): NumberList | undefined {
  const fields = children(msg, name);
  if (fields.length === 0) return undefined;
  const values: number[] = [];
  for (const f of fields) {
    const items = f.value.kind === 'list' ? f.value.items : [f.value];
    for (const item of items) if (item.kind === 'number') values.push(item.value);
  }
  return { values, line: fields[0].line };
}

/** A scalar field's number, or undefined. */
export function numberOf(msg: PtMessage, name: string): { value: number; line: number } | undefined {
  const f = child(msg, name);
  return f && f.value.kind === 'number' ? { value: f.value.value, line: f.line } : undefined;
}

export function boolOf(msg: PtMessage, name: string): { value: boolean; line: number } | undefined {
  const f = child(msg, name);
  if (!f) return undefined;
  if (f.value.kind === 'bool') return { value: f.value.value, line: f.line };
  if (f.value.kind === 'number') return { value: f.value.value !== 0, line: f.line };
  return undefined;
}
