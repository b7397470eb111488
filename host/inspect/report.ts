/**
 * What `axctl inspect` reports, one shape per kind of file. `--json` prints these as they are,
 * so field names here are a public contract (documented in docs/parts/parsers.md).
 */
import type { ParseProblem, UnrecognizedLine } from '../../shared/parsers/problems';
import type { PlainValue } from '../../shared/parsers/prototxt-query';
import type { PulsarDump, PulsarScore } from '../../shared/parsers/pulsar-run-log';
import type {
  RunJointComponent, RunJointCreateHandle, RunJointDump, RunJointFallback, RunJointNpuPerf,
  RunJointQuantization, RunJointTensor,
} from '../../shared/parsers/run-joint-types';
import type { DType } from '../../shared/tensor/types';
import type { TensorStats } from './tensor-stats';

export interface RunJointReport {
  readonly kind: 'run_joint-log';
  readonly file: string;
  readonly version: string | null;
  readonly toolsVersion: string | null;
  readonly toolsCommit: string | null;
  readonly npuMode: string | null;
  readonly wbt: number | null;
  readonly quantization: RunJointQuantization | null;
  readonly maxBatchSize: number | null;
  readonly dynamicBatch: boolean | null;
  readonly filterMode: boolean | null;
  readonly batchSize: number | null;
  readonly inputs: RunJointTensor[];
  readonly outputs: RunJointTensor[];
  readonly fallbacks: RunJointFallback[];
  readonly dumps: RunJointDump[];
  readonly cmmUsage: number | null;
  readonly timing: {
    readonly createHandle: RunJointCreateHandle | null;
    /** Average of one inference over `rounds` (null when the run did not finish). */
    readonly runUs: number | null;
    readonly rounds: number | null;
    readonly components: RunJointComponent[];
    readonly npuPerf: RunJointNpuPerf | null;
  };
  readonly assertions: string[];
  readonly errors: string[];
  readonly problems: ParseProblem[];
  readonly unrecognized: UnrecognizedLine[];
}

export interface PulsarRunReport {
  readonly kind: 'pulsar-run-log';
  readonly file: string;
  readonly scores: PulsarScore[];
  /** Lowest cosine similarity of all scores (null when there is none or all are nan). */
  readonly worstCosine: number | null;
  readonly dumps: PulsarDump[];
  readonly problems: ParseProblem[];
}

export interface NormalizationReport {
  /** `selector.op_name` of the input_conf_items, when it names one. */
  readonly input: string | null;
  readonly mean: Array<string | number | boolean>;
  readonly std: Array<string | number | boolean>;
  readonly line: number;
}

export interface PrototxtReport {
  readonly kind: 'prototxt';
  readonly file: string;
  /** Number of top-level fields. */
  readonly fieldCount: number;
  readonly targetHardware: string | null;
  readonly dstInputTensors: PlainValue[];
  readonly normalization: NormalizationReport[];
  readonly calibration: PlainValue | null;
  readonly dstOutputTensors: PlainValue[];
  /** The whole file as JSON (a field given several times becomes an array). */
  readonly tree: PlainValue;
}

export interface TensorReport {
  readonly kind: 'npy' | 'bin';
  readonly file: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly length: number;
  readonly bytes: number;
  /** Where dtype and shape came from: the .npy header, --dtype/--shape, or the .npy twin. */
  readonly specFrom: 'header' | 'options' | 'npy-twin' | 'options+npy-twin' | 'options (flat)';
  readonly stats: TensorStats;
}

export interface GtTensorReport {
  readonly tensorName: string;
  readonly fileBase: string;
  readonly bin: string | null;
  readonly npy: string | null;
  /** From the .npy header; null without a readable .npy. */
  readonly dtype: DType | null;
  readonly shape: number[] | null;
  readonly binBytes: number | null;
  /** Whether the .bin holds exactly the data the .npy header describes; null if one is missing. */
  readonly binMatchesNpy: boolean | null;
}

export interface GtFolderReport {
  readonly kind: 'gt-folder';
  readonly dir: string;
  readonly layout: 'input-joint-onnx' | 'input-output';
  readonly inputs: GtTensorReport[];
  readonly joint: GtTensorReport[];
  readonly onnx: GtTensorReport[];
  readonly output: GtTensorReport[];
  readonly filenameTxt: string[] | null;
  /** Damaged .npy files, .bin/.npy pairs that disagree, joint/onnx with different outputs. */
  readonly problems: Array<{ file: string; message: string }>;
}

export type InspectReport = RunJointReport | PulsarRunReport | PrototxtReport | TensorReport | GtFolderReport;
export type InspectKind = InspectReport['kind'];
