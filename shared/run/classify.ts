/**
 * What a finished run_joint run means. The rules (docs/parts/agent-core.md):
 *   cancelled or timed out                            → failed
 *   any input fed random/default data                 → input-error (its outputs mean nothing)
 *   an assertion, a signal, a non-zero exit           → failed, carrying the assertion text
 *   an output without a successful dump or its file   → failed, MISSING_OUTPUT
 *   a dumped file of the wrong size                   → failed, OUTPUT_SIZE_MISMATCH
 *   otherwise                                         → ok
 * A failed run (not cancelled) keeps the outputs it dumped whole, as evidence; the last two
 * problems are reported only for a run that ended normally (a crash explains its dumps).
 * Assertions are read from stderr too: when run_joint aborts, its buffered stdout is lost.
 * Shared by the agent (outputs in a local folder) and agentless SSH (outputs on the board,
 * looked at over SFTP): where the dumped files live is a DumpFolder.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseRunJointLog, type RunJointFallback, type RunJointLog, type RunJointTensor } from '../parsers/run-joint-log';
import type { ModelIo } from './model-io';
import type { RunOutcome } from './outcome';

export type RunStatus = 'ok' | 'input-error' | 'failed';

export interface RunProblem {
  code: string;
  message: string;
  /** What to do about it, when the host knows (a run_joint gone from the board: put it back). */
  hint?: string;
}

/** The folder run_joint dumped into (--bin-out-dir), wherever it is. */
export interface DumpFolder {
  /** The path of `fileName` in the folder. */
  pathOf(fileName: string): string;
  /** Size of `file` (a pathOf() result) in bytes; null when there is no such file. */
  sizeOf(file: string): Promise<number | null>;
}

/** A dump folder on this machine. */
export function localDumpFolder(outDir: string): DumpFolder {
  return {
    pathOf: (fileName) => path.join(outDir, fileName),
    sizeOf: async (file) => {
      try {
        return statSync(file).size; // in place: one per output, between run_joint's exit and the result
      } catch {
        return null;
      }
    },
  };
}

/** What classification needs to know about the request besides run_joint's output. */
export interface RunContext {
  io: ModelIo;
  dumps: DumpFolder;
  timeoutMs: number;
  /** `--override_batch_size`, if the request set it. */
  overrideBatch: number | null;
  /** Per model input (by index): the request's blob for it and that blob's size. */
  fed: { name: string; hash: string; size: number }[];
}

export interface Classification {
  status: RunStatus;
  parsed: RunJointLog;
  problems: RunProblem[];
  /**
   * Dumped files to keep, in the model's output order: all of them when status is ok; those
   * dumped whole when the run failed (none for input errors and cancelled runs).
   */
  outputFiles: { name: string; file: string }[];
}

export async function classifyRun(outcome: RunOutcome, ctx: RunContext): Promise<Classification> {
  const parsed = parseRunJointLog(outcome.stdout);
  const fromStderr = parseRunJointLog(outcome.stderr);
  const problems: RunProblem[] = [];
  const batches = dumpBatches(ctx, parsed);

  if (outcome.cancelled) problems.push({ code: 'RUN_CANCELLED', message: 'the run was cancelled and run_joint was stopped' });
  if (outcome.timedOut) problems.push({ code: 'RUN_TIMEOUT', message: `run_joint did not finish within ${ctx.timeoutMs} ms and was stopped` });
  for (const fallback of parsed.fallbacks) problems.push(describeFallback(fallback, ctx));
  const assertions = unique([...fromStderr.assertions, ...parsed.assertions]);
  for (const text of assertions) problems.push({ code: 'RUN_ASSERTION', message: text });
  const crashed = outcome.signal !== null || (outcome.exitCode !== null && outcome.exitCode !== 0);
  if (crashed && !outcome.cancelled && !outcome.timedOut) {
    const detail = assertions[0] ?? unique([...fromStderr.errors, ...parsed.errors])[0];
    if (outcome.signal !== null) {
      problems.push({ code: outcome.signal === 'SIGABRT' ? 'RUN_ABORTED' : 'RUN_KILLED', message: `run_joint was ended by ${outcome.signal}${detail ? `: ${detail}` : ''}` });
    } else {
      problems.push({ code: 'RUN_EXIT_NONZERO', message: `run_joint exited with status ${outcome.exitCode}${detail ? `: ${detail}` : ''}` });
    }
  }

  if (outcome.cancelled) return { status: 'failed', parsed, problems, outputFiles: [] };
  if (parsed.fallbacks.length > 0) return { status: 'input-error', parsed, problems, outputFiles: [] };

  // What run_joint dumped whole is kept even when the run failed: a crash at teardown after
  // the dumps, or one output it could not write, leaves the others to compare, evidence beside
  // the failure. Only a run that ended normally owes every dump (a crash explains the others).
  const ended = outcome.timedOut || crashed || assertions.length > 0;
  const outputFiles: { name: string; file: string }[] = [];
  for (const output of ctx.io.outputs) {
    // After a crash the dumps are only evidence: one that cannot even be looked at (the board's
    // link went down with run_joint) is left out rather than costing the verdict.
    const checked = await checkOutput(output, parsed, ctx.dumps, batches).catch((err: unknown) => {
      if (ended) return null;
      throw err;
    });
    if (checked === null) continue;
    if (!('code' in checked)) outputFiles.push(checked);
    else if (!ended) problems.push(checked);
  }
  if (ended || outputFiles.length < ctx.io.outputs.length) return { status: 'failed', parsed, problems, outputFiles };
  return { status: 'ok', parsed, problems, outputFiles };
}

/** run_joint dumps `Size / shape[0] * batch` bytes per output (the reference; inputs are read whole). */
export function batchBytes(tensor: RunJointTensor, batch: number): number {
  const size = tensor.size ?? 0;
  const first = tensor.shape[0];
  return first > 0 ? Math.floor(size / first) * batch : size;
}

/**
 * The batches a dump may have been made for, the likeliest first: the one the log says it used
 * (`Using batch size N`), --override_batch_size, the model's max batch, 1. The reference gives
 * the dump rule but not which batch a run uses when the log does not say; a dump of any of
 * these sizes is accepted, and verify compares what it holds (a dump of fewer rows than the
 * gt tensor is compared row for row, and the report says so).
 */
function dumpBatches(ctx: RunContext, parsed: RunJointLog): number[] {
  const max = parsed.maxBatchSize ?? ctx.io.maxBatchSize;
  const candidates = [parsed.batchSize, ctx.overrideBatch, max, 1].filter((b): b is number => b !== null && b !== undefined && b > 0);
  return [...new Set(candidates)];
}

/** The file name run_joint dumps an output to: every '/' of the name becomes '_'. */
export function dumpFileName(tensorName: string): string {
  return `${tensorName.split('/').join('_')}.bin`;
}

async function checkOutput(output: RunJointTensor, parsed: RunJointLog, dumps: DumpFolder, batches: number[]): Promise<RunProblem | { name: string; file: string }> {
  const label = `output[${output.index}] ${output.name}`;
  const dump = parsed.dumps.find((d) => d.index === output.index && d.name === output.name);
  if (!dump) return { code: 'MISSING_OUTPUT', message: `${label}: run_joint did not report dumping it` };
  if (dump.status === 'none') return { code: 'MISSING_OUTPUT', message: `${label}: run_joint could not dump it (it is none)` };
  if (dump.status === 'failed') return { code: 'MISSING_OUTPUT', message: `${label}: run_joint failed to write ${dump.path ?? 'its file'}` };
  const fileName = dumpFileName(output.name);
  const file = dumps.pathOf(fileName);
  const size = await dumps.sizeOf(file);
  if (size === null) {
    return { code: 'MISSING_OUTPUT', message: `${label}: run_joint reported a dump, but ${fileName} is not in the output folder` };
  }
  const accepted = new Set([...batches.map((b) => batchBytes(output, b)), output.size ?? 0]);
  if (!accepted.has(size)) {
    const batch = batches[0]!;
    return { code: 'OUTPUT_SIZE_MISMATCH', message: `${label}: dumped ${size} bytes, expected ${batchBytes(output, batch)} (Size ${output.size} for batch ${batch})` };
  }
  return { name: output.name, file };
}

function describeFallback(fallback: RunJointFallback, ctx: RunContext): RunProblem {
  const fed = ctx.fed[fallback.index];
  const tensor = ctx.io.inputs[fallback.index];
  const filled = fallback.fill === 'default' ? 'its default value' : 'random data';
  const label = `input[${fallback.index}] ${fallback.name}${fed ? ` (blob ${fed.hash.slice(0, 12)}…, ${fed.size} bytes)` : ''}`;
  const file = fallback.file ?? 'no file';
  switch (fallback.reason) {
    case 'size-wrong': {
      const expected = tensor?.size != null ? ` it expects ${tensor.size} bytes` : '';
      return { code: 'INPUT_SIZE_WRONG', message: `${label}: run_joint rejected ${file}, wrong size;${expected}; it ran on ${filled}` };
    }
    case 'read-failed':
      return { code: 'INPUT_READ_FAILED', message: `${label}: run_joint could not read ${file} and ran on ${filled}` };
    default:
      return { code: 'INPUT_NOT_PROVIDED', message: `${label}: run_joint got no file for it and ran on ${filled}` };
  }
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}
