/**
 * Turning `axctl inspect` options into what the service needs. Bad values are refused here,
 * before any file is opened.
 */
import { UsageError } from '../../shared/errors';
import { parseDTypeOption } from '../../shared/tensor/dtype';
import type { DType } from '../../shared/tensor/types';

export interface InspectOptions {
  /** Element type of a raw `.bin` (our names or run_joint's: float32, sint8...). */
  dtype?: DType;
  /** Shape of a raw `.bin`, C order. */
  shape?: number[];
}

/** `1,3,224,224`, `1x3x224x224` or `[1, 3, 224, 224]` → [1, 3, 224, 224]; `[]` is a scalar. */
export function parseShapeOption(text: string): number[] {
  const inner = text.trim().replace(/^\[(.*)\]$/, '$1').trim();
  if (inner === '') return [];
  const parts = inner.split(/\s*[,x×]\s*/);
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) {
    throw new UsageError('INSPECT_BAD_SHAPE', `--shape '${text}' is not a list of whole numbers`, {
      hint: 'write it like 1,3,224,224',
    });
  }
  return dims;
}

export function parseInspectOptions(argv: { dtype?: string; shape?: string }): InspectOptions {
  const options: InspectOptions = {};
  if (argv.dtype !== undefined) options.dtype = parseDTypeOption(argv.dtype);
  if (argv.shape !== undefined) options.shape = parseShapeOption(argv.shape);
  return options;
}
