/**
 * `axctl boards`: the named boards of the inventory (axctl.yaml of the project and of the
 * user), each pinged at once: agent and run_joint versions, free store space, latency, or the
 * error that kept it from answering, in one line.
 * Exit 0 all answered, 1 some did not, 2 the inventory is missing, empty or malformed.
 */
import type { Argv } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { secondsOption } from '../cli-numbers';
import { action } from '../cli-support';
import { PING_DEFAULTS } from '../boards/ping-defaults';

interface Args {
  json: boolean;
  timeout: number;
}

export const command = 'boards';
export const describe = 'List the boards named in axctl.yaml and check that each answers';

export function builder(yargs: Argv): Argv<Args> {
  return yargs
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
    .option('timeout', { type: 'number', default: PING_DEFAULTS.timeoutMs / 1000, describe: 'seconds each board has to connect and answer' })
    .example('$0 boards', 'a table of the boards and how they answer')
    .epilogue('Exit codes: 0 every board answered, 1 some did not, 2 no inventory or a malformed one.') as unknown as Argv<Args>;
}

export const handler = action(async (argv: Args) => {
  const timeoutMs = secondsOption('timeout', argv.timeout, { code: 'BAD_TIMEOUT' })!;
  // Loaded when boards runs: pinging brings SSH (~60 ms), which every other command would load at start.
  const { pingInventory, renderBoards } = require('../boards/ping') as typeof import('../boards/ping');
  const report = await pingInventory({ timeoutMs, cwd: process.cwd() });
  process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : renderBoards(report));
  return report.answered === report.boards.length ? ExitCode.OK : ExitCode.MISMATCH;
});
