/**
 * Writes protobuf text format from the tree shared/parsers/prototxt.ts reads, so the
 * stand-in can copy the user's blocks into the output config it expands. Builders for new
 * fields keep the expansion code short.
 */
import type { PtField, PtMessage, PtScalar, PtValue } from '../../shared/parsers/prototxt';

const AT = { line: 0, column: 0 };

export function str(name: string, value: string): PtField {
  return { name, value: { kind: 'string', value, ...AT }, ...AT };
}
export function num(name: string, value: number): PtField {
  return { name, value: { kind: 'number', value, raw: String(value), ...AT }, ...AT };
}
export function bool(name: string, value: boolean): PtField {
  return { name, value: { kind: 'bool', value, ...AT }, ...AT };
}
export function enm(name: string, value: string): PtField {
  return { name, value: { kind: 'enum', value, ...AT }, ...AT };
}
export function msg(name: string, fields: readonly PtField[]): PtField {
  return { name, value: { kind: 'message', fields: [...fields], ...AT }, ...AT };
}

export function formatPrototxt(fields: readonly PtField[], indent = ''): string {
  return fields.map((f) => formatField(f, indent)).join('');
}

function formatField(f: PtField, indent: string): string {
  const v = f.value;
  if (v.kind === 'message') return `${indent}${f.name} {\n${formatPrototxt(v.fields, `${indent}  `)}${indent}}\n`;
  if (v.kind === 'list') {
    if (v.items.some((i) => i.kind === 'message')) {
      return v.items.map((i) => formatField({ ...f, value: i as PtValue }, indent)).join('');
    }
    return `${indent}${f.name}: [${v.items.map((i) => scalar(i as PtScalar)).join(', ')}]\n`;
  }
  return `${indent}${f.name}: ${scalar(v)}\n`;
}

function scalar(v: PtScalar): string {
  switch (v.kind) {
    case 'string': return JSON.stringify(v.value);
    case 'number': return v.raw;
    case 'bool': return v.value ? 'true' : 'false';
    case 'enum': return v.value;
  }
}

/** A message's fields without the named ones. */
export function without(m: PtMessage | undefined, ...names: string[]): PtField[] {
  return (m?.fields ?? []).filter((f) => !names.includes(f.name));
}
