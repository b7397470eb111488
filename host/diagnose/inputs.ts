/**
 * The files a diagnosis works with: the ones given, checked to exist before anything runs,
 * completed from the joint's build record (.axctl/builds.json knows the onnx, both configs and
 * the lava_joint of every `axctl build`). A recorded file is used only when it still has the
 * content the build recorded, so a rebuilt or edited file is never mistaken for the build's.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileSystemError } from '../../shared/errors';
import { buildRecordsPath, findBuildsOfModel, readBuildRecords, type BuildRecord, type FileRecord } from '../toolchain/build-records';
import { fileExists, requireFile, sha256File } from '../toolchain/files';
import type { DiagnoseOptions } from './options';

export interface ResolvedInputs {
  onnx: string | null;
  joint: string | null;
  lava: string | null;
  config: string | null;
  outputConfig: string | null;
  gt: string | null;
  lavaGt: string | null;
  inputs: string[];
  layers: string[];
  calibrationImage: string | null;
  buildLog: string | null;
  verifyReport: string | null;
  /** The build of the joint (or lava_joint), when recorded. */
  record: BuildRecord | null;
  /** Which files came from the build record ('onnx', 'output config', ...). */
  fromRecord: string[];
  /** The build records read when none was found for the joint (to say where axctl looked). */
  noRecordIn?: string;
}

const abs = (p: string | undefined) => (p === undefined || p === '' ? null : path.resolve(p));

export async function resolveInputs(o: DiagnoseOptions, stateDir: string): Promise<ResolvedInputs> {
  const r: ResolvedInputs = {
    onnx: abs(o.onnx), joint: abs(o.joint), lava: abs(o.lavaJoint), config: abs(o.config), outputConfig: abs(o.outputConfig),
    gt: abs(o.gt), lavaGt: abs(o.lavaGt), inputs: (o.inputs ?? []).map((p) => path.resolve(p)), layers: [...(o.layers ?? [])],
    calibrationImage: abs(o.calibrationImage), buildLog: abs(o.buildLog), verifyReport: abs(o.verifyReport),
    record: null, fromRecord: [],
  };
  const files: [string | null, string][] = [
    [r.onnx, 'onnx model (--onnx)'], [r.joint, 'compiled model (--joint)'], [r.lava, 'lava_joint (--lava-joint)'],
    [r.config, 'build config (--config)'], [r.outputConfig, 'output config (--output-config)'],
    [r.calibrationImage, 'calibration image (--calibration-image)'], [r.buildLog, 'build log (--build-log)'],
    [r.verifyReport, 'verify report (--verify-report)'], ...r.inputs.map((i): [string, string] => [i, 'input (--input)']),
  ];
  for (const [file, what] of files) if (file) await requireFile(file, what);
  for (const [dir, what] of [[r.gt, '--gt'], [r.lavaGt, '--lava-gt']] as const) if (dir) await requireFolder(dir, what);
  if (o.useBuildRecords !== false) await completeFromRecord(r, stateDir);
  return r;
}

/** Fills what the user left out from the build record of the joint (or lava_joint). */
async function completeFromRecord(r: ResolvedInputs, stateDir: string): Promise<void> {
  const model = r.joint ?? r.lava;
  if (!model) return;
  // Identical builds give identical joints: the build of this very file first, else the newest.
  const records = buildRecordsPath(stateDir);
  const builds = findBuildsOfModel(await readBuildRecords(records), await sha256File(model));
  const record = builds.find((b) => b.joint.path === model || b.lavaJoint?.path === model) ?? builds[0];
  if (!record) {
    r.noRecordIn = records;
    return;
  }
  r.record = record;
  const take = async (key: 'onnx' | 'config' | 'outputConfig' | 'lava' | 'joint', file: FileRecord | null, what: string) => {
    if (r[key] !== null || !file || !(await unchanged(file))) return;
    r[key] = file.path;
    r.fromRecord.push(what);
  };
  await take('onnx', record.onnx, 'onnx');
  await take('config', record.config, 'config');
  await take('outputConfig', record.outputConfig, 'output config');
  await take('lava', record.lavaJoint, 'lava_joint');
  await take('joint', record.joint, 'joint');
}

async function unchanged(file: FileRecord): Promise<boolean> {
  return (await fileExists(file.path)) && (await sha256File(file.path)) === file.sha256;
}

async function requireFolder(dir: string, option: string): Promise<void> {
  let stat;
  try {
    stat = await fsp.stat(dir);
  } catch (err) {
    throw fileSystemError(dir, err);
  }
  if (!stat.isDirectory()) {
    throw new BadFileError('DIAGNOSE_GT_NOT_FOLDER', dir, `is a file; ${option} names the gt folder pulsar run wrote`, {
      hint: 'name the folder holding input/, joint/ and onnx/',
    });
  }
}
