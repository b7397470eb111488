/**
 * The checklist's decision tree as one pure function: the outcome of every check in, one
 * conclusion with its summary and the guide's remedies out. No files, no processes: the
 * diagnose service gathers the outcomes, this decides what they mean.
 *
 * The order follows the pipeline: step 1 (is the loss AX's at all?) first, then the earliest
 * stage that loses precision (quantization, then the hardware compile, then the board).
 * A later-stage problem found as well is named in the summary ("also: ..."), not hidden.
 */
import type { Conclusion, Verdict } from '../report/model';
import type { CheckId } from './checks';
import { REMEDY } from './remedies';

export type Outcome = 'pass' | 'fail' | 'skipped';

/** Step 1, answered by the user: only AX loses accuracy, or every platform does. */
export type PlatformAnswer = 'only-ax' | 'all-platforms';

/**
 * Step 4.2: the verify verdict; 'unreachable' when the board could not be reached; 'not-run'
 * when it was reached but could not take the run (its store too small for the model, a full
 * disk, a blob evicted again and again).
 */
export type BoardOutcome = Verdict | 'unreachable' | 'not-run';

export interface DecisionInput {
  /** Step 1; null when the user did not say. */
  platforms: PlatformAnswer | null;
  /** Step 2: onnx vs joint (pulsar run or a gt folder), fail = some output below 0.98. */
  simulator: Outcome;
  /** Step 3.1: fail = the config for pulsar run is not the build's output_config. */
  outputConfig: Outcome;
  /** Step 3.2: fail = lint findings of severity error. */
  configLint: Outcome;
  /** Step 3.3: onnx vs lava_joint. */
  quantization: Outcome;
  /** Step 3.4: fail = some layer of the per-layer table below 0.98. */
  layers: Outcome;
  /** Step 3.5: pass = one calibration image scores >= 0.98 through pulsar run. */
  calibrationImage: Outcome;
  /** Step 4.2; null when the board was not part of the diagnosis. */
  board: BoardOutcome | null;
  /** Short evidence per check, woven into the summary ("resnetv15_dense0_fwd cosine 0.894"). */
  details?: Partial<Record<CheckId, string>>;
  /** The worst layers (onnx names when known), named in the 16-bit remedy. */
  worstLayers?: readonly string[];
}

export interface Decision {
  conclusion: Conclusion;
  summary: string;
  remedies: string[];
  /** The board differs from the simulator: the report carries what to send to Axera (step 5). */
  escalate: boolean;
}

const DEFAULTS: DecisionInput = {
  platforms: null, simulator: 'skipped', outputConfig: 'skipped', configLint: 'skipped', quantization: 'skipped',
  layers: 'skipped', calibrationImage: 'skipped', board: null,
};

/** What to give to run a check that was skipped (for inconclusive results). */
export const NEEDS = {
  simulator: 'Measure onnx vs joint (step 2): give --onnx, --joint, --output-config and --input (pulsar run), or --gt with a gt folder holding onnx/ and joint/.',
  board: 'Compare the board with the simulator (step 4): give --board URL (with --joint and a gt folder: --gt, or --input so pulsar run writes one), or --verify-report FILE from axctl verify --json.',
  platforms: 'Say whether other platforms lose accuracy too (step 1): --other-platforms-ok or --other-platforms-bad.',
} as const;

export function decide(partial: Partial<DecisionInput>): Decision {
  const f: DecisionInput = { ...DEFAULTS, ...partial };
  const note = (id: CheckId) => (f.details?.[id] ? ` (${f.details[id]})` : '');
  const configFirst = [
    ...(f.outputConfig === 'fail' ? [REMEDY.useOutputConfig] : []),
    ...(f.configLint === 'fail' ? [REMEDY.fixConfigFindings] : []),
  ];
  const escalate = f.board === 'mismatch';
  const make = (conclusion: Conclusion, summary: string, remedies: string[]): Decision => ({
    conclusion,
    summary: [summary, ...alsoNotes(f, conclusion)].join(' '),
    remedies: dedupe(remedies),
    escalate,
  });

  if (f.platforms === 'all-platforms') {
    return make('model-or-platform',
      'Every platform loses accuracy (step 1), so the cause is common to all of them: the model itself or its INT8/INT16 quantization choice, not the AX toolchain or board.',
      [REMEDY.retrain, REMEDY.samePrecision, ...configFirst]);
  }

  if (f.quantization === 'fail' && f.simulator === 'pass') {
    return make('inconclusive',
      `The lava_joint loses precision${note('quantization')} but the joint does not${note('simulator')}, which cannot both be true of one build: were the lava_joint and the joint built together, and run on the same input?`,
      [...configFirst, REMEDY.passLava]);
  }
  if (f.quantization === 'fail' || (f.simulator === 'fail' && f.quantization === 'skipped' && f.layers === 'fail')) {
    const how = f.quantization === 'fail'
      ? `onnx vs lava_joint is below 0.98${note('quantization')}`
      : `onnx vs joint is below 0.98${note('simulator')} and the layer-by-layer comparison of onnx vs lava_joint already drops below 0.98${note('layers')}`;
    return make('quantization-loss',
      `Precision is lost in quantization: ${how}, before the hardware compile.${layerNote(f)}${calibrationNote(f)}`,
      [...configFirst, ...quantizationRemedies(f)]);
  }
  if (f.simulator === 'fail' && f.quantization === 'pass') {
    return make('compile-loss',
      `Precision is lost in the hardware compile: onnx vs lava_joint is fine${note('quantization')} but onnx vs joint is below 0.98${note('simulator')}.${layerNote(f)}`,
      [...configFirst, ...(f.layers === 'skipped' ? [REMEDY.compileLayer] : []), REMEDY.compileInt16, REMEDY.compileVendor]);
  }
  if (f.simulator === 'fail') {
    return make('toolchain-loss',
      `The toolchain loses precision between the onnx and the joint${note('simulator')}; whether in quantization or in the hardware compile is undetermined without the lava_joint (pass --lava-joint).${layerNote(f)}${calibrationNote(f)}`,
      [...configFirst, REMEDY.passLava, ...quantizationRemedies(f)]);
  }
  if (f.board === 'mismatch') {
    const sim = f.simulator === 'pass' ? ', while the simulator agrees with the onnx' : ' (the simulator vs the onnx was not checked)';
    return make('board-fault',
      `The board differs from the simulator on the same joint and input${note('board')}${sim}: a fault of the board's NPU runtime or driver for Axera to fix (step 4).`,
      [REMEDY.boardNothingToChange, REMEDY.boardVersions]);
  }
  return noLossFound(f, configFirst, make, note);
}

/** No stage lost precision: ok, a post-processing suspect, or what is still missing. */
function noLossFound(
  f: DecisionInput,
  configFirst: string[],
  make: (c: Conclusion, s: string, r: string[]) => Decision,
  note: (id: CheckId) => string,
): Decision {
  if (f.board === 'unreachable' || f.board === 'not-run' || f.board === 'run-failed' || f.board === 'input-error') {
    const why = {
      unreachable: 'the board could not be reached',
      'not-run': 'the board could not run the gt input',
      'run-failed': 'run_joint failed on the board',
      'input-error': 'the board did not get the gt inputs (run_joint ran on random data)',
    }[f.board];
    return make('inconclusive', `No stage lost precision in what was measured, but ${why}${note('board')}, so board vs simulator is unknown.`,
      [...configFirst, 'Fix the board run first (see the board run\'s advice below), then diagnose again.', NEEDS.board]);
  }
  const failed: string[] = [];
  if (f.outputConfig === 'fail') failed.push('the config for pulsar run is not the build\'s output_config (step 3.1)');
  if (f.configLint === 'fail') failed.push('the config has errors that pulsar run cannot see (step 3.2)');
  if (f.calibrationImage === 'fail') failed.push(`one calibration image scores below 0.98${note('calibration-image')} (step 3.5)`);
  if (f.layers === 'fail' && f.simulator !== 'pass') failed.push(`layers fall below 0.98 after quantization${note('layers')} (step 3.4)`);
  if (failed.length > 0) {
    const extra = [
      ...(f.calibrationImage === 'fail' ? [REMEDY.calibrationUnlikeTraining, REMEDY.strategyPairs] : []),
      ...(f.layers === 'fail' && f.simulator !== 'pass' ? [NEEDS.simulator] : []),
    ];
    const measured = f.simulator !== 'skipped' || f.quantization !== 'skipped' || f.board !== null;
    const lead = measured ? 'No measured stage lost precision' : 'Nothing measured the precision yet';
    return make('inconclusive', `${lead}, but ${failed.join('; ')}.`, [...configFirst, ...extra]);
  }
  if (f.platforms === 'only-ax') {
    if (f.simulator === 'pass' && f.board === 'match') {
      return make('postprocessing-suspect',
        `Only AX loses accuracy, yet the simulator agrees with the onnx${note('simulator')} and the board agrees with the simulator${note('board')}: the model runs as compiled, so the application around it (pre- or post-processing) is the suspect (step 4.1).`,
        [REMEDY.postListing, REMEDY.postInputs, REMEDY.postBadCase]);
    }
    const needs = [...(f.simulator === 'skipped' ? [NEEDS.simulator] : []), ...(f.board === null ? [NEEDS.board] : [])];
    return make('inconclusive', 'Only AX loses accuracy, and nothing measured so far shows where: the checks that decide it were skipped.', needs);
  }
  const passed = [
    ...(f.simulator === 'pass' ? [`the simulator agrees with the onnx${note('simulator')}`] : []),
    ...(f.quantization === 'pass' ? [`quantization keeps the precision${note('quantization')}`] : []),
    ...(f.board === 'match' ? [`the board agrees with the simulator${note('board')}`] : []),
  ];
  if (passed.length === 0) {
    return make('inconclusive', 'Nothing measured the precision: only checks that need no model ran.',
      [NEEDS.simulator, NEEDS.board, NEEDS.platforms]);
  }
  return make('ok', `No precision loss found: ${passed.join('; ')}.`, [
    'Nothing to fix in what was checked.',
    ...(f.simulator === 'skipped' ? [NEEDS.simulator] : []),
    ...(f.board === null ? [NEEDS.board] : []),
    ...(f.platforms === null ? ['If accuracy is still low on AX only, say so with --other-platforms-ok: the diagnosis then looks at your application.'] : []),
  ]);
}

function quantizationRemedies(f: DecisionInput): string[] {
  const worst = f.worstLayers && f.worstLayers.length > 0 ? ` Worst layers here: ${f.worstLayers.slice(0, 5).join(', ')}.` : '';
  const int16 = REMEDY.int16 + worst;
  const measure = f.layers === 'skipped' ? [REMEDY.errorMeasurement] : [];
  if (f.calibrationImage === 'pass') {
    return [REMEDY.calibrationUnlikeTraining, REMEDY.moreCalibration, REMEDY.strategyPairs, int16, ...measure, REMEDY.siluToRelu, REMEDY.qat];
  }
  if (f.calibrationImage === 'fail') {
    return [REMEDY.strategyPairs, int16, REMEDY.moreCalibration, ...measure, REMEDY.siluToRelu, REMEDY.qat];
  }
  return [REMEDY.moreCalibration, REMEDY.strategyPairs, int16, ...measure, REMEDY.siluToRelu, REMEDY.checkCalibrationImage, REMEDY.qat];
}

/** Where the layer-by-layer comparison says the loss starts (it was not the deciding evidence). */
function layerNote(f: DecisionInput): string {
  if (f.layers !== 'fail' || !f.details?.layers || (f.quantization === 'skipped' && f.simulator === 'fail')) return '';
  return ` Layer by layer: ${f.details.layers}.`;
}

/** What the one-calibration-image check says about a loss (the guide's note on calibration data). */
function calibrationNote(f: DecisionInput): string {
  if (f.calibrationImage === 'pass') {
    return ' A calibration image scores well while your input does not: the calibration data is probably unlike your data.';
  }
  if (f.calibrationImage === 'fail') {
    return ' Even a calibration image loses precision, so the calibration set is not the (only) cause: look at the quantization settings.';
  }
  return '';
}

/** Problems of a later stage than the conclusion, so they are not lost. */
function alsoNotes(f: DecisionInput, conclusion: Conclusion): string[] {
  const notes: string[] = [];
  const stageLoss = ['model-or-platform', 'quantization-loss', 'compile-loss', 'toolchain-loss'].includes(conclusion);
  if (conclusion === 'model-or-platform' && (f.simulator === 'fail' || f.quantization === 'fail')) {
    notes.push('Also: pulsar run shows precision loss on AX itself (steps 2-3), which the remedies for quantization address.');
  }
  if (stageLoss && f.board === 'mismatch') {
    notes.push('Also: the board differs from the simulator (step 4.2), a separate fault for Axera; see what to send them.');
  }
  if (stageLoss && f.outputConfig === 'fail') {
    notes.push('Also: the config given for pulsar run is not the build\'s output_config (step 3.1); fix that before trusting any cosine.');
  }
  if (stageLoss && f.configLint === 'fail') notes.push('Also: the config has errors (step 3.2), listed under findings.');
  return notes;
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}
