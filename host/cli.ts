#!/usr/bin/env node
/**
 * axctl entry point. Each command lives in its own file under host/commands/ and is found
 * by yargs' commandDir; a command's handler turns argv into options and calls a host service.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../shared/errors';
import { joinDashedValues, refuseNonNumbers, refuseOptionsWithoutValue, type DeclaredOptionTypes } from './cli-option-values';
import { exitOnUsageError, handleOutputErrors, printInterruptedJson, refuseRepeatedSingleOptions } from './cli-support';
import { interruptBeforeCommand } from './deploy/interrupt';
import { usageHint, usageMessage } from './cli-usage';

export function buildCli(argv: string[]) {
  const tokens = joinDashedValues(argv);
  const cli = yargs(tokens);
  const declared = () => (cli as unknown as { getOptions(): DeclaredOptionTypes & { array: string[] } }).getOptions();
  const commands: string[] = [];
  return cli
    .scriptName('axctl')
    // yargs' messages in the user's language would be half translated next to axctl's, and
    // fail() below rewrites some of them, so it has to know their wording.
    .locale('en')
    .commandDir('commands', {
      extensions: ['js'],
      visit: (module: { command?: string | readonly string[] }) => {
        const usage = Array.isArray(module.command) ? module.command[0] : module.command;
        if (typeof usage === 'string') commands.push(usage.split(' ')[0]!);
        return module;
      },
    })
    .demandCommand(1, 'name a command')
    .middleware((args) => {
      // A throw here would reach the user as a yargs stack trace: report it like fail() does.
      try {
        refuseRepeatedSingleOptions(args, declared());
        refuseOptionsWithoutValue(args, tokens, declared());
        refuseNonNumbers(args, tokens, declared());
      } catch (err) {
        exitOnUsageError(err, tokens);
      }
    }, true)
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs reports usage problems here; errors of a command's own work are handled by its
      // action().
      exitOnUsageError(err ?? new UsageError('USAGE_ERROR', usageMessage(msg, tokens, commands), { hint: usageHint(tokens, commands) }), tokens);
    });
}

if (require.main === module) {
  interruptBeforeCommand(printInterruptedJson);
  handleOutputErrors();
  void buildCli(hideBin(process.argv)).parseAsync();
}
