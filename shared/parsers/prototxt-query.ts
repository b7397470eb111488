/**
 * Reading a parsed prototxt tree by field path, e.g.
 * `get(doc, 'neuwizard_conf.dataset_conf_calibration.calibration_strategy')`.
 * Paths are dot-separated field names (or an array of names, for names with dots).
 */
import type { PtMessage, PtValue } from './prototxt';

type Path = string | readonly string[];

function segments(path: Path): readonly string[] {
  return typeof path === 'string' ? path.split('.').filter(Boolean) : path;
}

/** Messages a value stands for: itself, or each message inside a list of messages. */
function messagesOf(value: PtValue): PtMessage[] {
  if (value.kind === 'message') return [value];
  if (value.kind === 'list') return value.items.filter((i): i is PtMessage => i.kind === 'message');
  return [];
}

/**
 * The first value at `path`, following the first matching message at each level
 * (proto text allows a singular field once; for repeated ones use getAll). undefined if absent.
 */
export function get(msg: PtMessage, path: Path): PtValue | undefined {
  return getAll(msg, path, 1)[0];
}

/**
 * Every value at `path`, in file order, descending into every occurrence of each repeated
 * message on the way (e.g. all `operator_conf_items` of `neuwizard_conf.operator_conf`).
 * A `[a, b]` list stays one value; getScalars flattens.
 */
export function getAll(msg: PtMessage, path: Path, limit = Infinity): PtValue[] {
  const names = segments(path);
  if (names.length === 0) return [msg];
  let level: PtMessage[] = [msg];
  for (const name of names.slice(0, -1)) {
    level = level.flatMap((m) => m.fields.filter((f) => f.name === name).flatMap((f) => messagesOf(f.value)));
  }
  const last = names[names.length - 1];
  const found: PtValue[] = [];
  for (const m of level) {
    for (const f of m.fields) {
      if (f.name !== last) continue;
      found.push(f.value);
      if (found.length >= limit) return found;
    }
  }
  return found;
}

export type PlainScalar = string | number | boolean;

/**
 * The scalar values at `path` as plain JS values, with `mean: [1, 2]` and `mean: 1 mean: 2`
 * giving the same [1, 2]. Enum values come back as their names.
 */
export function getScalars(msg: PtMessage, path: Path): PlainScalar[] {
  const out: PlainScalar[] = [];
  for (const v of getAll(msg, path)) {
    const items = v.kind === 'list' ? v.items : [v];
    for (const item of items) if (item.kind !== 'message') out.push(item.value);
  }
  return out;
}

export type PlainValue = PlainScalar | PlainValue[] | { [name: string]: PlainValue };

/**
 * JSON-friendly form: a message becomes an object; a field written several times becomes an
 * array; NaN/±Infinity become the strings "nan"/"inf"/"-inf" so JSON keeps them.
 */
export function toPlain(value: PtValue): PlainValue {
  switch (value.kind) {
    case 'message': {
      const obj: { [name: string]: PlainValue } = {};
      const counts = new Map<string, number>();
      for (const f of value.fields) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
      for (const f of value.fields) {
        const plain = toPlain(f.value);
        if ((counts.get(f.name) ?? 0) > 1) ((obj[f.name] ??= []) as PlainValue[]).push(plain);
        else obj[f.name] = plain;
      }
      return obj;
    }
    case 'list':
      return value.items.map(toPlain);
    case 'number':
      if (Number.isNaN(value.value)) return 'nan';
      if (!Number.isFinite(value.value)) return value.value > 0 ? 'inf' : '-inf';
      return value.value;
    default:
      return value.value;
  }
}
