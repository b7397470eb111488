/**
 * The service behind `axctl compare`: pair the files, open each side with the best dtype and
 * shape information there is, dequantize an integer side compared with a float one, and judge
 * every pair with the stage's tolerance. Bad input throws (exit 2); a difference is a result.
 */
import { UsageError } from '../../shared/errors';
import { compareSources, stageTolerance, withOverrides, type Comparison, type Stage, type TensorSummary } from '../../shared/metrics';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import type { RunJointLog } from '../../shared/parsers/run-joint-log';
import { isFloatDType } from '../../shared/tensor/dtype';
import type { TensorInfo, TensorSource } from '../../shared/tensor/types';
import { describesItself, dequantized, findLogTensor, isNpy, loadRunJointLog, openSide, specFromLog, type TensorSpec } from './open-side';
import type { CompareRequest } from './options';
import { pairInputs, type TensorFile } from './pairing';

export interface OutputReport {
  /** Tensor name as the files spell it ('/' written as '_'). */
  readonly name: string;
  /** The reference file's path, dtype and shape; null when only the compared side has it. */
  readonly ref: TensorSummary | { readonly path: string } | null;
  readonly got: TensorSummary | { readonly path: string } | null;
  /** Q the integer side was divided by before comparing, or null. */
  readonly q: number | null;
  /** null for a tensor present on one side only. */
  readonly comparison: Comparison | null;
  readonly pass: boolean;
  readonly reasons: string[];
  readonly notes: string[];
}

export interface CompareReport {
  readonly reference: string;
  readonly compared: string;
  readonly stage: Stage;
  readonly outputs: OutputReport[];
  readonly pass: boolean;
}

interface PairContext {
  readonly request: CompareRequest;
  readonly log: { readonly file: string; readonly parsed: RunJointLog } | undefined;
  readonly singlePair: boolean;
}

export async function runCompare(request: CompareRequest): Promise<CompareReport> {
  const pairing = await pairInputs(request.reference, request.compared);
  if (pairing.kind === 'folders' && request.shape !== undefined) {
    throw new UsageError('COMPARE_SHAPE_WITH_FOLDERS', '--shape applies to a pair of files, not to folders of different tensors', {
      hint: 'leave out --shape; give --log with the run_joint log, or keep .npy files beside the .bin ones',
    });
  }
  const log = request.log !== undefined ? { file: request.log, parsed: await loadRunJointLog(request.log) } : undefined;
  const ctx: PairContext = { request, log, singlePair: pairing.kind === 'files' };
  const outputs: OutputReport[] = [];
  if (pairing.kind === 'files') {
    outputs.push(await comparePair(ctx, pairing.ref.name, pairing.ref, pairing.got));
  } else {
    for (const pair of orderByLog(pairing.pairs, log?.parsed)) outputs.push(await comparePair(ctx, pair.name, pair.ref, pair.got));
    for (const ref of pairing.onlyInRef) outputs.push(oneSided(ref, 'ref', request.compared));
    for (const got of pairing.onlyInGot) outputs.push(oneSided(got, 'got', request.reference));
  }
  const judged = log ? outputs.map((o) => withLogFailures(o, log.file, log.parsed)) : outputs;
  return { reference: request.reference, compared: request.compared, stage: request.stage, outputs: judged, pass: judged.every((o) => o.pass) };
}

/**
 * What the run_joint log says about the run itself: an input fed with random data makes every
 * output meaningless (a difference would wrongly blame the board, a match is chance), and an
 * output run_joint did not dump leaves in the folder a file of some other run.
 */
function withLogFailures(o: OutputReport, logFile: string, log: RunJointLog): OutputReport {
  if (o.comparison === null) return o;
  const reasons: string[] = [];
  for (const f of log.fallbacks) {
    const why = f.reason === 'not-provided' ? 'no file given' : `${f.file ?? 'its file'}: ${f.reason === 'size-wrong' ? 'size wrong' : 'read failed'}`;
    reasons.push(`${logFile}:${f.line}: run_joint fed input[${f.index}] ${f.name} with ${f.fill} data (${why}): its outputs say nothing about the model`);
  }
  const dump = [...log.dumps].reverse().find((d) => tensorFileName(d.name) === o.name);
  if (dump && dump.status !== 'success') {
    reasons.push(`${logFile}:${dump.line}: run_joint did not dump output[${dump.index}] ${dump.name} (${dump.status === 'none' ? 'it is none' : 'dump failed'}): the file compared is from another run`);
  }
  if (reasons.length === 0) return o;
  return { ...o, pass: false, reasons: [...reasons, ...o.reasons] };
}

/** Pairs in the log's output order (index order of run_joint), the rest by name. */
function orderByLog<T extends { name: string }>(pairs: T[], log: RunJointLog | undefined): T[] {
  if (!log) return pairs;
  const rank = (name: string) => {
    const i = log.outputs.findIndex((o) => tensorFileName(o.name) === name);
    return i < 0 ? Infinity : i;
  };
  return [...pairs].sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function oneSided(file: TensorFile, side: 'ref' | 'got', otherFolder: string): OutputReport {
  const reason = `${file.path} has no counterpart ${file.name}.npy or ${file.name}.bin in ${otherFolder}`;
  return {
    name: file.name,
    ref: side === 'ref' ? { path: file.path } : null,
    got: side === 'got' ? { path: file.path } : null,
    q: null,
    comparison: null,
    pass: false,
    reasons: [reason],
    notes: [],
  };
}

function summarize(info: TensorInfo): TensorSummary {
  return { path: info.path, dtype: info.dtype, shape: [...info.shape], length: info.length };
}

/** What --dtype/--shape and the log say about a file; the options win over the log. */
function specFor(ctx: PairContext, file: TensorFile): TensorSpec {
  const logTensor = ctx.log ? findLogTensor(ctx.log.parsed, file.name, ctx.singlePair) : undefined;
  const fromLog = ctx.log && logTensor ? specFromLog(ctx.log.file, logTensor) : {};
  if (isNpy(file.path)) return fromLog.q !== undefined ? { q: fromLog.q } : {};
  return {
    ...fromLog,
    ...(ctx.request.dtype !== undefined && { dtype: ctx.request.dtype }),
    ...(ctx.request.shape !== undefined && { shape: ctx.request.shape }),
  };
}

async function comparePair(ctx: PairContext, name: string, refFile: TensorFile, gotFile: TensorFile): Promise<OutputReport> {
  const refSpec = specFor(ctx, refFile);
  const gotSpec = specFor(ctx, gotFile);
  let ref: TensorSource;
  let got: TensorSource;
  // The side that describes itself is opened first, so the other may borrow its dtype/shape.
  if ((await describesItself(refFile, refSpec)) || !(await describesItself(gotFile, gotSpec))) {
    ref = await openSide(refFile, refSpec);
    got = await openSide(gotFile, gotSpec, ref.info);
  } else {
    got = await openSide(gotFile, gotSpec);
    ref = await openSide(refFile, refSpec, got.info);
  }
  // As the files hold them (before any dequantizing), for the report.
  const files = { ref: summarize(ref.info), got: summarize(got.info) };
  const { q, notes, sources } = applyQ(ctx.request.q, { ref, got }, { ref: refSpec.q, got: gotSpec.q });
  const floatSide = [ref.info.dtype, got.info.dtype].find(isFloatDType);
  const tolerance = withOverrides(stageTolerance(ctx.request.stage, floatSide ?? ref.info.dtype), ctx.request.overrides);
  const comparison = await compareSources(sources.ref, sources.got, tolerance);
  return {
    name,
    ref: files.ref,
    got: files.got,
    q,
    comparison,
    pass: comparison.pass,
    reasons: comparison.reasons,
    notes: [...notes, ...comparison.notes],
  };
}

type Sides<T> = { ref: T; got: T };

/**
 * Divides the integer side by Q when the other side is float and a Q is known (--q first,
 * then the log's Q of that side). Two integer or two float sides are left alone.
 */
function applyQ(
  optionQ: number | undefined,
  sources: Sides<TensorSource>,
  logQ: Sides<number | undefined>,
): { q: number | null; notes: string[]; sources: Sides<TensorSource> } {
  const refFloat = isFloatDType(sources.ref.info.dtype);
  const gotFloat = isFloatDType(sources.got.info.dtype);
  if (refFloat === gotFloat) {
    const why = refFloat ? 'both sides are float' : 'both sides are integer (compared bit for bit)';
    return { q: null, notes: optionQ !== undefined ? [`--q ${optionQ} not applied: ${why}`] : [], sources };
  }
  const intSide = refFloat ? 'got' : 'ref';
  const q = optionQ ?? logQ[intSide];
  if (q === undefined) return { q: null, notes: [], sources };
  return {
    q,
    notes: [`${intSide === 'got' ? 'compared' : 'reference'} side dequantized: integer / ${q}`],
    sources: { ...sources, [intSide]: dequantized(sources[intSide], q) },
  };
}
