/**
 * `axctl inspect PATH`: say what a run_joint log, pulsar run log, prototxt, .npy/.bin tensor
 * or gt folder contains. Read-only; exit 0 when the path could be read, 2 when it could not.
 */
import type { Argv } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import { inspectPath } from '../inspect/inspect';
import { parseInspectOptions } from '../inspect/options';
import { renderReport } from '../inspect/render';

interface InspectArgs {
  path: string;
  json: boolean;
  dtype?: string;
  shape?: string;
}

export const command = 'inspect <path>';
export const describe = 'Show what a run_joint log, pulsar run log, prototxt, .npy/.bin tensor or gt folder contains';

export function builder(yargs: Argv): Argv<InspectArgs> {
  return yargs
    .positional('path', { type: 'string', demandOption: true, describe: 'file or gt folder; its kind is recognised by content' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
    .option('dtype', { type: 'string', describe: 'element type of a raw .bin (float32, uint8, int8/sint8, int16/sint16...)' })
    .option('shape', { type: 'string', describe: 'shape of a raw .bin, e.g. 1,3,224,224' })
    .example('$0 inspect run_joint.log', 'model info, input fallbacks, dumps and timing of a board run')
    .example('$0 inspect gt/', 'what a pulsar run gt folder holds')
    .example('$0 inspect out/fc.bin --dtype float32 --shape 1,1000', 'min/max/mean of a raw tensor') as unknown as Argv<InspectArgs>;
}

export const handler = action(async (argv: InspectArgs) => {
  const report = await inspectPath(argv.path, parseInspectOptions(argv));
  process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return ExitCode.OK;
});
