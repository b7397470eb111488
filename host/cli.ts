#!/usr/bin/env node
/**
 * axctl entry point. Each command lives in its own file under host/commands/ and is found
 * by yargs' commandDir; a command's handler turns argv into options and calls a host service.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode } from '../shared/errors';

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName('axctl')
    .commandDir('commands', { extensions: ['js'] })
    .demandCommand(1, 'name a command (see axctl --help)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs reports usage problems here; real errors are handled by each command's action().
      if (err) throw err;
      process.stderr.write(`axctl: ${msg} (see axctl --help)\n`);
      process.exit(ExitCode.USAGE);
    });
}

if (require.main === module) {
  void buildCli(hideBin(process.argv)).parseAsync();
}
