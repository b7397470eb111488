/**
 * Deciding what a path holds, by content first: logs get renamed, copied out of terminals
 * and saved as .txt, so the extension only settles what content cannot (.bin, .prototxt).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileSystemError } from '../../shared/errors';
import { isMostlyText } from '../../shared/parsers/problems';
import { looksLikePulsarRunLog } from '../../shared/parsers/pulsar-run-log';
import { looksLikeRunJointLog } from '../../shared/parsers/run-joint-log';
import { npyTwinPath } from '../../shared/tensor/open';
import type { InspectOptions } from './options';

export type Detected =
  | { kind: 'gt-folder' }
  | { kind: 'npy' | 'bin' }
  | { kind: 'run_joint-log' | 'pulsar-run-log' | 'prototxt' | 'text'; text: string };

/** Text kinds are read whole; anything larger is not a log or config a person wrote. */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;
const HEAD_BYTES = 64 * 1024;
const NPY_MAGIC = Buffer.from('\x93NUMPY', 'latin1');
const PROTOTXT_EXTENSIONS = ['.prototxt', '.pbtxt', '.prototext', '.textproto', '.txtpb'];
/** Names that say "text" so plainly that --dtype/--shape on them is a mistake, not a hint. */
const TEXT_EXTENSIONS = [...PROTOTXT_EXTENSIONS, '.log', '.txt'];

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function readHead(file: string, size: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, HEAD_BYTES));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function detectKind(file: string, options: InspectOptions): Promise<Detected> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    throw fileSystemError(file, err);
  }
  if (stat.isDirectory()) return { kind: 'gt-folder' };
  if (!stat.isFile()) {
    throw new BadFileError('INSPECT_NOT_A_FILE', file, 'is not a regular file or folder (a device, socket or pipe)', {
      hint: 'name a log, a prototxt, a tensor file or a gt folder',
    });
  }
  if (stat.size === 0) {
    throw new BadFileError('INSPECT_EMPTY_FILE', file, 'is empty (0 bytes), there is nothing to inspect', {
      hint: 'whatever should have written it failed or was interrupted; produce it again',
    });
  }
  const ext = path.extname(file).toLowerCase();
  let head: Buffer;
  try {
    head = await readHead(file, stat.size);
  } catch (err) {
    throw fileSystemError(file, err);
  }
  if (head.subarray(0, NPY_MAGIC.length).equals(NPY_MAGIC) || ext === '.npy') return { kind: 'npy' };
  const tensorOptions = options.dtype !== undefined || options.shape !== undefined;
  if (ext === '.bin' || (tensorOptions && !TEXT_EXTENSIONS.includes(ext))) return { kind: 'bin' };
  if (!isMostlyText(head.toString('utf8'))) {
    if (await exists(npyTwinPath(file))) return { kind: 'bin' };
    throw new BadFileError('INSPECT_NOT_TEXT', file, 'holds binary data: it is not a run_joint log, a pulsar run log, a prototxt or an .npy', {
      hint: 'to read it as a raw tensor pass --dtype and --shape (e.g. --dtype float32 --shape 1,1000)',
    });
  }
  if (stat.size > MAX_TEXT_BYTES) {
    throw new BadFileError('INSPECT_TOO_LARGE', file, `is ${stat.size} bytes of text, too large for a log or config`, {
      hint: 'cut out the part to inspect, or pass --dtype and --shape to read it as a raw tensor',
    });
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw fileSystemError(file, err);
  }
  const kind: Detected['kind'] = PROTOTXT_EXTENSIONS.includes(ext)
    ? 'prototxt'
    : looksLikeRunJointLog(text)
      ? 'run_joint-log'
      : looksLikePulsarRunLog(text)
        ? 'pulsar-run-log'
        : 'text';
  return { kind, text } as Detected;
}
