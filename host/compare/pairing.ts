/**
 * Which files are compared with which: two files, or two folders matched by tensor name (the
 * file's base name, as run_joint and pulsar write them). Inside a folder a tensor may have a
 * `.npy` and a `.bin` (a gt folder holds both); the `.npy` is preferred, its header is exact.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileSystemError, UsageError } from '../../shared/errors';
import { allInOrder } from '../../shared/all-in-order';

export interface TensorFile {
  /** Base name without extension: the tensor name with '/' replaced by '_'. */
  readonly name: string;
  readonly path: string;
}

export type Pairing =
  | { readonly kind: 'files'; readonly ref: TensorFile; readonly got: TensorFile }
  | {
      readonly kind: 'folders';
      /** Tensors found in both folders, by name. */
      readonly pairs: { readonly name: string; readonly ref: TensorFile; readonly got: TensorFile }[];
      readonly onlyInRef: TensorFile[];
      readonly onlyInGot: TensorFile[];
    };

const TENSOR_EXT = /\.(npy|bin)$/i;

async function isFolder(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isDirectory();
  } catch (err) {
    throw fileSystemError(file, err);
  }
}

export function tensorFile(file: string): TensorFile {
  return { name: path.basename(file).replace(TENSOR_EXT, ''), path: file };
}

/** Tensor files of a folder by name; `.npy` wins over `.bin` of the same name. */
export async function listTensorFolder(dir: string): Promise<Map<string, TensorFile>> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    throw fileSystemError(dir, err);
  }
  const byName = new Map<string, TensorFile>();
  for (const entry of entries.sort()) {
    if (!TENSOR_EXT.test(entry)) continue;
    const file = tensorFile(path.join(dir, entry));
    const known = byName.get(file.name);
    if (!known || /\.npy$/i.test(entry)) byName.set(file.name, file);
  }
  if (byName.size === 0) {
    const gtRoot = entries.includes('joint') || entries.includes('onnx');
    throw new BadFileError('COMPARE_NO_TENSORS', dir, 'holds no .npy or .bin files', {
      hint: gtRoot
        ? `it looks like a gt folder: name ${path.join(dir, 'joint')} (simulator outputs) or ${path.join(dir, 'onnx')} (float outputs)`
        : 'name a folder of tensor files, e.g. gt/joint or the --bin-out-dir of run_joint',
    });
  }
  return byName;
}

export async function pairInputs(reference: string, compared: string): Promise<Pairing> {
  const [refIsFolder, gotIsFolder] = await allInOrder([isFolder(reference), isFolder(compared)]);
  if (refIsFolder !== gotIsFolder) {
    const folder = refIsFolder ? reference : compared;
    throw new BadFileError('COMPARE_FOLDER_VS_FILE', folder, `is a folder, but ${refIsFolder ? compared : reference} is a file`, {
      hint: 'give two files, or two folders whose tensor files are matched by name',
    });
  }
  if (!refIsFolder) return { kind: 'files', ref: tensorFile(reference), got: tensorFile(compared) };
  if (path.resolve(reference) === path.resolve(compared)) {
    throw new UsageError('COMPARE_SAME_FOLDER', `${reference} was given as both sides`, { hint: 'name the reference folder and the folder to judge' });
  }
  const [refs, gots] = await allInOrder([listTensorFolder(reference), listTensorFolder(compared)]);
  const pairs = [...refs.values()].filter((r) => gots.has(r.name)).map((ref) => ({ name: ref.name, ref, got: gots.get(ref.name) as TensorFile }));
  return {
    kind: 'folders',
    pairs,
    onlyInRef: [...refs.values()].filter((r) => !gots.has(r.name)),
    onlyInGot: [...gots.values()].filter((g) => !refs.has(g.name)),
  };
}
