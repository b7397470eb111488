/**
 * Assembling the VerifyReport from what verify found: the run's result and listing, the
 * output comparisons, the compile stage, the local input checks. The verdict is decided
 * here, in one place:
 *   a gt input the board did not get (local check or run_joint's fallback) → input-error
 *   run_joint failed (crash, assertion, timeout, cancel, missing output)     → run-failed
 *   any output outside the board tolerance                                    → mismatch
 *   otherwise                                                                 → match
 */
import { parseRunJointLog, type RunJointLog, type RunJointTensor } from '../../shared/parsers/run-joint-log';
import { version as AXCTL_VERSION } from '../../package.json';
import type { BoardIdentity, RunResult } from '../board/session';
import { inputBytes, type InputPlan, type InputProblem } from '../deploy/gt-inputs';
import type { ModelIo } from '../state/model-io';
import type { OutputComparison, Verdict, VerifyReport } from '../report/model';
import { summarize } from './advice';

export interface ReportInput {
  board: BoardIdentity | { url: string };
  model: { path: string; hash: string };
  gt: { path: string; layout: VerifyReport['gt']['layout'] };
  result: RunResult;
  /** The listing: the run's own, else the one the host knew. */
  io: ModelIo | null;
  plan: InputPlan;
  /** Local input problems, found before the run or with its listing. */
  problems: InputProblem[];
  outputs: OutputComparison[];
  compile: VerifyReport['compile'];
  timeoutMs: number | null;
  /** run_joint's --repeat and --warmup as asked (absent: the agent's defaults, 1 and 0). */
  repeat?: number;
  warmup?: number;
  startedAt: Date;
  /** Why gt/joint may be older than the model or inputs (gt-age.ts), for a mismatch's advice. */
  newerThanGt?: string | null;
}

export function decideVerdict(result: RunResult, problems: InputProblem[], outputs: OutputComparison[]): Verdict {
  if (problems.length > 0 || result.status === 'input-error') return 'input-error';
  if (result.status === 'failed') return 'run-failed';
  return outputs.every((o) => o.pass) ? 'match' : 'mismatch';
}

export function buildReport(input: ReportInput): VerifyReport {
  const { result } = input;
  const verdict = decideVerdict(result, input.problems, input.outputs);
  const fallbacks = fallbacksOf(result.parsed, input.plan, input.io, input.problems);
  const assertions = assertionsOf(result);
  const io = ioOf(input.io);
  const board = boardOf(input.board);
  const { summary, advice } = summarize({
    verdict,
    outputs: input.outputs,
    compile: input.compile,
    io,
    fallbacks,
    failure: { problems: result.problems, assertions, timedOut: result.timedOut, cancelled: result.cancelled, signal: result.signal, exitCode: result.exitCode, timeoutMs: input.timeoutMs },
    board,
    modelPath: input.model.path,
    gtPath: input.gt.path,
    newerThanGt: input.newerThanGt ?? null,
  });
  return {
    kind: 'verify',
    verdict,
    summary,
    board,
    model: input.model,
    gt: input.gt,
    outputs: input.outputs,
    compile: input.compile,
    run: {
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      timing: timingOf(result, input.repeat ?? 1, input.warmup ?? 0),
      log: result.log,
      stderr: result.stderr,
      assertions,
      fallbacks,
      problems: result.problems.map(({ code, message, hint }) => ({ code, message, ...(hint && { hint }) })),
    },
    io,
    advice,
    meta: { axctlVersion: AXCTL_VERSION, startedAt: input.startedAt.toISOString(), durationMs: Date.now() - input.startedAt.getTime() },
  };
}

function timingOf(result: RunResult, repeat: number, warmup: number): VerifyReport['run']['timing'] {
  const runUs = result.parsed.run?.totalUs ?? null;
  return {
    runUs,
    rounds: result.parsed.run?.rounds ?? null,
    components: result.parsed.components.map((c) => ({ name: c.name, avgUs: c.avgUs, overheadUs: c.overheadUs })),
    wallMs: result.durationMs,
    warmup,
    // run_joint (and the simulator after it) starts its clock before the warm-up rounds and,
    // with --repeat 1, reads it after the one timed round: the warm-ups are in the average.
    includesWarmup: warmup > 0 && repeat === 1 && runUs !== null,
  };
}

function boardOf(b: ReportInput['board']): VerifyReport['board'] {
  const id = b as Partial<BoardIdentity> & { url: string };
  return {
    url: id.url,
    ...(id.name && { name: id.name }),
    ...(id.hostname && { hostname: id.hostname }),
    ...(id.agentVersion && { agentVersion: id.agentVersion }),
    ...(id.runJointVersion && { runJointVersion: id.runJointVersion }),
  };
}

/** Assertions from stdout, from stderr (an abort loses buffered stdout) and from the agent's problems. */
function assertionsOf(result: RunResult): string[] {
  const fromProblems = result.problems.filter((p) => p.code === 'RUN_ASSERTION').map((p) => p.message);
  return [...new Set([...result.parsed.assertions, ...parseRunJointLog(result.stderr).assertions, ...fromProblems])];
}

/**
 * Inputs the board did not get: run_joint's fallbacks, described with the local gt file, and
 * the local checks' findings (one entry per input; run_joint's own reason wins when both).
 */
function fallbacksOf(log: RunJointLog, plan: InputPlan, io: ModelIo | null, problems: InputProblem[]): VerifyReport['run']['fallbacks'] {
  const out: VerifyReport['run']['fallbacks'] = [];
  const fileOf = (name: string) => plan.inputs.find((i) => i.name === name);
  for (const f of log.fallbacks) {
    const local = fileOf(f.name);
    const tensor = io?.inputs.find((t) => t.name === f.name) ?? log.inputs.find((t) => t.name === f.name);
    out.push({ input: f.name, file: local?.file ?? null, reason: fallbackReason(f.reason, f.fill, local?.size ?? null, tensor ?? null) });
  }
  for (const p of problems) {
    if (!out.some((o) => o.input === p.input)) out.push({ input: p.input, file: p.file, reason: p.reason });
  }
  return out;
}

function fallbackReason(reason: string, fill: 'random' | 'default', size: number | null, tensor: RunJointTensor | null): string {
  const filled = fill === 'default' ? 'its default value' : 'random data';
  if (reason === 'size-wrong') {
    const expected = tensor ? inputBytes(tensor) : null;
    const sizes = size !== null && expected !== null ? ` (the file has ${size} bytes, the input needs ${expected}${tensor?.dtype ? ` as ${tensor.dtype} ${JSON.stringify(tensor.shape)}` : ''})` : '';
    return `run_joint rejected the file: data size wrong${sizes}, and ran on ${filled}`;
  }
  if (reason === 'read-failed') return `run_joint could not read the file on the board and ran on ${filled}`;
  return `run_joint got no file for it and ran on ${filled}`;
}

function ioOf(io: ModelIo | null): VerifyReport['io'] {
  if (!io) return { inputs: [], outputs: [] };
  return {
    inputs: io.inputs.map((t) => ({ name: t.name, shape: [...t.shape], layout: t.layout, dtype: t.dtype, colorSpace: t.colorSpace, q: t.q })),
    outputs: io.outputs.map((t) => ({ name: t.name, shape: [...t.shape], layout: t.layout, dtype: t.dtype, q: t.q })),
  };
}
