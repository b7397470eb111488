/**
 * Is a dataset path a tar archive, and how many files does it hold? Pulsar reads calibration
 * and error-measurement sets as tar archives (DATASET_TYPE_TAR). A tar is recognised by its
 * first header: the magic "ustar" at offset 257 (POSIX, GNU and PAX archives) or, for old V7
 * archives, a valid header checksum; a gzip file (1f 8b) is opened far enough to see that
 * header. Files of an uncompressed tar are counted by hopping from header to header, which
 * costs one small read per file even for a multi-gigabyte archive.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';

export type DatasetFile =
  | { readonly kind: 'missing' }
  | { readonly kind: 'folder' }
  | { readonly kind: 'unreadable'; readonly reason: string }
  | { readonly kind: 'not-tar'; readonly looksLike: string }
  | { readonly kind: 'tar'; readonly compressed: boolean; readonly files: number | null };

const BLOCK = 512;
const MAX_HEADERS = 2_000_000;

export async function inspectDatasetFile(file: string): Promise<DatasetFile> {
  let stat;
  try {
    stat = await fsp.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  if (stat.isDirectory()) return { kind: 'folder' };
  // Opening a FIFO waits for a writer, forever: lint must not hang on a path in a config.
  if (!stat.isFile()) return { kind: 'not-tar', looksLike: 'a device, socket or pipe, not a regular file' };
  let handle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  try {
    const head = Buffer.alloc(BLOCK);
    const { bytesRead } = await handle.read(head, 0, BLOCK, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      const inner = await gunzipHead(file);
      return isTarHeader(inner) ? { kind: 'tar', compressed: true, files: null } : { kind: 'not-tar', looksLike: 'a gzip file that does not contain a tar archive' };
    }
    if (bytesRead < BLOCK || !isTarHeader(head)) return { kind: 'not-tar', looksLike: describe(head.subarray(0, bytesRead)) };
    return { kind: 'tar', compressed: false, files: await countFiles(handle, stat.size) };
  } finally {
    await handle.close();
  }
}

export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  if (block.toString('latin1', 257, 262) === 'ustar') return true;
  // V7: no magic, but the checksum (sum of the header with its checksum field as spaces) holds.
  const stored = parseInt(block.toString('latin1', 148, 156).replace(/[\0 ]+/g, ' ').trim(), 8);
  if (!Number.isFinite(stored) || block.every((b) => b === 0)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === stored;
}

async function countFiles(handle: fsp.FileHandle, size: number): Promise<number> {
  const header = Buffer.alloc(BLOCK);
  let offset = 0;
  let files = 0;
  for (let n = 0; n < MAX_HEADERS && offset + BLOCK <= size; n++) {
    await handle.read(header, 0, BLOCK, offset);
    if (header.every((b) => b === 0)) break;
    const type = String.fromCharCode(header[156]);
    const length = entrySize(header);
    // '0' and NUL are regular files; '7' contiguous files. Links, folders, PAX/GNU meta are not.
    if (type === '0' || type === '\0' || type === '7') files++;
    offset += BLOCK + Math.ceil(length / BLOCK) * BLOCK;
  }
  return files;
}

/** Size field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function entrySize(header: Buffer): number {
  if (header[124] & 0x80) {
    let v = 0;
    for (let i = 125; i < 136; i++) v = v * 256 + header[i];
    return v;
  }
  const n = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
  return Number.isFinite(n) ? n : 0;
}

function gunzipHead(file: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const input = createReadStream(file);
    const gunzip = createGunzip();
    const done = () => {
      input.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(chunks).subarray(0, BLOCK));
    };
    gunzip.on('data', (c: Buffer) => {
      chunks.push(c);
      length += c.length;
      if (length >= BLOCK) done();
    });
    gunzip.on('end', done);
    gunzip.on('error', done);
    input.on('error', done);
    input.pipe(gunzip);
  });
}

function describe(head: Buffer): string {
  if (head.length === 0) return 'an empty file';
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'a zip archive';
  if (head[0] === 0xff && head[1] === 0xd8) return 'a JPEG image';
  if (head.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))) return 'a PNG image';
  if (head.subarray(0, 6).equals(Buffer.from('\x93NUMPY', 'latin1'))) return 'a .npy array';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'a bzip2 file';
  if (head.subarray(0, 6).equals(Buffer.from('\xfd7zXZ\0', 'latin1'))) return 'an xz file';
  return 'neither tar nor gzip';
}
