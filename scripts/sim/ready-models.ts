/**
 * Ready-made simulator joints for demos and tests.
 *
 * - classifier: one input `data` [1, 32, 32, 3] NHWC uint8 RGB (a 32×32 image instead of
 *   224×224 keeps tests fast), one output `resnetv15_dense0_fwd` [1, 10] float32; reports
 *   and timing copied from the real resnet18 log (fixtures/run_joint/ax620-resnet18-8bit.log).
 * - multi-input: inputs in an order that is not alphabetical (`rgb_image`, `depth`, `aux`:
 *   uint8 RGB, uint16 feature map, float32), outputs `head/cls_score` (sint8 NHWC Q=32) and
 *   `head/bbox/pred` (float32 NCHW) whose dump names become `head_cls_score.bin` and
 *   `head_bbox_pred.bin`; it has a CPU tail (an AXE component) like the real resnet50 log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { serializeModel, validateModel, type SimModel } from './model';

export type ModelKind = 'classifier' | 'multi-input';
export const MODEL_KINDS: readonly ModelKind[] = ['classifier', 'multi-input'];

const CLASSIFIER: SimModel = {
  toolsVersion: '0.6.1.4',
  toolsHash: '59588c54',
  npuType: '1_1',
  quantization: '8 bit',
  maxBatchSize: 1,
  dynamicBatch: false,
  filterMode: false,
  seed: 1,
  inputs: [{ name: 'data', shape: [1, 32, 32, 3], layout: 'NHWC', dtype: 'uint8', colorSpace: 'RGB', memory: 'Physical' }],
  outputs: [{ name: 'resnetv15_dense0_fwd', shape: [1, 10], layout: 'NHWC', dtype: 'float32', memory: 'Physical' }],
  profile: {
    createHandleUs: 569690,
    components: [{ type: 'neu', coreUs: 5378, overheadUs: 10, initUs: 10770 }],
    cmmUsage: 13761984,
    perfCntTotal: 4190383,
    perfCntEu: [2543447, 0, 0, 2645657, 0],
  },
};

const MULTI_INPUT: SimModel = {
  toolsVersion: '0.6.1.4',
  toolsHash: '59588c54',
  npuType: '1_1',
  quantization: 'mix',
  maxBatchSize: 1,
  dynamicBatch: false,
  filterMode: false,
  seed: 2,
  inputs: [
    { name: 'rgb_image', shape: [1, 16, 16, 3], layout: 'NHWC', dtype: 'uint8', colorSpace: 'RGB', memory: 'Physical' },
    { name: 'depth', shape: [1, 16, 16, 1], layout: 'NHWC', dtype: 'uint16', colorSpace: 'FeatureMap', memory: 'Physical' },
    { name: 'aux', shape: [1, 1, 1, 8], layout: 'NHWC', dtype: 'float32', colorSpace: 'FeatureMap', memory: 'Physical' },
  ],
  outputs: [
    { name: 'head/cls_score', shape: [1, 4, 4, 6], layout: 'NHWC', dtype: 'sint8', memory: 'Physical', q: 32 },
    { name: 'head/bbox/pred', shape: [1, 4, 4, 4], layout: 'NCHW', dtype: 'float32', memory: 'Virtual' },
  ],
  profile: {
    createHandleUs: 1830940,
    components: [
      { type: 'neu', coreUs: 32626, overheadUs: 22, initUs: 44760 },
      { type: 'axe', coreUs: 43, overheadUs: 4, initUs: 13890 },
    ],
    cmmUsage: 21345280,
    perfCntTotal: 28734551,
    perfCntEu: [17435216, 0, 0, 16877193, 0],
  },
};

export function readyModel(kind: ModelKind): SimModel {
  return kind === 'classifier' ? CLASSIFIER : MULTI_INPUT;
}

/** Writes a model file atomically (temp file + rename); validates it first. */
export function writeModelFile(model: SimModel, file: string): void {
  const text = serializeModel(validateModel(model));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
