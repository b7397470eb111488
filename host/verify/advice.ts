/**
 * What a verdict means and what to do next, in words: the report's `summary` and `advice`.
 * The rules follow the precision guide's step 4: board equals simulator → the board is fine
 * and the application's post-processing is the suspect (list what it must honour); board
 * differs → a board-side fault for Axera; plus what to fix when the inputs did not arrive
 * or the run failed. The compile stage (onnx vs joint) is added when it lost precision.
 */
import { formatValue } from '../../shared/metrics/format';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import { COSINE_THRESHOLD, fmtCosine, fmtShape } from '../report/format';
import type { OutputComparison, Verdict, VerifyReport } from '../report/model';

export interface RunFailure {
  /** `hint`: what to do, when known (a run_joint gone from the board): always in the advice. */
  problems: { code: string; message: string; hint?: string }[];
  assertions: string[];
  timedOut: boolean;
  cancelled: boolean;
  signal: string | null;
  exitCode: number | null;
  /** run_joint's time limit, when verify set one. */
  timeoutMs: number | null;
}

export interface AdviceInput {
  verdict: Verdict;
  outputs: OutputComparison[];
  compile: VerifyReport['compile'];
  io: VerifyReport['io'];
  fallbacks: VerifyReport['run']['fallbacks'];
  failure: RunFailure;
  board: VerifyReport['board'];
  modelPath: string;
  gtPath: string;
  /** Why gt/joint may be older than the model or inputs it should describe (gt-age.ts); absent when it is not. */
  newerThanGt?: string | null;
}

export function summarize(input: AdviceInput): { summary: string; advice: string[] } {
  const body = { match: matchAdvice, mismatch: mismatchAdvice, 'input-error': inputErrorAdvice, 'run-failed': runFailedAdvice }[input.verdict](input);
  // A gt folder that contradicts itself already says what its compile-stage figures may mean.
  return { summary: body.summary, advice: [...body.advice, ...(body.incoherentGt ? [] : compileAdvice(input.compile))] };
}

type Advice = { summary: string; advice: string[]; incoherentGt?: boolean };

function matchAdvice(input: AdviceInput): Advice {
  const exact = input.outputs.every((o) => o.exact);
  return {
    summary: `The board's outputs equal the simulator's (gt/joint)${exact ? ' bit for bit' : ' within tolerance'}: the board, its NPU driver and run_joint run the model correctly.`,
    advice: [
      'If your application still gets wrong results, suspect its post-processing (or its pre-processing), not the board. They must honour what run_joint lists for this model:',
      ...postProcessingRules(input.io),
    ],
  };
}

/** What an application's pre- and post-processing must honour, from run_joint's listing. */
export function postProcessingRules(io: VerifyReport['io']): string[] {
  const rules: string[] = [];
  for (const o of io.outputs) {
    const layout = o.layout ? `${o.layout} layout` : 'layout as listed';
    const q = o.q !== null ? `; it holds integers scaled by Q=${o.q}: divide by ${o.q} for real values` : o.dtype && o.dtype !== 'float32' && o.dtype !== 'float64' ? '; no Q listed: the integers are the values' : '';
    rules.push(`Output ${o.name}: ${o.dtype ?? 'dtype unknown'}, ${layout}, shape ${fmtShape(o.shape)}${q}.`);
  }
  for (const i of io.inputs) {
    // An integer input with a Q takes real values multiplied by Q (the inverse of an output's Q).
    const q = i.q !== null && i.q !== undefined ? `; quantized with Q=${i.q}: feed round(real value × ${i.q})` : '';
    rules.push(`Input ${i.name}: ${i.dtype ?? 'dtype unknown'} ${i.layout ?? ''} ${fmtShape(i.shape)}${colourRule(i.colorSpace, i.dtype)}${q}.`.replace(/ {2,}/g, ' '));
  }
  return rules;
}

function colourRule(space: string | null, dtype: string | null): string {
  if (!space || space === 'FeatureMap') return space ? ', a feature map: feed it as the model was given it in pulsar run' : '';
  const raw = dtype === 'uint8' ? ', raw 0–255 pixels (mean/std are applied inside the model; do not normalise again)' : '';
  if (space === 'RGB' || space === 'BGR') return `, colour space ${space}: channels in ${space.split('').join('-')} order${raw}`;
  if (space === 'NV12' || space === 'NV21') return `, colour space ${space}: a Y plane followed by interleaved ${space === 'NV12' ? 'U,V' : 'V,U'} at half resolution`;
  return `, colour space ${space}${raw}`;
}

/**
 * Below this compile-stage cosine, gt/onnx and gt/joint do not describe one model on one input
 * (quantization loses a few percent, not the sign): gt/joint is stale, or from another model or
 * input, and a board compared with it proves nothing.
 */
const INCOHERENT_GT_COSINE = 0.5;

function mismatchAdvice(input: AdviceInput): Advice {
  const failed = input.outputs.filter((o) => !o.pass);
  const board = [input.board.hostname, input.board.runJointVersion && `run_joint ${input.board.runJointVersion}`, input.board.agentVersion && `axagent ${input.board.agentVersion}`].filter(Boolean).join(', ');
  const differ = `${failed.length} of ${input.outputs.length} output${input.outputs.length === 1 ? '' : 's'} ${failed.length === 1 ? 'differs' : 'differ'} from the simulator's (gt/joint)`;
  // Without a listing the compile stage knows outputs by gt file name ('/' as '_').
  const compileOf = (name: string) => input.compile?.outputs.find((c) => tensorFileName(c.name) === tensorFileName(name));
  const incoherent = failed.flatMap((o) => {
    const c = compileOf(o.name);
    return c && Number.isFinite(c.cosine) && c.cosine < INCOHERENT_GT_COSINE ? [`${o.name} (gt/onnx vs gt/joint cosine ${fmtCosine(c.cosine)})`] : [];
  });
  if (incoherent.length > 0) {
    return {
      summary: `${differ}, but that gt folder contradicts itself: its gt/joint and gt/onnx disagree far beyond any quantization loss, so it says nothing about the board yet.`,
      advice: [
        `gt/joint does not look like this model's output for gt/input: ${incoherent.join(', ')}. It is likely stale (left from another build or input) or copied from another model's gt folder.`,
        'Regenerate the gt folder for this very joint and input (pulsar run, or axctl sim --output-gt DIR), then verify again before suspecting the board. If the fresh gt shows the same cosine, it is the compile that broke these outputs (quantization overflow, a wrong calibration): fix the model first.',
        ...failed.map(describeFailedOutput),
      ],
      incoherentGt: true,
    };
  }
  // Which loss is larger decides what the user fixes first: the compile stage's is theirs.
  // An output that could not be compared at all (NaN cosine) is no measure of the board's loss.
  const comparable = failed.filter((o) => Number.isFinite(o.cosine));
  const worstBoard = comparable.length === failed.length ? Math.min(...comparable.map((o) => o.cosine)) : null;
  const lossy = (input.compile?.outputs ?? []).filter((c) => c.lossy && Number.isFinite(c.cosine));
  const worstCompile = lossy.length > 0 ? Math.min(...lossy.map((c) => c.cosine)) : null;
  const stale = input.newerThanGt;
  return {
    summary: stale
      ? `${differ}: the board computes differently from the simulator — unless gt/joint is out of date (${stale}).`
      : `${differ} on the same model and input: the board computes differently from the simulator.`,
    advice: [
      ...(stale
        ? [`Check gt/joint first: ${stale}. If it was made by an earlier build or from other inputs, regenerate it for this joint and these inputs (pulsar run --output_gt, or axctl sim --output-gt DIR) and verify again: only a mismatch that stays is the board's.`]
        : []),
      `${stale ? 'If gt/joint is current, this' : 'This'} difference is a board-side fault (NPU instructions vs the simulator's cmodel, run_joint.so or the NPU driver) for Axera to fix: the board and the simulator ran the same compiled model on the same input, so neither your application nor the compile causes it.`,
      ...(worstCompile !== null && worstBoard !== null && worstCompile < worstBoard
        ? [`Still, the compile stage loses more than the board does (cosine ${fmtCosine(worstCompile)} from onnx to joint, against ${fmtCosine(worstBoard)} from simulator to board): that loss is your model's and alone would spoil the results; fix it first (see below).`]
        : []),
      ...failed.map(describeFailedOutput),
      `Send Axera's field engineer: ${input.modelPath}, the gt folder ${input.gtPath}, this report (axctl verify --json or --html) with run_joint's log${board ? `, and the board facts (${board})` : ''}.`,
    ],
  };
}

function hasQ(o: OutputComparison): boolean {
  return o.q !== null && o.q !== undefined && o.q !== 0;
}

function describeFailedOutput(o: OutputComparison): string {
  const where = o.worst
    ? `; worst at ${fmtShape(o.worst.at)} (flat index ${o.worst.index}): board ${formatValue(o.worst.actual)}, simulator ${formatValue(o.worst.reference)}`
    : '';
  // A quantized integer output's units are 1/Q of a real value: say how far that is.
  const real = hasQ(o) && Number.isFinite(o.maxAbsDiff) ? ` (${formatValue(o.maxAbsDiff / o.q!, 4)} in real values, integer / ${o.q})` : '';
  const how = Number.isFinite(o.cosine) ? `cosine ${fmtCosine(o.cosine)}, max |diff| ${formatValue(o.maxAbsDiff, 4)}${real}, ${o.mismatched} element${o.mismatched === 1 ? '' : 's'} outside tolerance` : o.reasons[0] ?? 'not comparable';
  return `Output ${o.name} (${o.dtype}${hasQ(o) ? ` Q=${o.q}` : ''}): ${how}${where}.`;
}

function inputErrorAdvice(input: AdviceInput): Advice {
  const names = [...new Set(input.fallbacks.map((f) => f.input))];
  const modelInputs = input.io.inputs.map((i) => i.name);
  // No model input found a file at all: the folder is not this model's, not a damaged one.
  const noneFound = modelInputs.length > 0 && modelInputs.every((name) => input.fallbacks.some((f) => f.input === name && f.file === null));
  if (noneFound) {
    return {
      summary: `None of the model's inputs (${modelInputs.join(', ')}) has a file in the gt folder: it is probably another model's gt.`,
      advice: [
        `Give the gt folder pulsar run wrote for this very model (its gt/input holds ${modelInputs.map((n) => `${n.replace(/\//g, '_')}.bin`).join(', ')}), or regenerate it with pulsar run (axctl sim --output-gt DIR).`,
      ],
    };
  }
  return {
    summary: `run_joint did not get the gt input${names.length === 1 ? '' : 's'} (${names.join(', ') || 'unknown'}): the board's outputs mean nothing and were not compared.`,
    advice: [
      `${names.join(', ') || 'An input'}: ${input.fallbacks.map((f) => f.reason).join('; ')}. So this run says nothing about the board.`,
      'Give every model input a gt/input/<name>.bin of exactly the size run_joint lists for it (raw bytes in its dtype and layout): regenerate the gt folder with `pulsar run` for this very model.',
    ],
  };
}

/** run_joint's calls that run a loaded model (AX_JOINT_RunSync/RunAsync, AX_NPU_...Run...). */
const INFERENCE_CALL = /\bAX_[A-Z_]*Run(Sync|Async)?\b/;

function runFailedAdvice(input: AdviceInput): Advice {
  const f = input.failure;
  const codes = new Set(f.problems.map((p) => p.code));
  const advice: string[] = [];
  let what: string;
  if (f.cancelled) {
    what = 'the run was cancelled and run_joint was stopped';
    advice.push('Run axctl verify again to get a verdict.');
  } else if (f.timedOut) {
    what = `run_joint did not finish${f.timeoutMs ? ` within ${formatValue(f.timeoutMs / 1000, 3)} s` : ' in time'} and was stopped`;
    advice.push('If the model is just slow (or --repeat is large), give more time with --timeout SECONDS; if not, the NPU or its driver hangs: check dmesg and /proc/ax_proc/ax_npu/ on the board and reboot it.');
  } else if (f.assertions.length > 0) {
    what = `run_joint failed an assertion: ${f.assertions[0]}`;
    if (f.assertions.some((a) => INFERENCE_CALL.test(a))) {
      // The handle was made (the model loaded): it failed running on the NPU, not loading.
      advice.push("The assertion is on the inference call itself: the model loaded, and running it on the NPU failed. Check dmesg and /proc/ax_proc/ax_npu/ on the board for an NPU, driver or CMM memory error, and whether other models still run there; if only this model fails, send it with this report to Axera.");
    } else {
      advice.push('An assertion in run_joint usually means the model does not fit this board: check that the joint was built for this chip (AX620A vs AX630A) and NPU mode, and that the board\'s runtime is not older than the toolchain that built it.');
    }
  } else if (codes.has('MISSING_OUTPUT') || codes.has('OUTPUT_SIZE_MISMATCH')) {
    what = `run_joint did not dump every output: ${f.problems.find((p) => p.code === 'MISSING_OUTPUT' || p.code === 'OUTPUT_SIZE_MISMATCH')!.message}`;
    advice.push("Check that the agent's store on the board has free space and is writable (axagent --store DIR).");
  } else if (f.signal) {
    what = `run_joint was killed by ${f.signal}`;
    advice.push('A crash in run_joint or its libraries: check dmesg on the board for an NPU or memory (CMM) error.');
  } else if (f.exitCode !== null && f.exitCode !== 0) {
    what = `run_joint exited with status ${f.exitCode}`;
    advice.push('See run_joint\'s output below for the reason.');
  } else {
    what = f.problems[0]?.message ?? 'run_joint did not run';
    if (codes.has('MODEL_PROBE_FAILED')) {
      // It ended normally yet listed nothing: rarely the model, usually the program configured.
      advice.push("run_joint ended without listing the model's inputs and outputs. Check on the board that the agent's run_joint (axagent --run-joint PATH, or --run-joint with --agentless) is Axera's run_joint and that `run_joint MODEL.joint --repeat 1` prints Input[0]/Output[0] blocks there.");
    }
  }
  // Problems the summary already tells (the assertion also ends a failed model probe) are not repeated.
  const told = (message: string) => what.includes(message) || f.assertions.some((a) => message.includes(a));
  // A problem with a hint is listed whole, its code and what to do beside what the summary told.
  const problems = f.problems.filter((p) => p.hint || !told(p.message)).map((p) => `${p.code}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  const compared = input.outputs;
  if (compared.length === 0) {
    return {
      summary: `The run failed, so nothing could be compared: ${what.replace(/\.+$/, '')}.`,
      advice: [...problems, ...advice],
    };
  }
  // run_joint dumped some outputs whole before it failed: they were compared all the same.
  const differ = compared.filter((o) => !o.pass).map((o) => o.name);
  const one = compared.length === 1;
  const notDumped = input.io.outputs.map((o) => o.name).filter((name) => !compared.some((c) => c.name === name));
  const rest = notDumped.length > 0 ? `; ${notDumped.join(', ')} could not be compared` : '';
  const finding = differ.length === 0
    ? `${one ? `the one output it dumped (${compared[0]!.name}) equals` : `the ${compared.length} outputs it dumped equal`} the simulator's${rest}`
    : `of the ${one ? 'one output' : `${compared.length} outputs`} it dumped, ${differ.join(', ')} ${differ.length === 1 ? 'differs' : 'differ'} from the simulator's: the board also computes differently (see the outputs below)${rest}`;
  return {
    summary: `The run failed: ${what.replace(/\.+$/, '')}. Still, ${finding}.`,
    advice: [...problems, ...advice],
  };
}

function compileAdvice(compile: VerifyReport['compile']): string[] {
  if (!compile?.lossy) return [];
  const lossy = compile.outputs.filter((o) => o.lossy).map((o) => `${o.name} (cosine ${fmtCosine(o.cosine)})`);
  return [
    `Separately, the compile stage lost precision: gt/onnx vs gt/joint is below cosine ${COSINE_THRESHOLD} for ${lossy.join(', ')}. That loss is the compiled model's, not the board's: check the colour space and mean/std order of the config, calibrate with more (and representative) data, try another calibration strategy or INT16 for the sensitive layers.`,
  ];
}
