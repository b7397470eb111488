/** The tensor-file layer: one import for its public API. */
export * from './types';
export * from './dtype';
export * from './shape';
export { decodeNpyHeader, encodeNpyHeader, openNpy, readNpyHeader, writeNpy, type NpyHeader } from './npy';
export { openBin, writeBin } from './bin';
export { npyTwinPath, openTensor, readAll, type OpenTensorOptions } from './open';
export { DEFAULT_CHUNK_BYTES } from './raw-reader';
export type { TensorData } from './raw-writer';
export { nchwToNhwc, nhwcToNchw, type LayoutResult } from './layout';
export { checkQuantization, dequantize } from './quant';
export { decodeFloat16, encodeFloat16, float32ToHalfBits } from './float16';
