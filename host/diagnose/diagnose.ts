/**
 * The service behind `axctl diagnose`: the guide's precision-loss checklist, automated. It
 * runs every check its inputs allow (config lint, output-config check, pulsar run on the
 * joint and the lava_joint, the per-layer table, one calibration image, the board), hands
 * the outcomes to the pure decision (decide.ts) and returns the DiagnoseReport with its exit
 * code. It prints nothing: the command renders the report.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { version as AXCTL_VERSION } from '../../package.json';
import { BadFileError, UsageError } from '../../shared/errors';
import { HashCache } from '../deploy/hash-cache';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import type { PulsarScore } from '../../shared/parsers/pulsar-run-log';
import { lintConfig, type Finding as LintFinding } from '../lint';
import type { Check, DiagnoseReport, Finding, VerifyReport } from '../report/model';
import { buildRecordsPath } from '../toolchain/build-records';
import { pulsarBuild } from '../toolchain/build';
import { COSINE_THRESHOLD } from '../toolchain/scores';
import type { PulsarToolchain } from '../toolchain/toolchain';
import { formatToolchainVersion, type ToolchainVersion } from '../toolchain/version';
import { fromReport, loadVerifyReport, runBoardStep, skippedBoard, type BoardStep, type BoardVerifier } from './board';
import { CHECK_ORDER, CHECKS, makeCheck, type CheckId } from './checks';
import { decide, type PlatformAnswer } from './decide';
import { prepareEscalation } from './escalation';
import { diagnoseExitCode } from './exit-code';
import { resolveInputs, type ResolvedInputs } from './inputs';
import { measure, type Measurements } from './measure';
import { validateOptions, type DiagnoseOptions } from './options';

export interface DiagnoseDeps {
  readonly tool: PulsarToolchain;
  /** The board step's verify service; without it --board is refused. */
  readonly verify?: BoardVerifier;
  /** Progress lines (what runs now), e.g. to stderr. */
  readonly progress?: (line: string) => void;
  readonly now?: () => Date;
}

export interface DiagnoseResult {
  readonly report: DiagnoseReport;
  readonly exitCode: number;
  /** Where pulsar runs, the build and escalation files went (created only when needed). */
  readonly workDir: string;
}

export async function diagnose(options: DiagnoseOptions, deps: DiagnoseDeps): Promise<DiagnoseResult> {
  validateOptions(options);
  requireSomething(options);
  if (options.board && !deps.verify) {
    throw new UsageError('DIAGNOSE_NO_VERIFY', '--board needs the verify service, which this build of axctl lacks', {
      hint: 'run axctl verify --json > verify.json and pass --verify-report verify.json',
    });
  }
  const now = deps.now ?? (() => new Date());
  const started = now();
  const progress = deps.progress ?? (() => undefined);
  const cwd = deps.tool.invocation.cwd;
  const stateDir = path.resolve(options.stateDir ?? cwd);
  const workDir = path.resolve(options.workDir ?? path.join(cwd, '.axctl', 'diagnose', stamp(started)));
  if (options.workDir !== undefined) await refuseNonFolder(workDir, '--work-dir');
  const inputs = await resolveInputs(options, stateDir);
  const findings: Finding[] = fromRecordFindings(inputs, stateDir);

  let buildScores: PulsarScore[] | null = null;
  let buildToolchain: ToolchainVersion | null = null;
  if (options.build) {
    progress('pulsar build');
    const build = await pulsarBuild(deps.tool, {
      onnx: inputs.onnx!, config: inputs.config!, output: path.join(workDir, 'build', 'model.joint'),
      outputConfig: path.join(workDir, 'build', 'output_config.prototxt'), stateDir,
    });
    Object.assign(inputs, { joint: build.joint.path, outputConfig: build.outputConfig.path, lava: build.lavaJoint?.path ?? null });
    buildScores = [...build.layerScores];
    buildToolchain = build.toolchain;
  }

  const platforms = platformCheck(options.platforms ?? null);
  const lint = await lintCheck(options, inputs);
  findings.push(...lint.findings);
  const m = await measure({ tool: deps.tool, inputs, workDir, stateDir, buildScores, progress });
  const board = await boardStep(options, inputs, m, deps.verify, progress);

  const byId = new Map<CheckId, Check>();
  for (const c of [platforms, lint.check, ...m.checks, ...board.checks]) byId.set(idOf(c), c);
  const checks = CHECK_ORDER.map((id) => byId.get(id)!);
  const status = (id: CheckId) => byId.get(id)!.status;
  const decision = decide({
    platforms: options.platforms ?? null,
    simulator: status('simulator'), outputConfig: status('output-config'), configLint: status('config-lint'),
    quantization: status('quantization'), layers: status('layers'), calibrationImage: status('calibration-image'),
    board: board.outcome,
    details: { ...m.details, ...(board.detail ? { board: board.detail } : {}) },
    worstLayers: m.layers.filter((l) => !(l.cosine >= COSINE_THRESHOLD)).map((l) => l.onnxName ?? l.name),
  });
  const toolchain = m.toolchain ?? buildToolchain ?? inputs.record?.toolchain ?? null;
  const toolchainVersion = toolchain ? formatToolchainVersion(toolchain) : null;
  const escalation = decision.escalate && board.report
    ? await prepareEscalation({
      report: board.report, reportFile: inputs.verifyReport, joint: inputs.joint, gt: inputs.gt ?? m.joint?.gtDir ?? null,
      toolchain: toolchainVersion, workDir, argv: options.argv ?? ['axctl', 'diagnose'],
    })
    : null;

  const report: DiagnoseReport = {
    kind: 'diagnose',
    conclusion: decision.conclusion,
    summary: decision.summary,
    findings,
    checks,
    remedies: decision.remedies,
    layers: m.layers,
    stages: stageRows(m, board.report?.io.outputs.map((o) => o.name) ?? []),
    verify: board.report,
    escalation,
    toolchainVersion,
    meta: { axctlVersion: AXCTL_VERSION, startedAt: started.toISOString(), durationMs: Math.max(0, now().getTime() - started.getTime()) },
  };
  return { report, exitCode: diagnoseExitCode(report.conclusion, checks, board.outcome, board.errorExit), workDir };
}

function requireSomething(o: DiagnoseOptions): void {
  const given = [o.onnx, o.joint, o.lavaJoint, o.config, o.outputConfig, o.gt, o.lavaGt, o.buildLog, o.board, o.verifyReport, o.platforms]
    .some((v) => v !== undefined && v !== null && v !== '');
  if (!given) {
    throw new UsageError('DIAGNOSE_NOTHING_GIVEN', 'nothing to diagnose: no model, config, gt folder, board or answer was given', {
      hint: 'start with what you have, e.g. axctl diagnose --config config.prototxt, or --onnx/--joint/--output-config/--input (see axctl diagnose --help)',
    });
  }
}

function idOf(check: Check): CheckId {
  return CHECK_ORDER.find((id) => CHECKS[id].step === check.step)!;
}

function platformCheck(answer: PlatformAnswer | null): Check {
  if (answer === 'only-ax') return makeCheck('platforms', 'pass', 'you say other platforms keep their accuracy: the loss is AX\'s, go on with the stages');
  if (answer === 'all-platforms') {
    return makeCheck('platforms', 'fail', 'you say every platform loses accuracy: the cause is common to all of them (the model, or its INT8/INT16 choice)');
  }
  return makeCheck('platforms', 'skipped', 'only you know how the model does elsewhere: give --other-platforms-ok (only AX loses accuracy) or --other-platforms-bad (all platforms do)');
}

async function lintCheck(o: DiagnoseOptions, r: ResolvedInputs): Promise<{ check: Check; findings: Finding[] }> {
  // Lint the config the user edits; the output config when it is all there is.
  const target = o.config ?? (r.config ?? o.outputConfig ?? r.outputConfig);
  if (!target) {
    return { findings: [], check: makeCheck('config-lint', 'skipped', 'no config: give --config (the config pulsar build reads)') };
  }
  const found = (await lintConfig(target, { mounts: o.mounts })).map(toReportFinding);
  const count = (s: Finding['severity']) => found.filter((f) => f.severity === s).length;
  const errors = found.filter((f) => f.severity === 'error');
  const tally = found.length === 0 ? 'no findings' : `${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s)`;
  const check = errors.length > 0
    ? makeCheck('config-lint', 'fail', `${target}: ${tally}; first: line ${errors[0].line} [${errors[0].id}] ${errors[0].message}`, { file: target, ids: errors.map((e) => e.id) })
    : makeCheck('config-lint', 'pass', `${target}: no errors${found.length > 0 ? ` (${tally})` : ''}`, { file: target });
  return { check, findings: found };
}

function toReportFinding(f: LintFinding): Finding {
  return { id: f.id, severity: f.severity, message: f.message, file: f.file, line: f.line, hint: f.hint };
}

function fromRecordFindings(r: ResolvedInputs, stateDir: string): Finding[] {
  if (!r.record || r.fromRecord.length === 0) return [];
  return [{
    id: 'diagnose-from-build-record',
    severity: 'info',
    message: `took the ${r.fromRecord.join(', ')} of this model from its build record (built ${r.record.createdAt})`,
    file: buildRecordsPath(stateDir),
    line: null,
    hint: 'give the files explicitly to use others',
  }];
}

async function boardStep(o: DiagnoseOptions, r: ResolvedInputs, m: Measurements, verify: BoardVerifier | undefined, progress: (l: string) => void): Promise<BoardStep> {
  if (r.verifyReport) {
    const report = await loadVerifyReport(r.verifyReport);
    if (r.joint) await refuseReportOfAnotherModel(report, r.verifyReport, r.joint);
    return fromReport(report, `the board of ${r.verifyReport}`);
  }
  if (!o.board) return skippedBoard('no board: give --board URL (with --joint and a gt folder), or --verify-report FILE from axctl verify --json');
  const gt = r.gt ?? (m.joint?.source === 'pulsar run' ? m.joint.gtDir : null);
  if (!r.joint || !gt) {
    const missing = [!r.joint && '--joint', !gt && 'a gt folder (--gt, or --input so pulsar run writes one)'].filter(Boolean).join(' and ');
    return skippedBoard(`the board step needs ${missing}`);
  }
  progress(`board ${o.board}: run_joint on the gt input`);
  return runBoardStep(verify!, { board: o.board, joint: r.joint, gt });
}

/** `dir`, when it exists, must be a folder: said with its option, not as a file inside it later. */
async function refuseNonFolder(dir: string, option: string): Promise<void> {
  const stat = await fsp.stat(dir).catch(() => null);
  if (stat && !stat.isDirectory()) throw new BadFileError('FILE_NOT_FOLDER', dir, `is not a folder (${option} names the folder diagnose works in; it is made if missing)`, { hint: `give ${option} a folder` });
}

/**
 * A saved verify report of another model (another build, or another project's) would put that
 * model's verdict and hash into this diagnosis and its escalation: refused.
 */
async function refuseReportOfAnotherModel(report: VerifyReport, reportFile: string, joint: string): Promise<void> {
  const { hash } = await new HashCache().digest(joint);
  if (report.model.hash === hash) return;
  throw new BadFileError('DIAGNOSE_VERIFY_REPORT_OTHER_MODEL', reportFile, `is the verify report of another model (${report.model.path}, sha256 ${report.model.hash.slice(0, 12)}…), not of ${joint} (sha256 ${hash.slice(0, 12)}…)`, {
    hint: `run axctl verify --json on this joint and give that report, or --board URL to verify it here`,
  });
}

/** Per output: onnx vs lava_joint and onnx vs joint, matched by file name ('/' as '_'). */
export function stageRows(m: Pick<Measurements, 'joint' | 'lava'>, modelOutputs: string[]): DiagnoseReport['stages'] {
  const rows = new Map<string, DiagnoseReport['stages'][number]>();
  // With the model's listing (from the board step), rows carry the tensor names in the model's
  // output order, as the rest of the report does; the gt folders alone know only file names.
  for (const name of modelOutputs) rows.set(tensorFileName(name), { output: name, quantizationCosine: null, compileCosine: null });
  const row = (name: string) => {
    const key = tensorFileName(name);
    const known = rows.get(key) ?? { output: name, quantizationCosine: null, compileCosine: null };
    rows.set(key, known);
    return known;
  };
  for (const o of m.joint?.outputs ?? []) row(o.name).compileCosine = o.cosine;
  for (const o of m.lava?.outputs ?? []) row(o.name).quantizationCosine = o.cosine;
  return [...rows.values()].filter((r) => r.quantizationCosine !== null || r.compileCosine !== null);
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-');
}
