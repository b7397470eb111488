/**
 * A small model's files as pulsar run and run_joint leave them, written into a temp folder:
 *   gt/joint/<name>.npy+.bin  simulator outputs (the model's dtypes)
 *   gt/onnx/<name>.npy        float outputs (the joint ones dequantized, plus a little noise)
 *   out/<name>.bin            board dumps, identical to gt/joint
 *   run_joint.log             the board's log (dtype, shape, Q per output)
 * Output names follow test/fixtures/compare/run_joint-q.log; '/head/conv_out' is stored as
 * '_head_conv_out' like run_joint does.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { writeBin, writeNpy } from '../../shared/tensor';
import type { DType, NumericArray } from '../../shared/tensor/types';

export const LOG_FIXTURE = path.join(__dirname, '../fixtures/compare/run_joint-q.log');

export interface ScenarioTensor {
  name: string;
  dtype: DType;
  shape: number[];
  joint: NumericArray;
  q: number | null;
}

export function scenarioTensors(): ScenarioTensor[] {
  return [
    { name: '_head_conv_out', dtype: 'int16', shape: [1, 2, 2, 3], joint: Int16Array.from({ length: 12 }, (_, i) => (i - 6) * 300), q: 256 },
    { name: 'prob', dtype: 'float32', shape: [1, 10], joint: Float32Array.from({ length: 10 }, (_, i) => ((i * 7) % 10) / 45), q: null },
    { name: 'logits_q', dtype: 'int8', shape: [1, 10], joint: Int8Array.from({ length: 10 }, (_, i) => ((i * 3) % 10) * 12 - 50), q: 16 },
  ];
}

/** Deterministic small noise in [-amp, amp]. */
function noise(i: number, amp: number): number {
  return Math.sin(i * 12.9898) * amp;
}

export async function writeScenario(dir: string): Promise<ScenarioTensor[]> {
  const tensors = scenarioTensors();
  for (const sub of ['gt/joint', 'gt/onnx', 'out']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const t of tensors) {
    await writeNpy(path.join(dir, 'gt/joint', `${t.name}.npy`), t.dtype, t.shape, t.joint);
    await writeBin(path.join(dir, 'gt/joint', `${t.name}.bin`), t.joint);
    await writeBin(path.join(dir, 'out', `${t.name}.bin`), t.joint);
    const real = Float32Array.from(t.joint as ArrayLike<number>, (v, i) => v / (t.q ?? 1) + noise(i, 0.01));
    await writeNpy(path.join(dir, 'gt/onnx', `${t.name}.npy`), 'float32', t.shape, real);
  }
  copyFileSync(LOG_FIXTURE, path.join(dir, 'run_joint.log'));
  return tensors;
}
