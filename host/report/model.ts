/**
 * The report model: what `axctl verify` and `axctl diagnose` found, as plain data. It is the
 * `--json` output as-is, and what the terminal, JUnit and HTML renderers read. Fields are
 * only ever added, never renamed: CI scripts parse this.
 */

export type Verdict = 'match' | 'mismatch' | 'input-error' | 'run-failed';

/** A compact picture of two tensors for plots: a sample of value pairs and an error histogram. */
export interface PlotData {
  /** Up to ~2000 [reference, board] value pairs, evenly strided over the tensor. */
  sample: [number, number][];
  /** Histogram of (board − reference): `counts[i]` elements fell in [edges[i], edges[i+1]). */
  histogram: { edges: number[]; counts: number[] };
}

export interface WorstElement {
  index: number;
  /** Multi-index in the tensor's shape. */
  at: number[];
  reference: number;
  actual: number;
}

export interface OutputComparison {
  name: string;
  dtype: string;
  shape: number[];
  layout?: string | null;
  /** Q value from run_joint's listing: real = integer / q. */
  q?: number | null;
  exact: boolean;
  cosine: number;
  relErr2: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Elements outside tolerance. */
  mismatched: number;
  mismatchedShare: number;
  nan: { reference: number; actual: number };
  worst?: WorstElement | null;
  pass: boolean;
  /** Why it failed, in words (empty when it passed). */
  reasons: string[];
  tolerance: { atol: number; rtol: number; minCosine: number; exact: boolean };
  /**
   * Set when run_joint dumped only the first `rows` of the output's `of` rows (it writes
   * `Size / shape[0] * batch` bytes, fewer when the first dimension is not the batch): only
   * those rows were compared, with the same rows of gt/joint.
   */
  partial?: { rows: number; of: number };
  plot?: PlotData;
}

export interface CompileStageOutput {
  name: string;
  cosine: number;
  relErr2: number;
  /** cosine < 0.98: the guide's threshold for a compile/quantization precision loss. */
  lossy: boolean;
}

export interface RunTiming {
  /** Average per round as run_joint reports it (µs), rounds, and its components. */
  runUs: number | null;
  rounds: number | null;
  components: { name: string; avgUs: number; overheadUs: number | null }[];
  /** Wall time of the whole run on the board, ms. */
  wallMs: number;
  /** Warm-up rounds asked for (run_joint --warmup); absent in reports of older axctl versions. */
  warmup?: number;
  /**
   * `runUs` counts the warm-up rounds too: run_joint times them when --repeat is 1, so the
   * average is not one clean inference. Set with warmup > 0, --repeat 1 and a reported time.
   */
  includesWarmup?: boolean;
}

export interface VerifyReport {
  kind: 'verify';
  verdict: Verdict;
  /** One sentence: what the verdict means. */
  summary: string;
  /** `url` as given or resolved; `name`: the inventory name the user gave instead of a URL. */
  board: { url: string; name?: string; hostname?: string; agentVersion?: string; runJointVersion?: string };
  model: { path: string; hash: string };
  gt: { path: string; layout: string };
  outputs: OutputComparison[];
  /** gt/onnx vs gt/joint — the compile stage, reported beside the verdict. Null if gt has no onnx/. */
  compile: { outputs: CompileStageOutput[]; lossy: boolean } | null;
  run: {
    exitCode: number | null;
    signal: string | null;
    timedOut: boolean;
    timing: RunTiming;
    /** run_joint's stdout and stderr. */
    log: string;
    stderr: string;
    assertions: string[];
    fallbacks: { input: string; file: string | null; reason: string }[];
    /** What went wrong with the run, by stable code (RUN_TIMEOUT, RUN_JOINT_NOT_FOUND, MISSING_OUTPUT...): for scripts, beside the advice's words. */
    problems: { code: string; message: string; hint?: string }[];
  };
  /** What post-processing must honour (from run_joint's listing). */
  io: {
    inputs: { name: string; shape: number[]; layout: string | null; dtype: string | null; colorSpace: string | null; q?: number | null }[];
    outputs: { name: string; shape: number[]; layout: string | null; dtype: string | null; q: number | null }[];
  };
  advice: string[];
  /** The toolchain/agent versions and time, for a bug report. */
  meta: { axctlVersion: string; startedAt: string; durationMs: number };
}

export type Conclusion =
  | 'model-or-platform'
  | 'toolchain-loss'
  | 'quantization-loss'
  | 'compile-loss'
  | 'board-fault'
  | 'postprocessing-suspect'
  | 'inconclusive'
  | 'ok';

export interface Finding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  file: string | null;
  line: number | null;
  hint?: string;
}

export interface Check {
  /** The guide's step, e.g. "3.2". */
  step: string;
  name: string;
  status: 'pass' | 'fail' | 'skipped';
  reason: string;
  evidence?: Record<string, unknown>;
}

export interface DiagnoseReport {
  kind: 'diagnose';
  conclusion: Conclusion;
  summary: string;
  findings: Finding[];
  checks: Check[];
  /** The guide's remedies for the concluded stage. */
  remedies: string[];
  /** Per-layer cosine (worst first), when a layer-wise comparison was available. */
  layers: { name: string; onnxName?: string | null; cosine: number; relErr2Percent?: number | null }[];
  /** Stage scores: per output, cosine of onnx vs lava_joint and onnx vs joint when known. */
  stages: { output: string; quantizationCosine: number | null; compileCosine: number | null }[];
  /** When the verify step ran: its report. */
  verify: VerifyReport | null;
  /** For a board fault: what to send to Axera's field engineer. */
  escalation: string[] | null;
  toolchainVersion: string | null;
  meta: { axctlVersion: string; startedAt: string; durationMs: number };
}
