/** Shape checks and formatting shared by the readers and writers. */
import { UsageError } from '../errors';

/** Shapes print like run_joint's log: `[1, 224, 224, 3]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Why `shape` is unusable (a dim that is not a non-negative integer, or more elements or
 * bytes than can be counted exactly), or undefined when it is fine.
 */
export function shapeProblem(shape: readonly number[], itemBytes: number): string | undefined {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) return `dimension ${String(dim)} is not a non-negative integer`;
    count *= dim;
  }
  // A zero dim makes the product 0 however large the others are.
  if (count !== 0 && !Number.isSafeInteger(count * itemBytes)) return `shape ${formatShape(shape)} is too large`;
  return undefined;
}

/** Product of `shape` (1 for a scalar `[]`); throws TENSOR_BAD_SHAPE for a bad shape. */
export function elementCount(shape: readonly number[], itemBytes = 1): number {
  const problem = shapeProblem(shape, itemBytes);
  if (problem !== undefined) {
    throw new UsageError('TENSOR_BAD_SHAPE', `bad tensor shape ${formatShape(shape)}: ${problem}`, {
      hint: 'give each dimension as a non-negative whole number, e.g. 1,3,224,224',
    });
  }
  return shape.reduce((a, b) => a * b, 1);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** Equal but for 1-sized dimensions ([1, 10] and [10]): the same tensor, differently written. */
export function sameShapeIgnoringOnes(a: readonly number[], b: readonly number[]): boolean {
  const squeeze = (shape: readonly number[]) => shape.filter((dim) => dim !== 1);
  return sameShape(squeeze(a), squeeze(b));
}
