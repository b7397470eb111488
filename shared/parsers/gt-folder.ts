/**
 * The gt folder `pulsar run --output_gt gt/` writes: what the board must be fed and what the
 * simulator produced.
 *
 *   gt/input/<input>.bin|.npy  filename.txt      gt/joint/<output>.bin|.npy   gt/onnx/<output>.bin|.npy
 *
 * Older toolchains wrote gt/input/input.bin and gt/output/output.bin instead. Files are named
 * after tensors with every '/' replaced by '_' (the same rule run_joint uses for --bin-out-dir),
 * so a file name cannot be turned back into a tensor name; findGtFile goes the other way.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileSystemError, isAxError } from '../errors';
import { allInOrder } from '../all-in-order';
import { readTextFile, statPath } from '../fs/regular-file';

export interface GtFile {
  /** The tensor name as far as the file tells it: the file name without extension. */
  readonly tensorName: string;
  /** File name without extension: the tensor name with every '/' replaced by '_'. */
  readonly fileBase: string;
  /** Path of `<fileBase>.bin`, when present. */
  readonly bin?: string;
  /** Path of `<fileBase>.npy`, when present. */
  readonly npy?: string;
}

export type GtLayout = 'input-joint-onnx' | 'input-output';

export interface GtFolder {
  readonly dir: string;
  readonly layout: GtLayout;
  readonly inputs: GtFile[];
  /** Simulator result of model.joint (empty in the older layout). */
  readonly joint: GtFile[];
  /** Float reference of model.onnx (empty in the older layout). */
  readonly onnx: GtFile[];
  /** Outputs of the older layout (gt/output/); empty in the current one. */
  readonly output: GtFile[];
  /** Lines of gt/input/filename.txt (the images pulsar run was given), when present. */
  readonly filenameTxt?: string[];
}

/** The file base name run_joint and pulsar use for a tensor: every '/' becomes '_'. */
export function tensorFileName(name: string): string {
  return name.replace(/\//g, '_');
}

/** The gt file of a tensor (whose name may contain '/'), or undefined. */
export function findGtFile(files: readonly GtFile[], tensorName: string): GtFile | undefined {
  const base = tensorFileName(tensorName);
  return files.find((f) => f.fileBase === base);
}

async function listDir(dir: string): Promise<string[] | null> {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw fileSystemError(dir, err);
  }
}

/** Pairs `<base>.bin` and `<base>.npy` of one sub-folder, sorted by name. */
async function scanTensors(dir: string): Promise<GtFile[]> {
  const names = (await listDir(dir)) ?? [];
  const byBase = new Map<string, { bin?: string; npy?: string }>();
  for (const name of names) {
    const ext = path.extname(name).toLowerCase();
    if (ext !== '.bin' && ext !== '.npy') continue;
    const base = name.slice(0, -ext.length);
    const entry = byBase.get(base) ?? {};
    entry[ext === '.bin' ? 'bin' : 'npy'] = path.join(dir, name);
    byBase.set(base, entry);
  }
  return [...byBase.keys()].sort().map((base) => ({ tensorName: base, fileBase: base, ...byBase.get(base) }));
}

export async function scanGtFolder(dir: string): Promise<GtFolder> {
  const stat = await statPath(dir);
  if (!stat.isDirectory()) {
    throw new BadFileError('GT_NOT_FOLDER', dir, 'is a file, a gt folder was expected', {
      hint: 'name the folder `pulsar run --output_gt` wrote (it holds input/, joint/ and onnx/)',
    });
  }
  const entries = new Set((await listDir(dir)) ?? []);
  const sub = (name: string) => path.join(dir, name);
  const isDir = async (name: string) => entries.has(name) && (await statPath(sub(name))).isDirectory();
  const [hasInput, hasJoint, hasOnnx, hasOutput] = await allInOrder(['input', 'joint', 'onnx', 'output'].map(isDir));
  if (!hasInput) {
    // A common slip: naming gt/joint instead of gt.
    const insideGt = ['input', 'joint', 'onnx', 'output'].includes(path.basename(path.resolve(dir)));
    throw new BadFileError('GT_NO_INPUT', dir, 'is not a gt folder: it has no input/ sub-folder', {
      hint: insideGt
        ? `name its parent folder ${path.dirname(path.resolve(dir))} instead`
        : 'name the folder `pulsar run --output_gt` wrote (it holds input/, joint/ and onnx/)',
    });
  }
  if (!hasJoint && !hasOnnx && !hasOutput) {
    throw new BadFileError('GT_NO_OUTPUTS', dir, 'is not a complete gt folder: it has input/ but no joint/, onnx/ or output/', {
      hint: 'run `pulsar run ... --output_gt` again so it writes the simulator outputs',
    });
  }
  const [inputs, joint, onnx, output] = await allInOrder([
    scanTensors(sub('input')),
    hasJoint ? scanTensors(sub('joint')) : [],
    hasOnnx ? scanTensors(sub('onnx')) : [],
    hasOutput ? scanTensors(sub('output')) : [],
  ]);
  const layout: GtLayout = hasJoint || hasOnnx ? 'input-joint-onnx' : 'input-output';
  const folder: GtFolder = { dir, layout, inputs, joint, onnx, output };
  const filenameTxt = await readLines(path.join(sub('input'), 'filename.txt'));
  return filenameTxt ? { ...folder, filenameTxt } : folder;
}

async function readLines(file: string): Promise<string[] | undefined> {
  try {
    return (await readTextFile(file, { what: 'a list of image names' })).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  } catch (err) {
    // Only names the images for messages: missing (or a link to nowhere) is fine.
    if (isAxError(err) && err.code === 'FILE_NOT_FOUND') return undefined;
    throw err;
  }
}
