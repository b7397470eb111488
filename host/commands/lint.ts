/**
 * `axctl lint CONFIG`: check a Pulsar config for the mistakes the precision guide lists
 * (step 3.2). Exit 0 no errors (warnings and notes allowed), 1 findings of severity error,
 * 2 the file cannot be read or is not valid prototxt.
 */
import type { Argv } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import { hasErrors, lintConfig, parseMounts } from '../lint';
import { renderFindings } from '../lint/render';

interface Args {
  config: string;
  json: boolean;
  mount?: string[];
}

export const command = 'lint <config>';
export const describe = 'Check a Pulsar config.prototxt for settings known to lose precision (colour order, calibration, INT16...)';

export function builder(yargs: Argv): Argv<Args> {
  return yargs
    .positional('config', { type: 'string', demandOption: true, describe: 'config.prototxt (or an output_config)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the findings as JSON' })
    .option('mount', { type: 'string', array: true, describe: 'CONTAINER=HOST folder for dataset paths written as the toolchain container sees them, e.g. /data=.' })
    .example('$0 lint config.prototxt', 'findings with file:line')
    .example('$0 lint config/config.prototxt --mount /data=.', 'paths like /data/dataset/x.tar are looked up under the current folder') as unknown as Argv<Args>;
}

export const handler = action(async (argv: Args) => {
  const findings = await lintConfig(argv.config, { mounts: parseMounts(argv.mount) });
  process.stdout.write(argv.json ? `${JSON.stringify({ file: argv.config, findings }, null, 2)}\n` : renderFindings(argv.config, findings));
  return hasErrors(findings) ? ExitCode.MISMATCH : ExitCode.OK;
});
