/**
 * `axctl compare A B`: judge tensor file(s) B against reference(s) A — two files, or two
 * folders matched by tensor name. Exit 0 within tolerance, 1 outside it, 2 for bad input.
 */
import type { Argv } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import { runCompare } from '../compare/compare';
import { parseCompareArgs, type CompareArgs } from '../compare/options';
import { reportJson, reportTable } from '../compare/render';

interface Args extends CompareArgs {
  json: boolean;
}

export const command = 'compare <reference> <compared>';
export const describe = 'Compare tensors (files or folders matched by name) with cosine, 2-norm error and a tolerance';

export function builder(yargs: Argv): Argv<Args> {
  return yargs
    .positional('reference', { type: 'string', demandOption: true, describe: 'reference file or folder (gt/joint, gt/onnx)' })
    .positional('compared', { type: 'string', demandOption: true, describe: 'file or folder to judge (board outputs, gt/joint)' })
    .option('stage', {
      type: 'string',
      choices: ['board', 'compile'],
      default: 'board',
      describe: 'default tolerance: board = board vs simulator (integers bit-exact, floats atol 1e-5 rtol 1e-4 cos >= 0.9999); compile = onnx vs joint (cos >= 0.98)',
    })
    .option('dtype', { type: 'string', describe: 'element type of raw .bin files without other description (float32, int8/sint8, uint8...)' })
    .option('shape', { type: 'string', describe: 'shape of raw .bin files (two files only), e.g. 1,1000' })
    .option('log', { type: 'string', describe: 'run_joint log: dtype, shape and Q of each output, by file name (/ → _)' })
    .option('q', { type: 'number', describe: 'dequantize an integer side compared with a float side: value / q (default: Q from --log)' })
    .option('atol', { type: 'number', describe: 'absolute tolerance (giving atol or rtol makes allclose a requirement)' })
    .option('rtol', { type: 'number', describe: 'relative tolerance, times |reference|' })
    .option('min-cos', { type: 'number', describe: 'lowest acceptable cosine similarity' })
    .option('equal-nan', { type: 'boolean', describe: 'NaN on both sides at the same place counts as equal' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
    .example('$0 compare gt/joint out/', 'board outputs against the simulator, by tensor name')
    .example('$0 compare gt/onnx gt/joint --stage compile', 'compiled model against the float model')
    .example('$0 compare gt/joint/fc.npy out/fc.bin --log run_joint.log', 'one output; dtype, shape and Q from the log') as unknown as Argv<Args>;
}

export const handler = action(async (argv: Args) => {
  const report = await runCompare(parseCompareArgs(argv));
  process.stdout.write(argv.json ? reportJson(report) : reportTable(report));
  return report.pass ? ExitCode.OK : ExitCode.MISMATCH;
});
