/**
 * Does a simulator output file (gt/joint, or the older gt/output) fit the model's output as
 * run_joint lists it? A board dump that fits the listing compared with a gt file that does
 * not (another model's gt folder, an edited or re-saved file) says nothing about the board:
 * that is a bad local file (exit 2), never a `mismatch` blamed on the board.
 */
import { BadFileError } from '../../shared/errors';
import type { GtFile } from '../../shared/parsers/gt-folder';
import { isFloatDType } from '../../shared/tensor/dtype';
import { sameShapeIgnoringOnes } from '../../shared/tensor/shape';
import type { TensorSource } from '../../shared/tensor/types';
import type { Spec } from './tensors';

/** Throws GT_OUTPUT_MISFIT when `ref` (read from `file`) cannot be the simulator's copy of an output listed as `spec`. */
export function assertGtOutputFits(file: GtFile, ref: TensorSource, output: { name: string; spec: Spec; q: number | null }): void {
  const { spec } = output;
  const listed = `${spec.dtype} [${spec.shape.join(', ')}]`;
  const held = `${ref.info.dtype} [${ref.info.shape.join(', ')}]`;
  const misfit = (what: string) =>
    new BadFileError('GT_OUTPUT_MISFIT', file.npy ?? file.bin!, `holds ${held}, but the model's output '${output.name}' is ${listed} in run_joint's listing (${what}); the board's output was not judged`, {
      hint: 'this gt folder was made for another model, or the file was changed: run `pulsar run --output_gt` again with this model',
    });
  const elements = spec.shape.reduce((a, b) => a * b, 1);
  if (ref.info.length !== elements) throw misfit(`${ref.info.length} elements instead of ${elements}`);
  // Shapes that differ only in 1-sized dimensions are the same tensor (the comparison notes it).
  if (!sameShapeIgnoringOnes(ref.info.shape, spec.shape)) throw misfit('another shape with the same element count: another layout?');
  // A float gt for an integer output with a Q is the dequantized output (compared as such); an
  // integer gt for a float output is never the simulator's.
  const refFloat = isFloatDType(ref.info.dtype);
  const outFloat = isFloatDType(spec.dtype);
  if (refFloat !== outFloat && !(refFloat && output.q !== null && output.q > 0)) throw misfit(refFloat ? 'float data for an integer output with no Q' : 'integer data for a float output');
}
