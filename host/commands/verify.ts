/**
 * `axctl verify`: run the gt inputs on the board, compare its outputs with the simulator's
 * (gt/joint) and print one verdict with its evidence and what to do next.
 * Exit 0 match, 1 mismatch, 3 input-error, 4 run-failed, 5 cannot connect or authenticate,
 * 2 usage or bad local files (also when a --junit/--html file or the --save-outputs copies cannot be
 * written: after the verdict), 130 interrupted.
 */
import type { Argv } from 'yargs';
import { boardOptions, type BoardArgs } from '../deploy/cli-options';
import { sshOptions, type SshArgs } from '../ssh/cli-options';

export interface Args extends BoardArgs, SshArgs {
  timeout?: number;
  repeat?: number;
  warmup?: number;
  json: boolean;
  junit?: string;
  html?: string;
  'save-outputs'?: string;
}

export const command = 'verify';
export const describe = "Run the gt inputs on the board and compare its outputs with the simulator's: match, mismatch, input-error or run-failed";

export function builder(yargs: Argv): Argv<Args> {
  return sshOptions(boardOptions(yargs))
    .option('timeout', { type: 'number', describe: "run_joint's time limit on the board, in seconds, at most 86400 [default: the agent's, 600]" })
    .option('repeat', { type: 'number', describe: 'timed inferences (run_joint --repeat) [default: 1]' })
    .option('warmup', { type: 'number', describe: 'untimed inferences before them (run_joint --warmup) [default: 0]' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON instead of text' })
    .option('junit', { type: 'string', describe: 'also write the report as JUnit XML to this file' })
    .option('html', { type: 'string', describe: 'also write the report as one offline HTML page to this file' })
    .option('save-outputs', { type: 'string', describe: "keep the board's outputs in this folder (<name>.bin, '/' → '_'); a new or empty one, or one an earlier --save-outputs filled" })
    .example('$0 verify', 'check what axctl deploy recorded in .axctl/')
    .example('$0 verify --board ws://192.168.1.20:7007 --model model.joint --gt gt/ --json', 'without a deploy, JSON for scripts')
    .epilogue('Exit codes: 0 match, 1 mismatch, 3 input-error, 4 run-failed, 5 cannot connect or authenticate, 2 usage or bad local files.') as unknown as Argv<Args>;
}

/**
 * Loaded when the command runs: its implementation brings the protocol, WebSocket, reports and
 * progress bars (~150 ms), which every other axctl command would load at start (yargs loads
 * every command module to list the commands).
 */
export const handler = (argv: Args): Promise<void> => (require('../verify/verify-command') as typeof import('../verify/verify-command')).runVerifyCommand(argv);
