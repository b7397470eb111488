/**
 * The typed form of what `run_joint` prints on the board (model info, input fallbacks,
 * dumps, timing). Produced by parseRunJointLog; consumed by the agent (run verdicts) and by
 * verify (which inputs were really fed, where the outputs went).
 */
import type { ParseProblem, UnrecognizedLine } from './problems';

/** `Quantization Type is ...`; a value run_joint prints that we do not know becomes 'unknown'. */
export type RunJointQuantization = '8 bit' | '16 bit' | 'mix' | '32 bit' | 'unknown';

export type TensorLayout = 'NHWC' | 'NCHW';

/** `Memory Physical|Virtual`; kept open because newer BSPs may print other kinds. */
export type TensorMemory = 'Physical' | 'Virtual' | (string & {});

/**
 * One `Input[i]:` or `Output[i]:` block. A field is null (shape []) only when the log lacks
 * its line, e.g. a capture cut short; such a gap is also listed in `problems`.
 */
export interface RunJointTensor {
  readonly index: number;
  /** Tensor name as printed; may contain '/'. */
  readonly name: string;
  readonly shape: number[];
  readonly layout: TensorLayout | null;
  /** run_joint's own dtype name: uint8, sint8, uint16, sint16, sint32, uint32, float32, ... */
  readonly dtype: string | null;
  /** Colour space printed after the dtype (inputs: RGB, BGR, NV12, FeatureMap...); null when absent. */
  readonly colorSpace: string | null;
  /** `Q=n`: the real value is the integer divided by n. null when not printed. */
  readonly q: number | null;
  readonly memory: TensorMemory | null;
  /** Bytes of the whole tensor (all of the model's batch). */
  readonly size: number | null;
  /** Line of the `Input[i]:`/`Output[i]:` header. */
  readonly line: number;
}

export type FallbackReason = 'not-provided' | 'size-wrong' | 'read-failed';

/**
 * An input run_joint did not fill from the file it was meant to get. Ordinary inputs get
 * random data; runtime-variable (RTV) inputs get the model's default value.
 */
export interface RunJointFallback {
  readonly index: number;
  readonly name: string;
  /** The file it tried to read; null for 'not-provided'. */
  readonly file: string | null;
  readonly reason: FallbackReason;
  /** `using random data` or `using default value` (RTV inputs). */
  readonly fill: 'random' | 'default';
  readonly line: number;
}

export type DumpStatus = 'success' | 'failed' | 'none';

/** `dump output[i] NAME as PATH success|failed` or `can not dump output[i] NAME, it is none`. */
export interface RunJointDump {
  readonly index: number;
  readonly name: string;
  /** null when the output was none. */
  readonly path: string | null;
  readonly status: DumpStatus;
  readonly line: number;
}

/** `Create handle took ... ms (neu ..., onnx ..., axe ..., overhead ...)`; older builds omit onnx. */
export interface RunJointCreateHandle {
  readonly totalMs: number;
  readonly neuMs: number | null;
  readonly onnxMs: number | null;
  readonly axeMs: number | null;
  readonly overheadMs: number | null;
}

/** `Run task took N us (R rounds for average)`: N is the average over R rounds. */
export interface RunJointRun {
  readonly totalUs: number;
  readonly rounds: number;
}

/** `Run NEU took an average of N us (overhead M us)`; one per part (NEU, ONNX, AXE). */
export interface RunJointComponent {
  readonly name: 'NEU' | 'ONNX' | 'AXE' | (string & {});
  readonly avgUs: number;
  readonly overheadUs: number | null;
}

export interface RunJointNpuPerf {
  readonly total: number;
  /** Counter of eu(i) at index i. */
  readonly eu: number[];
}

export interface RunJointLog {
  readonly runJointVersion: string | null;
  readonly toolsVersion: string | null;
  /** The bare hash line printed after `tools version`. */
  readonly toolsCommit: string | null;
  /** `virtual npu mode is 1_1` → '1_1'. */
  readonly npuMode: string | null;
  readonly wbt: number | null;
  readonly maxBatchSize: number | null;
  readonly dynamicBatch: boolean | null;
  readonly filterMode: boolean | null;
  readonly quantization: RunJointQuantization | null;
  readonly inputs: RunJointTensor[];
  readonly outputs: RunJointTensor[];
  readonly batchSize: number | null;
  readonly fallbacks: RunJointFallback[];
  readonly dumps: RunJointDump[];
  readonly cmmUsage: number | null;
  readonly createHandle: RunJointCreateHandle | null;
  readonly run: RunJointRun | null;
  readonly components: RunJointComponent[];
  readonly npuPerf: RunJointNpuPerf | null;
  /** glibc `...: Assertion `x' failed.` lines, as printed. */
  readonly assertions: string[];
  /** Error lines: `read file X failed`, `must specify joint file`, option errors, `Aborted`... */
  readonly errors: string[];
  /** Lines that looked like run_joint output but could not be read, and gaps in tensor blocks. */
  readonly problems: ParseProblem[];
  /** Lines that are not run_joint output (shell prompts, other programs' messages). */
  readonly unrecognized: UnrecognizedLine[];
}
