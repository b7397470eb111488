/**
 * The toolchain half of a diagnosis: the run config check (3.1), the stage measurements
 * (2: onnx vs joint, 3.3: onnx vs lava_joint), the per-layer table (3.4) and the calibration
 * image (3.5). Each produces its check; what the inputs do not allow is skipped with what it
 * would need. A pulsar run that fails skips its check with pulsar's reason; pulsar that cannot
 * start at all (not installed, Docker down) aborts the diagnosis, as every step would fail.
 */
import * as path from 'node:path';
import { isAxError } from '../../shared/errors';
import { readTextFile } from '../../shared/fs/regular-file';
import { parsePrototxt } from '../../shared/parsers/prototxt';
import type { PulsarScore } from '../../shared/parsers/pulsar-run-log';
import type { Check } from '../report/model';
import { checkRunConfig, inspectConfigExpansion } from '../toolchain/config-check';
import { fileExists } from '../toolchain/files';
import type { PulsarToolchain } from '../toolchain/toolchain';
import type { ToolchainVersion } from '../toolchain/version';
import { judgeCalibration } from './calibration';
import { makeCheck } from './checks';
import type { ResolvedInputs } from './inputs';
import { describeLayers, layerMappingOf, layerRows, readBuildLogScores, type LayerRow } from './layers';
import { describeStage, readGtStage, simulateStage, type StageMeasurement } from './stages';

/** Failures of one pulsar run: the check is skipped with the reason, the diagnosis goes on. */
const RUN_FAILURES = new Set(['PULSAR_RUN_FAILED', 'PULSAR_RUN_NO_SCORES', 'PULSAR_TIMEOUT', 'SIM_CONFIG_IS_BUILD_INPUT', 'SIM_CONFIG_OTHER_BUILD', 'SIM_CONFIG_NOT_EXPANDED']);

export interface MeasureContext {
  readonly tool: PulsarToolchain;
  readonly inputs: ResolvedInputs;
  readonly workDir: string;
  readonly stateDir: string;
  /** Per-layer scores of the build diagnose ran, when it ran one. */
  readonly buildScores: readonly PulsarScore[] | null;
  readonly progress: (line: string) => void;
}

export interface Measurements {
  readonly checks: Check[];
  readonly joint: StageMeasurement | null;
  readonly lava: StageMeasurement | null;
  readonly layers: LayerRow[];
  readonly toolchain: ToolchainVersion | null;
  /** Short evidence per check for the decision's summary. */
  readonly details: { simulator?: string; quantization?: string; layers?: string; 'calibration-image'?: string };
  /** The config pulsar run got (or would get), when it passed step 3.1. */
  readonly runConfig: string | null;
}

export async function measure(ctx: MeasureContext): Promise<Measurements> {
  const { inputs: r } = ctx;
  const checks: Check[] = [];
  const details: Measurements['details'] = {};
  let toolchain: ToolchainVersion | null = null;
  const wantsRun = r.inputs.length > 0 || r.calibrationImage !== null;
  const candidate = r.outputConfig ?? (wantsRun ? r.config : null);

  const configCheck = await checkConfig(candidate, r.joint ?? r.lava, ctx.stateDir);
  checks.push(configCheck);
  const runConfig = configCheck.status === 'pass' ? candidate : null;
  const runnable = r.onnx !== null && runConfig !== null && r.inputs.length > 0;
  const cannotRun = whyNoRun(r, candidate, configCheck);

  const sim = async (model: string, gt: string, inputs: readonly string[], layers: readonly string[]) => {
    const m = await simulateStage(ctx.tool, { onnx: r.onnx!, model, config: runConfig!, inputs, layers, outputGt: path.join(ctx.workDir, gt), stateDir: ctx.stateDir });
    toolchain ??= m.toolchain;
    return m;
  };

  // Step 2: onnx vs joint.
  let joint: StageMeasurement | null = null;
  let jointSkip: Skip = { reason: '' };
  if (r.joint && runnable) {
    ctx.progress('pulsar run: onnx vs joint');
    [joint, jointSkip] = await attempt(() => sim(r.joint!, 'gt-joint', r.inputs, r.layers));
  } else if (r.gt) {
    [joint, jointSkip] = orReason(await readGtStage(r.gt, 'joint'));
  } else {
    jointSkip = { reason: r.joint ? cannotRun : 'no compiled model: give --joint (with --onnx, --output-config and --input for pulsar run), or --gt with a gt folder holding onnx/ and joint/' };
  }
  checks.push(stageCheck('simulator', joint, jointSkip));
  if (joint) details.simulator = describeStage(joint);

  // Step 3.3: onnx vs lava_joint.
  let lava: StageMeasurement | null = null;
  let lavaSkip: Skip = { reason: '' };
  if (r.lava && runnable) {
    ctx.progress('pulsar run: onnx vs lava_joint');
    [lava, lavaSkip] = await attempt(() => sim(r.lava!, 'gt-lava', r.inputs, r.layers));
  } else if (r.lavaGt) {
    [lava, lavaSkip] = orReason(await readGtStage(r.lavaGt, 'lava_joint'));
  } else {
    lavaSkip = { reason: r.lava ? cannotRun : await noLavaReason(r) };
  }
  checks.push(stageCheck('quantization', lava, lavaSkip));
  if (lava) details.quantization = describeStage(lava);

  // Step 3.4: the per-layer table.
  const layers = await layerTable(ctx);
  checks.push(layers.check);
  if (layers.detail) details.layers = layers.detail;

  // Step 3.5: one calibration image.
  const calibModel = r.joint ?? r.lava;
  if (!r.calibrationImage) {
    checks.push(makeCheck('calibration-image', 'skipped', 'give --calibration-image IMG (one image taken from the calibration tar) with --onnx, --joint and --output-config: it tells a calibration set unlike your data from a quantization that loses anyway'));
  } else if (!calibModel || !r.onnx || !runConfig) {
    checks.push(makeCheck('calibration-image', 'skipped', !calibModel || !r.onnx ? 'pulsar run needs --onnx and --joint (or --lava-joint) for the calibration image' : cannotRun));
  } else {
    ctx.progress('pulsar run: the calibration image');
    const [calib, why] = await attempt(() => sim(calibModel, 'gt-calibration', [r.calibrationImage!], r.layers.length === 1 ? r.layers : []));
    if (!calib) {
      checks.push(makeCheck('calibration-image', 'skipped', why.reason, why.evidence));
    } else {
      const verdict = judgeCalibration(r.calibrationImage, calib, calibModel === r.joint ? joint : lava);
      checks.push(makeCheck('calibration-image', verdict.status, verdict.reason, verdict.evidence));
      details['calibration-image'] = `cosine ${Number(verdict.evidence.cosine).toFixed(6)} on ${path.basename(r.calibrationImage)}`;
    }
  }
  return { checks, joint, lava, layers: layers.rows, toolchain, details, runConfig };
}

/** Step 3.1 for the config pulsar run gets (or would get). */
async function checkConfig(config: string | null, model: string | null, stateDir: string): Promise<Check> {
  if (!config) {
    return makeCheck('output-config', 'skipped', 'no config for pulsar run: give --output-config (the file pulsar build wrote with --output_config)');
  }
  if (model) {
    try {
      const cc = await checkRunConfig({ config, model, stateDir });
      const how = cc.method === 'build-record' && cc.build
        ? `it is the output config the build of ${path.basename(model)} wrote (build record of ${cc.build.createdAt})`
        : `it is an expanded output config (${cc.evidence.join('; ')})`;
      return makeCheck('output-config', 'pass', `${config}: ${how}${cc.warnings.length > 0 ? `; ${cc.warnings.join('; ')}` : ''}`, { method: cc.method });
    } catch (err) {
      if (isAxError(err) && err.code.startsWith('SIM_CONFIG_')) return makeCheck('output-config', 'fail', err.describe(), { code: err.code });
      throw err;
    }
  }
  const text = await readTextFile(config, { what: 'a prototxt config' });
  const expansion = inspectConfigExpansion(parsePrototxt(text, config));
  return expansion.expanded
    ? makeCheck('output-config', 'pass', `${config}: an expanded output config (${expansion.evidence.join('; ')})`, { method: 'content' })
    : makeCheck('output-config', 'fail', `${config}: not the output config pulsar build writes (${expansion.evidence.join('; ')}); pulsar run needs the expanded one (guide step 3.1)`, { method: 'content' });
}

function whyNoRun(r: ResolvedInputs, candidate: string | null, configCheck: Check): string {
  const missing = [!r.onnx && '--onnx', !candidate && '--output-config', r.inputs.length === 0 && '--input'].filter(Boolean);
  // Run outside the project that built the joint, its build record (which names them) is not found.
  const where = r.noRecordIn && (!r.onnx || !candidate) ? ` (no build of this joint is recorded in ${r.noRecordIn}: run diagnose in the project folder that built it, or pass --cwd)` : '';
  if (missing.length > 0) return `pulsar run needs ${missing.join(', ')}${where}`;
  if (configCheck.status === 'fail') return 'not run: the config for pulsar run failed step 3.1 (see that check)';
  return 'not run';
}

async function noLavaReason(r: ResolvedInputs): Promise<string> {
  const beside = r.joint ? path.join(path.dirname(r.joint), 'model.lava_joint') : null;
  const hint = beside && (await fileExists(beside)) ? ` (${beside} lies beside the joint: pass --lava-joint ${beside} if this build wrote it)` : ' (pulsar build leaves model.lava_joint beside the joint)';
  return `no lava_joint: give --lava-joint${hint}, or --lava-gt with the gt folder of pulsar run on it`;
}

function stageCheck(id: 'simulator' | 'quantization', m: StageMeasurement | null, skip: Skip): Check {
  if (!m) return makeCheck(id, 'skipped', skip.reason, skip.evidence);
  const low = m.outputs.some((o) => o.low);
  const evidence = { source: m.source, how: m.how, gt: m.gtDir, outputs: m.outputs };
  return makeCheck(id, low ? 'fail' : 'pass', `${m.source}: ${describeStage(m)}`, evidence);
}

async function layerTable(ctx: MeasureContext): Promise<{ check: Check; rows: LayerRow[]; detail: string | null }> {
  const r = ctx.inputs;
  const source = ctx.buildScores ? 'the build diagnose ran' : r.buildLog;
  const scores = ctx.buildScores ?? (r.buildLog ? await readBuildLogScores(r.buildLog) : null);
  if (!scores) {
    return { rows: [], detail: null, check: makeCheck('layers', 'skipped', 'give --build-log FILE (the log of a pulsar build whose config sets score_compare_per_layer: true with dataset_conf_error_measurement), or --build') };
  }
  if (scores.length === 0) {
    return { rows: [], detail: null, check: makeCheck('layers', 'skipped', `${source} has no per-layer score table: its config needs evaluation_conf { score_compare_per_layer: true } and dataset_conf_error_measurement (slow build)`) };
  }
  const model = r.joint ?? r.lava;
  let mappingNote = model ? '' : '; layer names not mapped to the onnx (give --joint or --lava-joint for pulsar info --layer_mapping)';
  let mappings = null;
  if (model) {
    ctx.progress('pulsar info --layer_mapping');
    const mapped = await layerMappingOf(ctx.tool, model);
    if ('mappings' in mapped) mappings = mapped.mappings;
    else mappingNote = `; ${mapped.note}`;
  }
  const rows = layerRows(scores, mappings);
  const { low, text } = describeLayers(scores, rows);
  return { rows, detail: text, check: makeCheck('layers', low > 0 ? 'fail' : 'pass', `${source}: ${text}${mappingNote}`, { layers: scores.length, low }) };
}

/** Why a check did not run; `evidence.toolError` names the code of a pulsar run that failed. */
interface Skip {
  readonly reason: string;
  readonly evidence?: { toolError: string };
}

async function attempt<T>(run: () => Promise<T>): Promise<[T | null, Skip]> {
  try {
    return [await run(), { reason: '' }];
  } catch (err) {
    if (isAxError(err) && RUN_FAILURES.has(err.code)) return [null, { reason: `pulsar run failed: ${err.describe()}`, evidence: { toolError: err.code } }];
    throw err;
  }
}

function orReason(m: StageMeasurement | string): [StageMeasurement | null, Skip] {
  return typeof m === 'string' ? [null, { reason: m }] : [m, { reason: '' }];
}
