/**
 * numpy's .npy format (format versions 1.0, 2.0 and 3.0):
 *
 *   \x93NUMPY  major minor  header-length (uint16 LE in 1.0, uint32 LE in 2.0/3.0)
 *   header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *           (latin-1 in 1.0/2.0, UTF-8 in 3.0), padded with spaces and a newline
 *   data:   product(shape) × itemsize bytes, nothing after
 *
 * The header is parsed by a literal parser, never evaluated. Data streams in chunks, except
 * Fortran-order files of rank ≥ 2, which are read whole and reordered to C order.
 */
import { open } from 'node:fs/promises';
import { BadFileError, fileSystemError, quoteForMessage } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { descrOf, dtypeFromDescr, DTYPE_BYTES, type ByteOrder } from './dtype';
import { fortranToC } from './fortran';
import { parsePyLiteral, PyDict, PyLiteralError, PyTuple, type PyValue } from './py-literal';
import { chunkElementsFor, emptyFileError, readRegionChunks, readRegionWhole, tensorFileSize, type StoredRegion } from './raw-reader';
import { writeElements, type TensorData } from './raw-writer';
import { elementCount, formatShape, shapeProblem } from './shape';
import type { DType, NumericArray, TensorSource } from './types';

export interface NpyHeader {
  version: 1 | 2 | 3;
  dtype: DType;
  byteOrder: ByteOrder;
  fortranOrder: boolean;
  /** As written in the header (for Fortran order: the logical shape, not the memory order). */
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
  /** product(shape) × itemsize; the file is exactly dataOffset + dataBytes long. */
  dataBytes: number;
}

const MAGIC = Buffer.from('\x93NUMPY', 'latin1');
/** numpy itself refuses headers over 10 000 bytes by default; allow more, but not unbounded. */
const MAX_HEADER_BYTES = 1024 * 1024;

const NOT_NPY_HINT = 'if it holds raw data, give it a .bin name and pass --dtype and --shape';
/** For a file cut short: it was not written to the end. */
const TRUNCATED_HINT = 'it was not written to the end, e.g. a full disk or an interrupted copy; write it again with numpy.save';
/** For a header numpy.save would never write. */
const DAMAGED_HINT = 'the file is damaged or was not written by numpy.save; write it again with numpy.save';

/** Why numpy types we cannot read are refused, by descr kind letter. */
const UNSUPPORTED_KINDS: Record<string, string> = {
  c: 'complex numbers',
  O: 'Python objects (pickled)',
  U: 'unicode strings',
  S: 'byte strings',
  a: 'byte strings',
  V: 'raw void records',
  M: 'datetimes',
  m: 'timedeltas',
};

/** Every .npy error says what to do: `hint` is required. */
function bad(file: string, code: string, problem: string, hint: string): BadFileError {
  return new BadFileError(code, file, problem, { hint });
}

interface Preamble {
  version: 1 | 2 | 3;
  /** Where the header text starts and the data starts. */
  headerStart: number;
  dataOffset: number;
}

/** Magic, version and header length; `head` holds at least the first 12 bytes (or the file). */
function decodePreamble(file: string, head: Uint8Array, fileSize: number): Preamble {
  const magicSeen = Buffer.from(head.subarray(0, MAGIC.length));
  if (!MAGIC.subarray(0, magicSeen.length).equals(magicSeen)) {
    throw bad(file, 'NPY_BAD_MAGIC', 'is not a .npy file (it does not start with \\x93NUMPY)', NOT_NPY_HINT);
  }
  const cutShort = (): BadFileError => bad(file, 'NPY_TRUNCATED', `is cut short: ${fileSize} bytes, inside the .npy preamble`, TRUNCATED_HINT);
  if (fileSize < 8 || head.length < 8) throw cutShort();
  const major = head[6];
  const minor = head[7];
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw bad(file, 'NPY_BAD_VERSION', `has .npy format version ${major}.${minor}; 1.0, 2.0 and 3.0 are supported`, 'save it again with numpy.save');
  }
  const headerStart = major === 1 ? 10 : 12;
  if (fileSize < headerStart || head.length < headerStart) throw cutShort();
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const headerBytes = major === 1 ? view.readUInt16LE(8) : view.readUInt32LE(8);
  if (headerBytes > MAX_HEADER_BYTES) throw bad(file, 'NPY_BAD_HEADER', `declares a ${headerBytes}-byte header (limit ${MAX_HEADER_BYTES})`, DAMAGED_HINT);
  const dataOffset = headerStart + headerBytes;
  if (fileSize < dataOffset) throw bad(file, 'NPY_TRUNCATED', `is cut short: the header needs ${dataOffset} bytes, the file has ${fileSize}`, TRUNCATED_HINT);
  return { version: major, headerStart, dataOffset };
}

/**
 * Decodes the preamble and header and checks the file size against the shape. `head` holds
 * the file's first bytes — at least preamble + header, or the whole file if it is shorter;
 * `fileSize` is the full size.
 */
export function decodeNpyHeader(file: string, head: Uint8Array, fileSize: number): NpyHeader {
  const { version, headerStart, dataOffset } = decodePreamble(file, head, fileSize);
  if (head.length < dataOffset) throw bad(file, 'NPY_TRUNCATED', `is cut short: the header needs ${dataOffset} bytes, only ${head.length} were read`, TRUNCATED_HINT);
  const text = headerText(file, head.subarray(headerStart, dataOffset), version);
  const { dtype, byteOrder, fortranOrder, shape } = headerFields(file, text);
  const itemBytes = DTYPE_BYTES[dtype];
  const problem = shapeProblem(shape, itemBytes);
  if (problem !== undefined) throw bad(file, 'NPY_BAD_HEADER', `has a bad shape in its header: ${problem}`, DAMAGED_HINT);
  const dataBytes = shape.reduce((a, b) => a * b, 1) * itemBytes;
  const actual = fileSize - dataOffset;
  if (actual !== dataBytes) {
    const needs = `shape ${formatShape(shape)} of ${dtype} needs ${dataBytes} data bytes, the file has ${actual}`;
    const what = actual < dataBytes ? `is cut short: ${needs}` : `has ${actual - dataBytes} bytes of trailing data: ${needs}`;
    throw bad(file, 'NPY_SIZE_MISMATCH', what, 'the file is damaged or was not written by numpy.save; write it again');
  }
  return { version, dtype, byteOrder, fortranOrder, shape, dataOffset, dataBytes };
}

function headerText(file: string, bytes: Uint8Array, major: number): string {
  if (major !== 3) return Buffer.from(bytes).toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad(file, 'NPY_BAD_HEADER', 'has a version 3.0 header that is not valid UTF-8', DAMAGED_HINT);
  }
}

function headerFields(file: string, text: string): { dtype: DType; byteOrder: ByteOrder; fortranOrder: boolean; shape: number[] } {
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (err) {
    if (!(err instanceof PyLiteralError)) throw err;
    throw bad(file, 'NPY_BAD_HEADER', `has an unreadable header (${err.message})`, DAMAGED_HINT);
  }
  const keys = dict instanceof PyDict ? [...dict.entries.keys()].sort().join(',') : '';
  if (!(dict instanceof PyDict) || keys !== 'descr,fortran_order,shape') {
    throw bad(file, 'NPY_BAD_HEADER', "has a header that is not a dict of exactly 'descr', 'fortran_order' and 'shape'", DAMAGED_HINT);
  }
  const descr = dict.entries.get('descr');
  const fortranOrder = dict.entries.get('fortran_order');
  const shapeValue = dict.entries.get('shape');
  if (typeof fortranOrder !== 'boolean') throw bad(file, 'NPY_BAD_HEADER', "has a header whose 'fortran_order' is not True or False", DAMAGED_HINT);
  const items = shapeValue instanceof PyTuple ? shapeValue.items : Array.isArray(shapeValue) ? shapeValue : undefined;
  if (!items || !items.every((d): d is number => typeof d === 'number')) {
    throw bad(file, 'NPY_BAD_HEADER', "has a header whose 'shape' is not a tuple of integers", DAMAGED_HINT);
  }
  if (typeof descr !== 'string') {
    throw bad(file, 'NPY_UNSUPPORTED_DTYPE', 'holds a structured (record) dtype; only plain numeric and bool arrays are supported',
      "save each field as its own array, e.g. numpy.save('x.npy', a['x'])");
  }
  const parsed = dtypeFromDescr(descr);
  if (!parsed) {
    const kind = UNSUPPORTED_KINDS[descr.replace(/^[<>|=]/, '')[0] ?? ''];
    const what = kind ? ` (${kind})` : '';
    throw bad(file, 'NPY_UNSUPPORTED_DTYPE', `has dtype ${quoteForMessage(descr)}${what}; supported are bool, (u)int8–64, float16/32/64`, 'convert it with numpy, e.g. a.astype(numpy.float32)');
  }
  return { ...parsed, fortranOrder, shape: items };
}

/** Reads and checks the header of a .npy file, including that its size matches the shape. */
export async function readNpyHeader(file: string): Promise<NpyHeader> {
  const size = await tensorFileSize(file);
  if (size === 0) throw emptyFileError(file);
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw fileSystemError(file, err);
  }
  try {
    const readHead = async (length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(Math.min(size, length));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    };
    // Magic, version and length are checked before the length field is trusted.
    const { dataOffset } = decodePreamble(file, await readHead(12), size);
    return decodeNpyHeader(file, await readHead(dataOffset), size);
  } catch (err) {
    throw fileSystemError(file, err);
  } finally {
    await fh.close();
  }
}

/** A streaming source over a .npy file; the header is checked now, the data when read. */
export async function openNpy(file: string): Promise<TensorSource> {
  const header = await readNpyHeader(file);
  const length = header.dataBytes / DTYPE_BYTES[header.dtype];
  const region: StoredRegion = { path: file, dtype: header.dtype, byteOrder: header.byteOrder, offset: header.dataOffset, length };
  const info = { path: file, dtype: header.dtype, shape: header.shape, length };
  if (!header.fortranOrder || header.shape.length <= 1) {
    return { info, chunks: (n?: number) => readRegionChunks(region, chunkElementsFor(header.dtype, n)) };
  }
  return { info, chunks: (n?: number) => wholeInChunks(region, header.shape, chunkElementsFor(header.dtype, n)) };
}

async function* wholeInChunks(region: StoredRegion, shape: number[], chunkElements: number): AsyncGenerator<NumericArray> {
  const data = fortranToC(await readRegionWhole(region), shape);
  for (let i = 0; i < data.length; i += chunkElements) yield data.subarray(i, i + chunkElements);
}

/** Preamble + header for a C-order little-endian array: version 1.0 unless it needs 2.0. */
export function encodeNpyHeader(dtype: DType, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const version = 10 + dict.length + 1 <= 0xffff ? 1 : 2;
  const preamble = version === 1 ? 10 : 12;
  // numpy pads so the data starts on a 64-byte boundary.
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const out = Buffer.alloc(total, 0x20);
  MAGIC.copy(out, 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) out.writeUInt16LE(total - preamble, 8);
  else out.writeUInt32LE(total - preamble, 8);
  out.write(dict, preamble, 'latin1');
  out[total - 1] = 0x0a;
  return out;
}

/**
 * Writes a .npy (version 1.0, little-endian, C order) atomically. `data` is one typed array
 * or an async iterable of them, each of the class chunks of `dtype` arrive in (float16:
 * Float32Array, bool: Uint8Array), with product(shape) elements in all.
 */
export async function writeNpy(file: string, dtype: DType, shape: readonly number[], data: TensorData): Promise<void> {
  const expected = elementCount(shape, DTYPE_BYTES[dtype]);
  await writeFileAtomic(file, async (write) => {
    await write(encodeNpyHeader(dtype, shape));
    await writeElements(write, file, dtype, data, expected);
  });
}
