/**
 * run_joint's input preparation (`prepare_io`) and output dump, quirks included:
 *
 * - an input file that cannot be read, has the wrong size, or is not given does not stop
 *   the run: a line says so and the input keeps whatever its buffer held ("random data");
 * - `-t` resizes any readable file to the expected size first (a short file is zero-padded);
 * - the dump writes `<dir>/<name with '/' → '_'>.bin` (the path is printed as built, so
 *   `out/` gives `out//name.bin`) with `Size / shape[0] * batch` bytes, where batch is
 *   `--override_batch_size` whenever it is non-zero, even for a model without dynamic batch.
 */
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import { dumpFileName, tensorSize, type SimModel } from './model';
import { assertFail, type CStdout } from './stdio';

/** Nominal source position of run_joint's assertions (the public run_joint.cc, AX620 build). */
export const SOURCE_FILE = 'run_joint.cc';

export interface IoOptions {
  readonly strideW: number;
  readonly manualAlloc: boolean;
  readonly enableTrunc: boolean;
  readonly overrideBatchSize: number;
}

export interface PreparedIo {
  readonly batch: number;
  /** Per input: its data in C order, no stride, at least one batch-worth of bytes. */
  readonly inputs: Buffer[];
  /** Per output: the size of the buffer the runtime allocated for it. */
  readonly outputBufferSizes: number[];
}

/** C's read_file: whole file or failure. An empty file is a successful read of 0 bytes. */
export function readFileC(fn: string): Buffer | null {
  try {
    return fs.readFileSync(fn);
  } catch {
    return null;
  }
}

export function prepareIo(model: SimModel, inputFns: readonly string[], opts: IoOptions, out: CStdout): PreparedIo {
  let batch = model.maxBatchSize === 0 ? 1 : model.maxBatchSize;
  // override_batch_size reaches prepare_io as uint32_t, so any non-zero value counts.
  if (opts.overrideBatchSize !== 0 && model.dynamicBatch) batch = opts.overrideBatchSize;
  out.printf(`Using batch size ${batch}\n`);

  const inputs = model.inputs.map((spec, i) => {
    const size = tensorSize(spec);
    const itemBytes = size / spec.shape[0];
    const actual = itemBytes * batch;
    const bufferSize = opts.strideW !== 0 || opts.manualAlloc ? actual : size;
    const buf = Buffer.alloc(Math.max(size, actual, 0));
    // A strided buffer is memset to 0; the others hold whatever the allocator left there.
    if (opts.strideW === 0) randomFillSync(buf);
    if (i >= inputFns.length) {
      out.printf(`input[${i}] ${spec.name} data not provided, using random data\n`);
      return buf;
    }
    const fn = inputFns[i];
    let data = readFileC(fn);
    if (data === null) {
      out.printf(`read file ${fn} for input[${i}] ${spec.name} data failed, using random data\n`);
      return buf;
    }
    if (opts.enableTrunc) data = resize(data, actual);
    if (data.length !== actual) {
      out.printf(`read file ${fn} for input[${i}] ${spec.name} data size wrong, using random data\n`);
    } else if (opts.strideW !== 0) {
      if (data.length !== size) {
        assertFail(SOURCE_FILE, 366,
          'void load_input_data_with_stride(std::vector<char>, const AX_JOINT_IOMETA_T*, AX_JOINT_IO_BUFFER_T*)',
          'buf.size() == pMeta->nSize');
      }
      data.copy(buf);
    } else {
      if (data.length > bufferSize) {
        assertFail(SOURCE_FILE, 360, 'void load_input_data(std::vector<char>, AX_JOINT_IO_BUFFER_T*)',
          'buf.size() <= pBuf->nSize');
      }
      data.copy(buf);
    }
    return buf;
  });

  const outputBufferSizes = model.outputs.map((spec) =>
    opts.manualAlloc ? (tensorSize(spec) / spec.shape[0]) * batch : tensorSize(spec));
  return { batch, inputs, outputBufferSizes };
}

/** std::vector::resize: cut, or grow with zeros. */
function resize(data: Buffer, length: number): Buffer {
  if (length < 0) return data;
  if (data.length >= length) return data.subarray(0, length);
  return Buffer.concat([data, Buffer.alloc(length - data.length)]);
}

export interface DumpRequest {
  readonly outDir: string;
  readonly batch: number;
  readonly outputs: readonly Buffer[];
  readonly outputBufferSizes: readonly number[];
  /** Output index whose file cannot be written (fault no-dump), or -1. */
  readonly failIndex: number;
}

export function dumpOutputs(model: SimModel, req: DumpRequest, out: CStdout): void {
  const seen = new Set<string>();
  model.outputs.forEach((spec, i) => {
    const file = dumpFileName(spec.name);
    const name = file.slice(0, -'.bin'.length);
    if (seen.has(name)) {
      out.printf(`output name (${name}) conflicts!\n`);
      assertFail(SOURCE_FILE, 797, 'main(int, char**)::<lambda(const string&)>', '0');
    }
    seen.add(name);
    const fn = `${req.outDir}/${file}`;
    const bufferSize = req.outputBufferSizes[i];
    if (bufferSize <= 0) {
      out.printf(`can not dump output[${i}] ${spec.name}, it is none\n`);
      return;
    }
    const size = (bufferSize / spec.shape[0]) * req.batch;
    const ok = i !== req.failIndex && saveFile(fn, req.outputs[i], size);
    out.printf(`dump output[${i}] ${spec.name} as ${fn} ${ok ? 'success' : 'failed'}\n`);
  });
}

/** C's save_file: fopen "wb+", then one fwrite of `size` bytes; a 0-byte write counts as failure. */
function saveFile(fn: string, data: Buffer, size: number): boolean {
  let fd: number;
  try {
    fd = fs.openSync(fn, 'w+');
  } catch {
    return false;
  }
  try {
    if (size <= 0) return false;
    // Past the end of the buffer the real tool reads whatever memory follows; zeros here.
    const bytes = size <= data.length ? data.subarray(0, size) : Buffer.concat([data, Buffer.alloc(size - data.length)]);
    fs.writeSync(fd, bytes);
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
