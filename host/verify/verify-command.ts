/** `axctl verify`'s handler (host/commands/verify.ts has its options): argv → verify() → the report, its files and the exit code. */
import { ExitCode, isAxError } from '../../shared/errors';
import { action, reportError, warnNotRecorded } from '../cli-support';
import { sshBoardOptions } from '../ssh/cli-options';
import { INTERRUPTED_EXIT, onInterrupt } from '../deploy/interrupt';
import { createProgress, progressMode } from '../deploy/progress';
import { countOption, secondsOption } from '../cli-numbers';
import { resolveTargets } from '../deploy/targets';
import { refuseOutputsInStateFolder, refuseOutputsOnInputs, renderJson, renderVerifyErrorJUnit, renderVerifyText, useColor, writeReportFile, writeReports } from '../report';
import { VERDICT_EXIT } from './exit-codes';
import { displayPath, verify } from './verify';
import { resolveBoard } from '../board/open-board';
import { boardNaming } from '../board/session';
import { version as AXCTL_VERSION } from '../../package.json';
import type { Args } from '../commands/verify';

export const runVerifyCommand = action(async (argv: Args) => {
  const cwd = process.cwd();
  const options = {
    connectTimeoutMs: secondsOption('connect-timeout', argv['connect-timeout']),
    timeoutMs: secondsOption('timeout', argv.timeout),
    repeat: countOption('repeat', argv.repeat, 1, 100_000),
    warmup: countOption('warmup', argv.warmup, 0, 100_000),
  };
  const targets = await resolveTargets({ board: argv.board, model: argv.model, gt: argv.gt, tokenFile: argv['token-file'] }, cwd, 'verify');
  const outputs = [{ option: '--junit', path: argv.junit }, { option: '--html', path: argv.html }, { option: '--save-outputs', path: argv['save-outputs'], folder: true }];
  refuseOutputsInStateFolder(outputs, cwd);
  refuseOutputsOnInputs(
    outputs,
    [
      { option: '--model', what: 'the model', path: targets.model },
      { option: '--token-file', what: 'the token file', path: targets.tokenFile },
      { option: '--gt', what: 'the gt folder', path: targets.gt, folder: true },
    ],
    cwd,
  );
  const progress = createProgress(progressMode(argv.progress));
  const abort = new AbortController();
  const dispose = onInterrupt(() => abort.abort());
  const startedAt = new Date();
  let outcome;
  let reached = false;
  try {
    outcome = await verify({
      ...targets, ...sshBoardOptions(argv), ...options, cwd, progress, signal: abort.signal, onBoardReached: () => (reached = true),
      ...(argv['save-outputs'] && { saveOutputs: argv['save-outputs'] }),
    });
  } catch (err) {
    if (abort.signal.aborted) {
      process.stderr.write('axctl: verify interrupted\n');
      return INTERRUPTED_EXIT;
    }
    // No verdict because of the board or the link (exit 5: not reached, refused, lost), or for
    // any error once the local checks passed and the board was reached (its store full or
    // broken, a blob evicted again: exit 2 too): CI still gets a JUnit file, with the error in
    // it, so the board shows as broken instead of missing. A local mistake found before (a bad
    // option or file, no token: exit 2) is the job's, not the board's: no file.
    if (argv.junit && isAxError(err) && (err.exitCode === ExitCode.CONNECT || reached)) {
      // Named as a verdict's file names the board and model, so a farm's history stays one suite.
      const board = await resolveBoard({ board: targets.board, cwd }).then(boardNaming, () => ({ url: targets.board }));
      const xml = renderVerifyErrorJUnit({ board, model: displayPath(cwd, targets.model), gt: displayPath(cwd, targets.gt), error: err, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), axctlVersion: AXCTL_VERSION });
      await writeReportFile(argv.junit, xml).catch((writeErr: unknown) => reportError(writeErr));
    }
    throw err;
  } finally {
    progress.stop();
    dispose();
  }
  if (outcome.interrupted) {
    process.stderr.write('axctl: verify interrupted; the run on the board was cancelled\n');
    return INTERRUPTED_EXIT;
  }
  const { report } = outcome;
  process.stdout.write(argv.json ? renderJson(report) : renderVerifyText(report, { color: useColor(process.stdout) }));
  warnNotRecorded(outcome.notRecorded);
  const failed = await writeReports(report, { junit: argv.junit ?? null, html: argv.html ?? null });
  if (outcome.saveOutputsError) failed.unshift(outcome.saveOutputsError);
  for (const err of failed) reportError(err);
  return failed.length > 0 ? ExitCode.USAGE : VERDICT_EXIT[report.verdict];
});
