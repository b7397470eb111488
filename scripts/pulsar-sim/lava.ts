/**
 * The stand-in's model.lava_joint: the quantized model before the hardware compile. A text
 * file, magic line `AXSIMLAVA 1` plus JSON, holding what later commands need to know about
 * the build that wrote it:
 *   model        the simulator joint the lava corresponds to (pulsar run computes with it)
 *   jointSha256  the joint this build wrote beside it, so pulsar run / pulsar info on that
 *                joint can find its build (the real joint carries this in its own metadata)
 *   onnxSha256   the onnx it was built from (a joint run against another onnx deviates)
 *   quantLoss / compileLoss   the build faults (faults.ts), so they outlive the variable
 *   mapping      compiled layer → onnx layers, for pulsar info --layer_mapping
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateModel, type SimModel } from '../sim/model';

export const LAVA_MAGIC = 'AXSIMLAVA 1\n';

export interface LayerGroup {
  readonly lava: string;
  readonly onnx: readonly string[];
}

export interface LavaJoint {
  readonly model: SimModel;
  readonly jointSha256: string;
  readonly onnxSha256: string;
  readonly quantLoss: boolean;
  readonly compileLoss: boolean;
  readonly mapping: readonly LayerGroup[];
}

export function serializeLava(lava: LavaJoint): string {
  return LAVA_MAGIC + JSON.stringify(lava, null, 2) + '\n';
}

export function parseLava(bytes: Buffer): LavaJoint | null {
  const magic = Buffer.from(LAVA_MAGIC, 'latin1');
  if (!bytes.subarray(0, magic.length).equals(magic)) return null;
  try {
    const v = JSON.parse(bytes.subarray(magic.length).toString('utf8')) as LavaJoint;
    return { ...v, model: validateModel(v.model), mapping: Array.isArray(v.mapping) ? v.mapping : [] };
  } catch {
    return null;
  }
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Where pulsar build leaves the lava_joint: `model.lava_joint` in the joint's folder (as in
 * the quick start's tree), and the stand-in looks for it there again.
 */
export function lavaPathFor(jointPath: string): string {
  return path.join(path.dirname(jointPath), 'model.lava_joint');
}

/** The lava_joint of the build that wrote this joint, or null (moved, or overwritten by a later build). */
export function findLavaOfJoint(jointPath: string, jointBytes: Buffer): LavaJoint | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(lavaPathFor(jointPath));
  } catch {
    return null;
  }
  const lava = parseLava(bytes);
  return lava && lava.jointSha256 === sha256(jointBytes) ? lava : null;
}

/**
 * Compiled layers: a conv followed by its batchnorm and relu becomes one layer named after
 * the last of them (its output tensor); every other layer stays itself.
 */
export function groupLayers(layers: readonly string[]): LayerGroup[] {
  const groups: LayerGroup[] = [];
  for (let i = 0; i < layers.length; i++) {
    const members = [layers[i]];
    if (/conv/i.test(layers[i])) {
      while (i + 1 < layers.length && /batchnorm|bn|relu/i.test(layers[i + 1]) && members.length < 3) members.push(layers[++i]);
    }
    groups.push({ lava: members[members.length - 1], onnx: members });
  }
  return groups;
}
