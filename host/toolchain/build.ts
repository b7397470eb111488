/**
 * `pulsar build` through the wrapper: checks the inputs, runs the build, finds what it wrote
 * (joint, output_config, the model.lava_joint debug model), reads the per-layer score table a
 * build with `score_compare_per_layer` prints, and records the build in .axctl/builds.json.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../shared/errors';
import { parsePulsarRunLog, type PulsarScore } from '../../shared/parsers/pulsar-run-log';
import { addBuildRecord, buildRecordsPath, type BuildRecord, type FileRecord } from './build-records';
import { ToolchainError } from './errors';
import { requireFile, sha256File } from './files';
import { toolPath } from './invocation';
import { COSINE_THRESHOLD, isLowCosine } from './scores';
import { assertSucceeded, type PulsarToolchain } from './toolchain';
import type { ToolchainVersion } from './version';
import { allInOrder } from '../../shared/all-in-order';
import { makeFolder } from '../../shared/fs/atomic';

export const TARGET_HARDWARE = ['AX620', 'AX630', 'AX170'] as const;
export type TargetHardware = (typeof TARGET_HARDWARE)[number];

export interface BuildOptions {
  readonly onnx: string;
  /** The config pulsar build reads. */
  readonly config: string;
  /** Where the joint goes. */
  readonly output: string;
  /** Where pulsar build writes the expanded config (the one pulsar run needs). */
  readonly outputConfig: string;
  readonly targetHardware?: TargetHardware;
  /** Further pulsar build arguments, passed as given (e.g. ['--output_tensor_layout', 'nhwc']). */
  readonly extraArgs?: readonly string[];
  /** Folder holding .axctl/builds.json; default the toolchain's cwd. */
  readonly stateDir?: string;
  /** Record the build (default true). */
  readonly record?: boolean;
}

export interface BuildResult {
  readonly toolchain: ToolchainVersion;
  readonly onnx: FileRecord;
  readonly config: FileRecord;
  readonly joint: FileRecord;
  readonly outputConfig: FileRecord;
  readonly lavaJoint: FileRecord | null;
  readonly targetHardware: TargetHardware | null;
  /** Per-layer onnx-vs-lava scores the build printed (config `score_compare_per_layer: true`). */
  readonly layerScores: readonly PulsarScore[];
  /** Layers of layerScores below the cosine threshold, in log order. */
  readonly lowLayers: readonly PulsarScore[];
  readonly cosineThreshold: number;
  /** The build record file written, or null when recording was off. */
  readonly recordFile: string | null;
  readonly argv: readonly string[];
  readonly durationMs: number;
}

export function parseTargetHardware(value: string): TargetHardware {
  const upper = value.trim().toUpperCase().replace(/^TARGET_HARDWARE_/, '');
  if ((TARGET_HARDWARE as readonly string[]).includes(upper)) return upper as TargetHardware;
  throw new UsageError('BUILD_BAD_TARGET', `unknown target hardware "${value}"`, { hint: `use one of ${TARGET_HARDWARE.join(', ')}` });
}

export async function pulsarBuild(tool: PulsarToolchain, options: BuildOptions): Promise<BuildResult> {
  const cwd = tool.invocation.cwd;
  // Paths given by the caller are relative to the caller's folder, not to pulsar's cwd.
  const abs = (p: string) => path.resolve(p);
  const [onnx, config, output, outputConfig] = [options.onnx, options.config, options.output, options.outputConfig].map(abs);
  await requireFile(onnx, 'model to build (--onnx)');
  await requireFile(config, 'build config (--config)');
  if (output === outputConfig || outputConfig === config || output === config || output === onnx) {
    throw new UsageError('BUILD_SAME_PATHS', 'the joint, the config and the output config must be three different files', {
      hint: 'pick distinct --output and --output-config paths',
    });
  }
  await Promise.all([output, outputConfig].map((p) => makeFolder(path.dirname(p))));

  const toolchain = await tool.version();
  const args = [
    'build',
    '--input', toolPath(tool.invocation, onnx),
    '--config', toolPath(tool.invocation, config),
    '--output', toolPath(tool.invocation, output),
    '--output_config', toolPath(tool.invocation, outputConfig),
    ...(options.targetHardware ? ['--target_hardware', options.targetHardware] : []),
    ...(options.extraArgs ?? []),
  ];
  const started = Date.now();
  const result = await tool.run(args, tool.timeouts.buildMs);
  assertSucceeded(result, 'PULSAR_BUILD_FAILED', 'pulsar build', 'read the build log above; `axctl lint CONFIG` checks the config for the usual mistakes');
  for (const [file, what] of [[output, 'joint (--output)'], [outputConfig, 'output config (--output-config)']] as const) {
    if (!(await writtenSince(file, started))) {
      throw new ToolchainError('PULSAR_BUILD_NO_OUTPUT', `pulsar build succeeded but did not write the ${what}: ${file}`, {
        hint: 'check the paths in the build log; a config `output_path` may have sent the file elsewhere',
      });
    }
  }
  const lavaPath = await findLavaJoint(cwd, output, started);
  const [onnxRec, configRec, jointRec, outConfigRec, lavaRec] = await allInOrder(
    [onnx, config, output, outputConfig, lavaPath].map(async (p) => (p ? { path: p, sha256: await sha256File(p) } : null)),
  );
  const layerScores = parsePulsarRunLog(result.lines.map((l) => l.text).join('\n')).scores;
  const build: BuildResult = {
    toolchain,
    onnx: onnxRec as FileRecord,
    config: configRec as FileRecord,
    joint: jointRec as FileRecord,
    outputConfig: outConfigRec as FileRecord,
    lavaJoint: lavaRec,
    targetHardware: options.targetHardware ?? null,
    layerScores,
    lowLayers: layerScores.filter((s) => isLowCosine(s.cosine)),
    cosineThreshold: COSINE_THRESHOLD,
    recordFile: null,
    argv: result.argv,
    durationMs: result.durationMs,
  };
  if (options.record === false) return build;
  const recordFile = buildRecordsPath(options.stateDir ?? cwd);
  const record: BuildRecord = {
    createdAt: new Date().toISOString(),
    onnx: build.onnx,
    config: build.config,
    outputConfig: build.outputConfig,
    joint: build.joint,
    lavaJoint: build.lavaJoint,
    targetHardware: build.targetHardware,
    toolchain,
    pulsar: tool.invocation.template,
  };
  await addBuildRecord(recordFile, record);
  return { ...build, recordFile };
}

/**
 * pulsar build leaves `model.lava_joint` beside the joint (quick start: model/model.lava_joint
 * next to model/resnet18.joint); other versions name it after the joint or leave it in the
 * working folder. Only a file written by this build counts.
 */
async function findLavaJoint(cwd: string, joint: string, since: number): Promise<string | null> {
  const candidates = [
    path.join(path.dirname(joint), 'model.lava_joint'),
    joint.replace(/\.joint$/i, '') + '.lava_joint',
    path.join(cwd, 'model.lava_joint'),
  ];
  for (const file of candidates) if (await writtenSince(file, since)) return file;
  return null;
}

async function writtenSince(file: string, since: number): Promise<boolean> {
  try {
    const stat = await fsp.stat(file);
    // Filesystems with coarse timestamps round down; allow a second of slack.
    return stat.isFile() && stat.mtimeMs >= since - 1000;
  } catch {
    return false;
  }
}
