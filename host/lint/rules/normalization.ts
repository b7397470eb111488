/**
 * mean/std of input_normalization against the input's colour space (guide step 3.2):
 * the classic mistake is ImageNet's mean written in RGB order while the compiled model reads
 * BGR (the default, AUTO), or the reverse. Also: a channel count that does not fit the
 * colour space, a zero std, and the 0.255 typo of ImageNet's std that the Pulsar docs carry.
 */
import type { PtField, PtMessage } from '../../../shared/parsers/prototxt';
import { channelCounts, resolveColourSpaces, type ResolvedColourSpace } from '../colour-space';
import type { Finding } from '../finding';
import { asMessage, child, children, enumValue, findFields, numberList, type NumberList } from '../tree';
import type { LintContext } from '../context';

/** ImageNet statistics in RGB order, as fractions and ×255; reversed they are BGR order. */
const RGB_MEANS = [[0.485, 0.456, 0.406], [123.675, 116.28, 103.53], [123.68, 116.779, 103.939]];
const RGB_STDS = [[0.229, 0.224, 0.225], [58.395, 57.12, 57.375]];
/** The Pulsar docs' example std: 0.255 where ImageNet's is 0.225. */
const TYPO_STD = [0.229, 0.224, 0.255];

export function checkNormalization(ctx: LintContext): Finding[] {
  const findings: Finding[] = [];
  for (const { field, ancestors } of findFields(ctx.doc, 'input_normalization')) {
    const norm = asMessage(field);
    if (!norm) continue;
    const item = [...ancestors].reverse().find((a) => a.name === 'input_conf_items');
    const inputName = item ? selectorName(item) : null;
    const flips = channelFlipsBefore(ancestors, field);
    for (const cs of resolveColourSpaces(ctx.scopesFor(ancestors), inputName)) {
      const space = flips % 2 === 1 ? flipped(cs) : cs;
      const mean = numberList(norm, 'mean');
      const std = numberList(norm, 'std');
      for (const [which, list] of [['mean', mean], ['std', std]] as const) {
        if (list) findings.push(...checkList(ctx, which, list, space, inputName));
      }
    }
  }
  return dedupe(findings);
}

function checkList(ctx: LintContext, which: 'mean' | 'std', list: NumberList, cs: ResolvedColourSpace, input: string | null): Finding[] {
  const out: Finding[] = [];
  const where = `${which}${input ? ` of input "${input}"` : ''}`;
  const spaceText = cs.source === 'default'
    ? 'the default colour space AUTO (BGR for 3 channels)'
    : `${cs.written} (${cs.source}${cs.line ? `, line ${cs.line}` : ''})`;
  const counts = channelCounts(cs.space);
  const n = list.values.length;
  if (counts && n === 1 && !counts.includes(1)) {
    out.push(ctx.finding('norm-single-value', 'info', list.line,
      `${where} has one value for the ${counts[0]} channels of ${spaceText}`,
      `one value is used for every channel (as documented for affine_preprocess); write all ${counts[0]} to make the order explicit`));
  } else if (counts && !counts.includes(n)) {
    out.push(ctx.finding('norm-channel-count', 'error', list.line,
      `${where} has ${n} value${n === 1 ? '' : 's'} but ${spaceText} has ${counts.join(' or ')} channel${counts[0] === 1 ? '' : 's'}`,
      `write one ${which} value per channel of ${cs.space === 'AUTO' ? 'BGR' : cs.space}, in that channel order`));
  }
  if (which === 'std' && list.values.some((v) => v === 0)) {
    out.push(ctx.finding('norm-std-zero', 'error', list.line, `${where} contains 0: normalization divides by std`,
      'use 1 for channels that should not be scaled'));
  }
  if (n === 3) {
    const known = which === 'mean' ? RGB_MEANS : [...RGB_STDS, TYPO_STD];
    const rgbOrder = known.some((k) => same(list.values, k));
    const bgrOrder = known.some((k) => same(list.values, [...k].reverse()));
    const bgrLike = cs.space === 'BGR' || cs.space === 'AUTO' || cs.space === 'BGR0';
    if (rgbOrder && bgrLike) {
      out.push(ctx.finding('norm-rgb-order-for-bgr', 'error', list.line,
        `${where} [${list.values.join(', ')}] is ImageNet's ${which} in RGB order, but the input is read as BGR: ${spaceText}`,
        `write it in BGR order [${[...list.values].reverse().join(', ')}], or set color_space: TENSOR_COLOR_SPACE_RGB if the model really gets RGB`));
    } else if (bgrOrder && cs.space === 'RGB') {
      out.push(ctx.finding('norm-bgr-order-for-rgb', 'error', list.line,
        `${where} [${list.values.join(', ')}] is ImageNet's ${which} in BGR order, but the input is read as RGB: ${spaceText}`,
        `write it in RGB order [${[...list.values].reverse().join(', ')}], or set color_space: TENSOR_COLOR_SPACE_BGR if the model really gets BGR`));
    }
    if (which === 'std' && (same(list.values, TYPO_STD) || same(list.values, [...TYPO_STD].reverse()))) {
      out.push(ctx.finding('imagenet-std-typo', 'warning', list.line,
        `${where} has 0.255 where ImageNet's std is 0.225 (the Pulsar docs' example carries this typo)`,
        'use the std your model was trained with; for ImageNet that is [0.229, 0.224, 0.225] in RGB order'));
    }
  }
  return out;
}

/** Relative tolerance 0.5%: written values are rounded, but 0.485 must not match 0.456. */
function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= 0.005 * Math.abs(b[i]));
}

function selectorName(item: PtField): string | null {
  const selector = asMessage(asMessage(item) && child(asMessage(item) as PtMessage, 'selector'));
  const name = selector && child(selector, 'op_name');
  return name && name.value.kind === 'string' ? name.value.value : null;
}

/**
 * input_3rvschn / input_rvschn earlier in the same input's input_modifications swap RGB and
 * BGR before the normalization sees the data; count them.
 */
function channelFlipsBefore(ancestors: readonly PtField[], norm: PtField): number {
  const attributes = asMessage([...ancestors].reverse().find((a) => a.name === 'attributes'));
  if (!attributes) return 0;
  let flips = 0;
  for (const mod of children(attributes, 'input_modifications')) {
    const msg = asMessage(mod);
    if (!msg) continue;
    if (msg.fields.includes(norm) || mod === norm) break;
    flips += msg.fields.filter((f) => f.name === 'input_3rvschn' || f.name === 'input_rvschn').length;
    const csc = asMessage(child(msg, 'csc'));
    const dst = csc && asMessage(child(csc, 'dst_cs'));
    const type = dst && enumValue(child(dst, 'type')?.value, ['CST_']);
    const src = csc && asMessage(child(csc, 'src_cs'));
    const from = src && enumValue(child(src, 'type')?.value, ['CST_']);
    if (type && from && ((type === 'RGB' && from === 'BGR') || (type === 'BGR' && from === 'RGB'))) flips++;
  }
  return flips;
}

function flipped(cs: ResolvedColourSpace): ResolvedColourSpace {
  const space = cs.space === 'RGB' ? 'BGR' : cs.space === 'BGR' || cs.space === 'AUTO' ? 'RGB' : cs.space;
  return { ...cs, space, written: `${cs.written} swapped by input_3rvschn/csc`, source: cs.source };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}:${f.line}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
