/**
 * What `axctl diagnose` is given. Every input is optional: the diagnosis runs every check
 * its inputs allow and says for the others what they would need. Bad combinations are
 * refused here, before anything runs.
 */
import { UsageError } from '../../shared/errors';
import type { PathMount } from '../lint';
import type { PlatformAnswer } from './decide';

export interface DiagnoseOptions {
  /** The float model (reference of every pulsar run). */
  readonly onnx?: string;
  /** The compiled model. */
  readonly joint?: string;
  /** The quantized model before the hardware compile (pulsar build leaves it beside the joint). */
  readonly lavaJoint?: string;
  /** The config pulsar build read (linted, step 3.2). */
  readonly config?: string;
  /** The config pulsar build wrote (what pulsar run needs, step 3.1). */
  readonly outputConfig?: string;
  /** A gt folder of `pulsar run onnx joint` (input/, joint/, onnx/). */
  readonly gt?: string;
  /** A gt folder of `pulsar run onnx lava_joint` (its joint/ holds the lava_joint's outputs). */
  readonly lavaGt?: string;
  /** Input files for pulsar run, one per model input. */
  readonly inputs?: readonly string[];
  /** Input layer names per input file (multi-input models). */
  readonly layers?: readonly string[];
  /** One image of the calibration set (step 3.5). */
  readonly calibrationImage?: string;
  /** A saved pulsar build log with the per-layer score table (step 3.4). */
  readonly buildLog?: string;
  /** Run pulsar build (onnx + config) first and diagnose what it wrote. */
  readonly build?: boolean;
  /** Step 1, the user's answer. */
  readonly platforms?: PlatformAnswer | null;
  /** Board URL or inventory name for the board step. */
  readonly board?: string;
  /** A saved `axctl verify --json` report used as the board step. */
  readonly verifyReport?: string;
  /** Where pulsar runs, builds and escalation files go; default {cwd}/.axctl/diagnose/<time>. */
  readonly workDir?: string;
  /** Folder holding .axctl/builds.json; default pulsar's working folder. */
  readonly stateDir?: string;
  /** Look up the joint's build in .axctl/builds.json to fill in onnx, configs, lava_joint (default true). */
  readonly useBuildRecords?: boolean;
  /** Dataset paths as the toolchain container sees them, for the config lint. */
  readonly mounts?: readonly PathMount[];
  /** The command line, for the minimal reproduction in an escalation. */
  readonly argv?: readonly string[];
}

/** Refuses combinations that cannot mean anything, each with what to do instead. */
export function validateOptions(o: DiagnoseOptions): void {
  if (o.board && o.verifyReport) {
    throw new UsageError('DIAGNOSE_BOARD_TWICE', '--board and --verify-report both give the board step', {
      hint: 'give --board to run it now, or --verify-report with a saved axctl verify --json report',
    });
  }
  if (o.build && (!o.onnx || !o.config)) {
    throw new UsageError('DIAGNOSE_BUILD_NEEDS', '--build needs --onnx and --config (the model and the config pulsar build reads)', {
      hint: 'add --onnx model.onnx --config config.prototxt',
    });
  }
  if (o.build && (o.joint || o.outputConfig || o.lavaJoint)) {
    throw new UsageError('DIAGNOSE_BUILD_CONFLICT', '--build writes the joint, lava_joint and output config itself; --joint, --lava-joint and --output-config cannot be given with it', {
      hint: 'leave out --build to diagnose an existing build',
    });
  }
  const layers = o.layers ?? [];
  if (layers.length > 0 && layers.length !== (o.inputs ?? []).length) {
    throw new UsageError('DIAGNOSE_LAYER_COUNT', `${(o.inputs ?? []).length} --input file(s) but ${layers.length} --layer name(s)`, {
      hint: '--layer names the model input each --input file feeds, in the same order',
    });
  }
}
