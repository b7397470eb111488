/**
 * The contract between tensor readers (npy / bin) and their consumers (metrics, compare,
 * verify). Readers yield data in C order, native byte order, in chunks, so a pass over a
 * large tensor never holds it whole.
 */

/** Element types axctl reads and writes. run_joint's `sint8` etc. map to `int8` etc. */
export type DType =
  | 'bool'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64';

/**
 * What a chunk is. float16 is decoded to Float32Array; bool arrives as Uint8Array (0/1);
 * int64/uint64 as BigInt64Array/BigUint64Array.
 */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface TensorInfo {
  /** Where the data came from (a file path), for messages. */
  readonly path: string;
  readonly dtype: DType;
  /** Shape in C order (already converted if the file was Fortran order). */
  readonly shape: readonly number[];
  /** Number of elements (product of shape; 1 for a scalar). */
  readonly length: number;
}

export interface TensorSource {
  readonly info: TensorInfo;
  /**
   * Yields consecutive chunks covering all `info.length` elements in C order. Chunks hold at
   * most `chunkElements` elements (a reader may choose a default). Each call starts over.
   */
  chunks(chunkElements?: number): AsyncIterable<NumericArray>;
}
