/**
 * `axctl deploy`: upload the model and the gt inputs to the board (only what it lacks) and
 * record board, model and gt in .axctl/ so a bare `axctl verify` knows what to check.
 * Exit 0 deployed; 2 usage or bad local files; 3 a gt input does not fit the model; 5 cannot
 * connect or authenticate; 130 interrupted.
 */
import type { Argv } from 'yargs';
import { boardOptions, type BoardArgs } from '../deploy/cli-options';
import { sshOptions, type SshArgs } from '../ssh/cli-options';

export interface Args extends BoardArgs, SshArgs {
  json: boolean;
  describe: boolean;
  timeout?: number;
}

export const command = 'deploy';
export const describe = 'Upload the model and the gt inputs to the board (only what it lacks) and record them in .axctl/';

export function builder(yargs: Argv): Argv<Args> {
  return sshOptions(boardOptions(yargs))
    .option('json', { type: 'boolean', default: false, describe: 'print what was deployed as JSON' })
    .option('describe', {
      type: 'boolean',
      default: true,
      describe: "for a model not seen run before, have the board list its inputs (one run_joint start) to check the gt folder against it; --no-describe leaves that to verify",
    })
    .option('timeout', {
      type: 'number',
      describe: "time limit of the run_joint start that lists a new model's inputs on the board, in seconds, at most 86400 [default: the agent's, 600]",
    })
    .example('$0 deploy --board ws://192.168.1.20:7007 --model model.joint --gt gt/ --token-file board.token', 'first deploy')
    .example('$0 deploy', 'deploy again what .axctl/ recorded (uploads only what changed)') as unknown as Argv<Args>;
}

/**
 * Loaded when the command runs: its implementation brings the protocol, WebSocket, reports and
 * progress bars (~150 ms), which every other axctl command would load at start (yargs loads
 * every command module to list the commands).
 */
export const handler = (argv: Args): Promise<void> => (require('../deploy/deploy-command') as typeof import('../deploy/deploy-command')).runDeployCommand(argv);
