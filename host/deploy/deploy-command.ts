/** `axctl deploy`'s handler (host/commands/deploy.ts has its options): argv → deploy() → what was sent, as text or JSON. */
import * as path from 'node:path';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import { sshBoardOptions, sshOptionWords } from '../ssh/cli-options';
import { shellQuote } from '../ssh/quote';
import { deploy, type DeployResult } from './deploy';
import type { BlobOutcome } from './ensure';
import { runInterruptible } from './interrupt';
import { createProgress, formatBytes, progressMode } from './progress';
import { secondsOption } from '../cli-numbers';
import { resolveTargets } from './targets';
import { boardLabel } from '../board/session';
import { runJointMissingWarning } from '../board/run-joint-missing';
import type { Args } from '../commands/deploy';

export const runDeployCommand = action(async (argv: Args) => {
  const cwd = process.cwd();
  const connectTimeoutMs = secondsOption('connect-timeout', argv['connect-timeout']);
  const describeTimeoutMs = secondsOption('timeout', argv.timeout);
  const targets = await resolveTargets({ board: argv.board, model: argv.model, gt: argv.gt, tokenFile: argv['token-file'] }, cwd, 'deploy');
  const progress = createProgress(progressMode(argv.progress));
  try {
    return await runInterruptible('deploy', async (signal) => {
      const result = await deploy({
        ...targets,
        ...sshBoardOptions(argv),
        cwd,
        connectTimeoutMs,
        progress,
        signal,
        describe: argv.describe,
        ...(describeTimeoutMs !== undefined && { describeTimeoutMs }),
      });
      process.stdout.write(argv.json ? `${JSON.stringify(deployJson(result), null, 2)}\n` : deployText(result, cwd, sshOptionWords(argv)));
      if (result.runJointProblem) process.stderr.write(`axctl: warning: ${runJointMissingWarning(result.runJointProblem)}\n`);
      return ExitCode.OK;
    }, 'run it again to resume the upload');
  } finally {
    progress.stop();
  }
});

function blobJson(o: BlobOutcome) {
  return { path: o.path, hash: o.hash, size: o.size, present: o.present, sentBytes: o.sentBytes, resumedFrom: o.resumedFrom };
}

/** `--json`: what is on the board now and what this deploy sent. */
export function deployJson(r: DeployResult) {
  return {
    board: { given: r.board.given, url: r.board.url, hostname: r.board.hostname ?? null, agentVersion: r.board.agentVersion ?? null },
    model: blobJson(r.model),
    inputs: r.inputs.map((i) => ({ name: i.label, ...blobJson(i) })),
    inputNamesKnown: r.inputNamesKnown,
    listing: r.listing,
    listingProblem: r.listingProblem,
    runJointProblem: r.runJointProblem?.code ?? null,
    sentBytes: r.sentBytes,
    durationMs: r.durationMs,
    state: r.stateFile,
  };
}

function deployText(r: DeployResult, cwd: string, sshWords: string[]): string {
  const rel = (p: string) => {
    const x = path.relative(cwd, p);
    return x && !x.startsWith('..') ? x : p;
  };
  const status = (o: BlobOutcome) =>
    o.present ? 'already on the board' : o.resumedFrom > 0 ? `uploaded (resumed at ${formatBytes(o.resumedFrom)}, ${formatBytes(o.sentBytes)} sent)` : `uploaded (${formatBytes(o.sentBytes)})`;
  const who = [r.board.hostname, r.board.agentVersion && `axagent ${r.board.agentVersion}`].filter(Boolean).join(', ');
  const rows = [
    ['model', rel(r.model.path), r.model.hash.slice(0, 12), formatBytes(r.model.size), status(r.model)],
    ...r.inputs.map((i) => [`input ${i.label}`, rel(i.path), i.hash.slice(0, 12), formatBytes(i.size), status(i)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = [
    `deployed to ${boardLabel(r.board)}${who ? ` (${who})` : ''}`,
    ...rows.map((row) => `  ${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`),
  ];
  if (r.listing === 'board') lines.push("  the board listed the model's inputs: every gt input has its file, of the size run_joint reads");
  else if (r.listing === 'cache') lines.push("  the model's inputs as run_joint listed them before (cached): every gt input has its file, of the size run_joint reads");
  // A run_joint gone from the board is the warning on stderr, not a note here.
  if (r.listingProblem && !r.runJointProblem) lines.push(`  note: run_joint could not list the model on the board (${r.listingProblem}); axctl verify shows the evidence`);
  else if (!r.inputNamesKnown) lines.push('  (input names are taken from the gt file names until the model has run once; verify checks them)');
  // The SSH options are not recorded: a bare verify would log in without them.
  const next = sshWords.length === 0
    ? 'run `axctl verify` next'
    : `run \`axctl verify ${sshWords.map(shownWord).join(' ')}\` next (SSH options are not recorded; in the board's axctl.yaml entry they would be)`;
  lines.push(`sent ${formatBytes(r.sentBytes)} in ${r.durationMs} ms; recorded in ${rel(r.stateFile)}: ${next}`);
  return `${lines.join('\n')}\n`;
}

/** A word as a shell needs it: as is when plain, else quoted. */
function shownWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : shellQuote(word);
}
