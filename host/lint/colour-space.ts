/**
 * Which colour space (and so which channel order) a model input's mean/std are read in.
 *
 * The Pulsar docs: mean/std follow the input tensor's colour space; AUTO and BGR mean BGR
 * order, RGB means RGB order; AUTO is BGR for 3 channels and GRAY for 1. The precision guide
 * names dst_input_tensors (the compiled model's input) as the one to look at. When that is
 * YUV (NV12/NV21) or AUTO, the data is converted to the onnx model's own colour space
 * (src_input_tensors) before normalization, so that one decides. `input_tensors` and
 * `output_tensors` are the old names of src_/dst_input_tensors.
 * An item without tensor_name applies to every input and overrides the named ones.
 */
import type { PtField, PtMessage } from '../../shared/parsers/prototxt';
import { asMessage, child, children, enumValue } from './tree';

export type ColourSpace = 'BGR' | 'RGB' | 'GRAY' | 'BGR0' | 'NV12' | 'NV21' | 'AUTO' | (string & {});

export interface ResolvedColourSpace {
  /** The order mean/std must be in: BGR for AUTO with 3 channels. */
  readonly space: ColourSpace;
  /** As written, e.g. TENSOR_COLOR_SPACE_AUTO; 'default' when nothing was configured. */
  readonly written: string;
  /** Where it was configured (`dst_input_tensors`, ...), or 'default'. */
  readonly source: string;
  readonly line: number | null;
}

const PREFIXES = ['TENSOR_COLOR_SPACE_', 'COLOR_SPACE_', 'CST_'];
/** Spaces that fix a channel order (YUV and AUTO defer to the onnx side). */
const ORDERED = new Set(['BGR', 'RGB', 'GRAY', 'BGR0']);

/** Channels mean/std need per colour space; AUTO accepts 3 (BGR) or 1 (GRAY). */
export function channelCounts(space: ColourSpace): readonly number[] | null {
  switch (space) {
    case 'GRAY': return [1];
    case 'BGR': case 'RGB': return [3];
    case 'BGR0': return [4];
    case 'AUTO': return [3, 1];
    default: return null;
  }
}

/** Every applicable colour space for an input (several only when an unnamed selector meets named items). */
export function resolveColourSpaces(scopes: readonly PtMessage[], inputName: string | null): ResolvedColourSpace[] {
  const dst = pick(scopes, ['dst_input_tensors', 'output_tensors'], inputName);
  const src = pick(scopes, ['src_input_tensors', 'input_tensors'], inputName);
  const combos: ResolvedColourSpace[] = [];
  const dsts = dst.length > 0 ? dst : [null];
  const srcs = src.length > 0 ? src : [null];
  for (const d of dsts) {
    for (const s of srcs) {
      const chosen = d && ORDERED.has(d.space) ? d : s && ORDERED.has(s.space) ? s : d ?? s;
      const resolved = chosen ?? { space: 'AUTO', written: 'default', source: 'default', line: null };
      if (!combos.some((c) => c.space === resolved.space && c.line === resolved.line)) combos.push(resolved);
    }
  }
  return combos.map((c) => (ORDERED.has(c.space) ? c : { ...c, space: 'AUTO' }));
}

/** Items of the first block name found (nearest scope first) that apply to the input. */
function pick(scopes: readonly PtMessage[], names: readonly string[], inputName: string | null): ResolvedColourSpace[] {
  for (const scope of scopes) {
    for (const name of names) {
      const items = children(scope, name);
      if (items.length === 0) continue;
      const unnamed = items.filter((i) => !tensorName(i));
      const named = items.filter((i) => tensorName(i));
      const applicable = unnamed.length > 0
        ? unnamed.slice(-1)
        : inputName !== null
          ? named.filter((i) => tensorName(i) === inputName)
          : named;
      return applicable.map((item) => describe(item, name)).filter((r): r is ResolvedColourSpace => r !== null);
    }
  }
  return [];
}

function tensorName(item: PtField): string | null {
  const f = asMessage(item) && child(asMessage(item) as PtMessage, 'tensor_name');
  return f && f.value.kind === 'string' ? f.value.value : null;
}

function describe(item: PtField, blockName: string): ResolvedColourSpace | null {
  const msg = asMessage(item);
  const field = msg && child(msg, 'color_space');
  if (!field) return null;
  const space = enumValue(field.value, PREFIXES);
  if (!space) return null;
  const written = field.value.kind === 'enum' || field.value.kind === 'string' ? field.value.value : space;
  return { space, written, source: blockName, line: field.line };
}
