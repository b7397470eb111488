/**
 * `pulsar run` through the wrapper: refuses a config the build did not write, runs the x86
 * simulation and comparison, reads the score table (per output: 2-norm relative error and
 * cosine similarity) and the gt dumps, and flags the outputs below the guide's 0.98.
 * The model compared with the onnx may be the joint or the build's model.lava_joint (the
 * guide's way to tell quantization loss from loss in the later hardware compile).
 */
import * as path from 'node:path';
import { UsageError } from '../../shared/errors';
import { asTyped } from '../cli-numbers';
import { parsePulsarRunLog, type PulsarDump, type PulsarScore } from '../../shared/parsers/pulsar-run-log';
import { checkRunConfig, type ConfigCheck } from './config-check';
import { ToolchainError } from './errors';
import { requireFile } from './files';
import { checkGtTarget, discardGt, makeFreshGt, swapInGt } from './gt-output';
import { toolPath } from './invocation';
import { COSINE_THRESHOLD, isLowCosine } from './scores';
import { assertSucceeded, type PulsarToolchain } from './toolchain';
import type { ToolchainVersion } from './version';

export interface SimOptions {
  readonly onnx: string;
  /** model.joint, or model.lava_joint to isolate quantization loss. */
  readonly model: string;
  /** The output_config pulsar build wrote. */
  readonly config: string;
  /** Input files (jpg/png/bin...), one per model input. */
  readonly inputs: readonly string[];
  /** Input layer names, in the order of `inputs` (multi-input models). */
  readonly layers?: readonly string[];
  /** Folder pulsar run writes the gt tensors to. */
  readonly outputGt: string;
  /** Folder holding .axctl/builds.json; default the toolchain's cwd. */
  readonly stateDir?: string;
  readonly allowUnexpandedConfig?: boolean;
  /** Default 0.98 (the guide's rule). */
  readonly cosineThreshold?: number;
}

export type ModelKind = 'joint' | 'lava_joint';

export interface ScoredOutput extends PulsarScore {
  /** cosine below the threshold (or NaN): the guide's precision loss. */
  readonly low: boolean;
}

export interface SimResult {
  readonly toolchain: ToolchainVersion;
  readonly modelKind: ModelKind;
  readonly onnx: string;
  readonly model: string;
  readonly config: string;
  readonly configCheck: ConfigCheck;
  readonly outputGt: string;
  /** The score table, one entry per output (or per layer for per-layer runs). */
  readonly scores: readonly ScoredOutput[];
  readonly dumps: readonly PulsarDump[];
  readonly cosineThreshold: number;
  /** 'precision-loss' when any score is low: the guide's step 3. */
  readonly verdict: 'ok' | 'precision-loss';
  readonly argv: readonly string[];
  readonly durationMs: number;
}

export function modelKindOf(file: string): ModelKind {
  return /\.lava_joint$/i.test(file) ? 'lava_joint' : 'joint';
}

export async function pulsarSim(tool: PulsarToolchain, options: SimOptions): Promise<SimResult> {
  const cwd = tool.invocation.cwd;
  // Paths given by the caller are relative to the caller's folder, not to pulsar's cwd.
  const abs = (p: string) => path.resolve(p);
  const [onnx, model, config, outputGt] = [options.onnx, options.model, options.config, options.outputGt].map(abs);
  const inputs = options.inputs.map(abs);
  if (inputs.length === 0) throw new UsageError('SIM_NO_INPUT', 'pulsar run needs at least one --input file', { hint: 'give one input per model input' });
  const threshold = options.cosineThreshold ?? COSINE_THRESHOLD;
  if (!(threshold >= -1 && threshold <= 1)) {
    throw new UsageError('SIM_BAD_THRESHOLD', `--min-cos ${asTyped('min-cos', threshold)}: the cosine threshold must be between -1 and 1`, { hint: 'the guide uses 0.98' });
  }
  const layers = options.layers ?? [];
  if (layers.length > 0 && layers.length !== inputs.length) {
    throw new UsageError('SIM_LAYER_COUNT', `${inputs.length} --input file(s) but ${layers.length} --layer name(s)`, {
      hint: '--layer names the model input each --input file feeds, in the same order',
    });
  }
  await requireFile(onnx, 'onnx model (--onnx)');
  await requireFile(model, 'compiled model (--joint)');
  await requireFile(config, 'output config (--config)');
  for (const input of inputs) await requireFile(input, 'input (--input)');
  const configCheck = await checkRunConfig({
    config, model, stateDir: options.stateDir ?? cwd, allowUnexpanded: options.allowUnexpandedConfig,
  });
  await checkGtTarget(outputGt);

  const toolchain = await tool.version();
  const p = (file: string) => toolPath(tool.invocation, file);
  p(outputGt); // a target outside a container's mount is refused before anything is made
  const fresh = await makeFreshGt(outputGt);
  let result, log;
  try {
    const args = [
      'run', p(onnx), p(model),
      '--input', ...inputs.map(p),
      ...(layers.length > 0 ? ['--layer', ...layers] : []),
      '--config', p(config),
      '--output_gt', p(fresh.path),
    ];
    result = await tool.run(args, tool.timeouts.runMs);
    assertSucceeded(result, 'PULSAR_RUN_FAILED', 'pulsar run', 'read the log above; check that the inputs match the model (count, size, --layer names)');
    log = parsePulsarRunLog(result.lines.map((l) => l.text).join('\n'));
    if (log.scores.length === 0) {
      throw new ToolchainError('PULSAR_RUN_NO_SCORES', 'pulsar run finished but printed no score table (no "Layer: ... cosine-sim: ..." line)', {
        hint: 'read the log above; this toolchain may print the table differently',
      });
    }
  } catch (err) {
    await discardGt(fresh);
    throw err;
  }
  await swapInGt(fresh, outputGt);
  const scores = log.scores.map((s) => ({ ...s, low: isLowCosine(s.cosine, threshold) }));
  return {
    toolchain,
    modelKind: modelKindOf(model),
    onnx, model, config, configCheck, outputGt,
    scores,
    // pulsar named the folder it wrote to; the files are in outputGt now.
    dumps: log.dumps.map((d) => ({ ...d, path: movedPath(d.path, fresh.path, outputGt) })),
    cosineThreshold: threshold,
    verdict: scores.some((s) => s.low) ? 'precision-loss' : 'ok',
    argv: result.argv,
    durationMs: result.durationMs,
  };
}

/**
 * The path pulsar printed for a dump, with the fresh folder's name replaced by the target's.
 * The fresh folder is the target's sibling with a unique name, so this holds whether pulsar
 * printed the path relative, absolute, or as a container sees it.
 */
function movedPath(file: string, fresh: string, target: string): string {
  const [from, to] = [path.basename(fresh), path.basename(target)];
  return file.split(/([/\\])/).map((part) => (part === from ? to : part)).join('');
}
