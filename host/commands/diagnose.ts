/**
 * `axctl diagnose`: the precision guide's checklist, automated. Runs every check its inputs
 * allow (config lint, output-config check, pulsar run on joint and lava_joint, the per-layer
 * table, one calibration image, the board through verify), skips the others with what they
 * would need, and ends with one conclusion, its evidence and the guide's remedies.
 * Exit 0 ok (or inconclusive with nothing failed), 1 a precision problem found, 2 usage, bad
 * local file, pulsar cannot start or a report file cannot be written, 3 the board did not get
 * the inputs, 4 run_joint failed on the board, 5 cannot reach the board, 130 interrupted.
 */
import type { Argv } from 'yargs';
import { ExitCode, UsageError } from '../../shared/errors';
import { action, reportError, warnNotRecorded } from '../cli-support';
import { boardOptions, type BoardArgs } from '../deploy/cli-options';
import { sshBoardOptions, sshOptions, type SshArgs } from '../ssh/cli-options';
import { INTERRUPTED_EXIT, onInterrupt } from '../deploy/interrupt';
import { createProgress, progressMode } from '../deploy/progress';
import { secondsOption, TIMER_MAX_SECONDS } from '../cli-numbers';
import { resolveTargets } from '../deploy/targets';
import type { DiagnoseOptions, PlatformAnswer } from '../diagnose';
import { parseMounts } from '../lint';
import { refuseOutputsOnInputs, renderDiagnoseText, renderJson, useColor, writeReports, type InputPath } from '../report';
import { withPulsarOptions, type PulsarCliArgs } from '../toolchain/cli-options';
import { PulsarToolchain } from '../toolchain/toolchain';
import { requireFolder } from '../toolchain/cli-options';

interface Args extends PulsarCliArgs, BoardArgs, SshArgs {
  onnx?: string;
  joint?: string;
  'lava-joint'?: string;
  config?: string;
  'output-config'?: string;
  'lava-gt'?: string;
  input?: string[];
  layer?: string[];
  'calibration-image'?: string;
  'build-log'?: string;
  build: boolean;
  'other-platforms-ok': boolean;
  'other-platforms-bad': boolean;
  'verify-report'?: string;
  'work-dir'?: string;
  'build-records': boolean;
  mount?: string[];
  junit?: string;
  html?: string;
}

export const command = 'diagnose';
export const describe = "Find where precision is lost (the guide's checklist): config, quantization, hardware compile, board or post-processing";

export function builder(yargs: Argv): Argv<Args> {
  return sshOptions(boardOptions(withPulsarOptions(yargs)))
    .option('onnx', { type: 'string', describe: 'the float model: the reference of every pulsar run' })
    .option('joint', { type: 'string', describe: 'the compiled model (model.joint); --model is the same' })
    .option('lava-joint', { type: 'string', describe: 'the quantized model before the hardware compile (pulsar build leaves model.lava_joint beside the joint): tells quantization loss from compile loss' })
    .option('config', { type: 'string', describe: 'the config pulsar build reads: linted (colour space, mean/std order, calibration...)' })
    .option('output-config', { type: 'string', describe: 'the config pulsar build wrote (--output_config): the one pulsar run needs' })
    .option('lava-gt', { type: 'string', describe: 'a gt folder of pulsar run onnx vs lava_joint (instead of running it)' })
    .option('input', { type: 'string', array: true, describe: 'input file(s) for pulsar run: jpg/png/bin, one per model input' })
    .option('layer', { type: 'string', array: true, describe: 'input layer name per --input file, same order (multi-input models)' })
    .option('calibration-image', { type: 'string', describe: 'one image taken from the calibration tar: is the calibration data like your data? (pulsar run on it)' })
    .option('build-log', { type: 'string', describe: 'a saved pulsar build log with the per-layer score table (config score_compare_per_layer: true)' })
    .option('build', { type: 'boolean', default: false, describe: 'run pulsar build (--onnx, --config) into the work folder first and diagnose what it wrote' })
    .option('other-platforms-ok', { type: 'boolean', default: false, describe: 'step 1: the model keeps its accuracy on other platforms; only AX loses it' })
    .option('other-platforms-bad', { type: 'boolean', default: false, describe: 'step 1: every platform loses accuracy' })
    .option('verify-report', { type: 'string', describe: 'a saved axctl verify --json report used as the board step (instead of --board)' })
    .option('work-dir', { type: 'string', describe: 'folder for pulsar runs, the build and escalation files [default: {cwd}/.axctl/diagnose/<time>]' })
    .option('build-records', { type: 'boolean', default: true, describe: 'complete onnx, configs and lava_joint of the joint from .axctl/builds.json; --no-build-records to use only what is given' })
    .option('mount', { type: 'string', array: true, describe: 'CONTAINER=HOST folder for dataset paths in the config written as the toolchain container sees them, e.g. /data=.' })
    .option('junit', { type: 'string', describe: 'also write the report as JUnit XML to this file' })
    .option('html', { type: 'string', describe: 'also write the report as one offline HTML page to this file' })
    .example('$0 diagnose --config config.prototxt', 'lint the config alone (step 3.2)')
    .example('$0 diagnose --onnx model.onnx --joint out/model.joint --lava-joint out/model.lava_joint --output-config out/output_config.prototxt --input cat.jpg', 'which stage loses precision?')
    .example('$0 diagnose --joint out/model.joint --input cat.jpg --board ws://192.168.1.20:7007 --token-file board.token --other-platforms-ok', 'the whole checklist, board included')
    .epilogue('Exit codes: 0 ok (or inconclusive with nothing failed), 1 a precision problem was found, 2 usage, bad local file, pulsar cannot start or a report file cannot be written, 3 the board did not get the gt inputs, 4 run_joint failed on the board, 5 cannot reach the board, 130 interrupted.') as unknown as Argv<Args>;
}

export const handler = action(async (argv: Args) => {
  const cwd = process.cwd();
  // --timeout is pulsar's (a local process), --connect-timeout the board's: checked before either starts.
  const timeoutMs = secondsOption('timeout', argv.timeout, { max: TIMER_MAX_SECONDS });
  const connectTimeoutMs = secondsOption('connect-timeout', argv['connect-timeout']);
  const abort = new AbortController();
  if (argv.cwd !== undefined) requireFolder(argv.cwd, '--cwd', 'the folder pulsar works in');
  const tool = new PulsarToolchain({
    pulsar: argv.pulsar,
    cwd: argv.cwd,
    onLine: argv.quiet ? undefined : (line) => process.stderr.write(`${line.text}\n`),
    signal: abort.signal,
    ...(timeoutMs !== undefined && { buildTimeoutMs: timeoutMs, runTimeoutMs: timeoutMs }),
  });
  const joint = jointOption(argv);
  const board = await boardTargets(argv, joint, cwd);
  refuseOutputsOnInputs([{ option: '--junit', path: argv.junit }, { option: '--html', path: argv.html }], diagnoseInputs(argv, board), cwd);
  const progress = createProgress(progressMode(argv.progress));
  const options: DiagnoseOptions = {
    onnx: argv.onnx, joint: board.joint, lavaJoint: argv['lava-joint'], config: argv.config, outputConfig: argv['output-config'],
    gt: board.gt, lavaGt: argv['lava-gt'], inputs: argv.input, layers: argv.layer, calibrationImage: argv['calibration-image'],
    buildLog: argv['build-log'], build: argv.build, platforms: platformAnswer(argv), board: argv.board,
    verifyReport: argv['verify-report'], workDir: argv['work-dir'], useBuildRecords: argv['build-records'],
    mounts: parseMounts(argv.mount), argv: ['axctl', ...process.argv.slice(2)],
  };
  const dispose = onInterrupt(() => abort.abort());
  // The board step runs verify, which notes its verdict in a deploy record of this folder for the same target.
  let notRecorded: string | undefined;
  let result;
  try {
    // Loaded when diagnose runs (~50 ms), not at every axctl start with the command list.
    const { diagnose, verifyOnBoard } = require('../diagnose') as typeof import('../diagnose');
    result = await diagnose(options, {
      tool,
      verify: verifyOnBoard({ cwd, tokenFile: board.tokenFile, connectTimeoutMs, progress, signal: abort.signal, ssh: sshBoardOptions(argv), onNotRecorded: (why) => (notRecorded = why) }),
      progress: argv.quiet ? undefined : (line) => process.stderr.write(`axctl: diagnose: ${line}\n`),
    });
  } catch (err) {
    if (abort.signal.aborted) {
      process.stderr.write('axctl: diagnose interrupted\n');
      return INTERRUPTED_EXIT;
    }
    throw err;
  } finally {
    progress.stop();
    dispose();
  }
  if (abort.signal.aborted) {
    process.stderr.write('axctl: diagnose interrupted; no conclusion\n');
    return INTERRUPTED_EXIT;
  }
  const { report } = result;
  process.stdout.write(argv.json ? renderJson(report) : renderDiagnoseText(report, { color: useColor(process.stdout) }));
  warnNotRecorded(notRecorded);
  const failed = await writeReports(report, { junit: argv.junit ?? null, html: argv.html ?? null });
  for (const err of failed) reportError(err);
  return failed.length > 0 ? ExitCode.USAGE : result.exitCode;
});

function platformAnswer(argv: Args): PlatformAnswer | null {
  if (argv['other-platforms-ok'] && argv['other-platforms-bad']) {
    throw new UsageError('DIAGNOSE_PLATFORMS_BOTH', '--other-platforms-ok and --other-platforms-bad contradict each other', {
      hint: 'give the one that is true: ok when only AX loses accuracy, bad when every platform does',
    });
  }
  if (argv['other-platforms-ok']) return 'only-ax';
  if (argv['other-platforms-bad']) return 'all-platforms';
  return null;
}

/** What diagnose reads, which its reports may not overwrite. */
function diagnoseInputs(argv: Args, board: { joint?: string; gt?: string; tokenFile?: string }): InputPath[] {
  const file = (option: string, what: string, p: string | undefined): InputPath => ({ option, what, path: p });
  return [
    file(argv.joint ? '--joint' : '--model', 'the model', board.joint),
    file('--lava-joint', 'the lava_joint model', argv['lava-joint']),
    file('--onnx', 'the float model', argv.onnx),
    file('--config', 'the config', argv.config),
    file('--output-config', 'the output config', argv['output-config']),
    file('--calibration-image', 'the calibration image', argv['calibration-image']),
    file('--build-log', 'the build log', argv['build-log']),
    file('--verify-report', 'the verify report', argv['verify-report']),
    file('--token-file', 'the token file', board.tokenFile),
    ...(argv.input ?? []).map((input) => file('--input', 'an input file', input)),
    { option: '--gt', what: 'the gt folder', path: board.gt, folder: true },
    { option: '--lava-gt', what: 'the lava gt folder', path: argv['lava-gt'], folder: true },
  ];
}

/** --joint, or verify's --model for the same file. */
function jointOption(argv: Args): string | undefined {
  if (argv.joint && argv.model && argv.joint !== argv.model) {
    throw new UsageError('DIAGNOSE_JOINT_TWICE', `--joint ${argv.joint} and --model ${argv.model} name two models`, { hint: 'give the compiled model once, as --joint' });
  }
  return argv.joint ?? argv.model;
}

/**
 * With --board, what verify would use: the model, gt folder and token file from the
 * command line, else from the folder's .axctl/ deploy record (as axctl verify does).
 */
async function boardTargets(argv: Args, joint: string | undefined, cwd: string): Promise<{ joint?: string; gt?: string; tokenFile?: string }> {
  const given = { joint, gt: argv.gt, tokenFile: argv['token-file'] };
  if (!argv.board || (joint && (argv.gt || (argv.input ?? []).length > 0))) return given;
  try {
    const t = await resolveTargets({ board: argv.board, model: joint, gt: argv.gt, tokenFile: argv['token-file'] }, cwd, 'verify');
    return { joint: t.model, gt: argv.gt ?? ((argv.input ?? []).length > 0 ? undefined : t.gt), tokenFile: t.tokenFile };
  } catch (err) {
    if ((err as { code?: string }).code === 'MISSING_OPTION') return given;
    throw err;
  }
}
