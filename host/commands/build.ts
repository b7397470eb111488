/**
 * `axctl build`: run `pulsar build` and remember what it wrote (.axctl/builds.json), so
 * `axctl sim` can insist on the output config this build produced. Exit 0 built, 2 for a
 * usage error, a missing or failing pulsar, or a build that failed, 130 interrupted.
 */
import type { Argv } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import { parseTargetHardware, pulsarBuild } from '../toolchain/build';
import { runInterruptible } from '../deploy/interrupt';
import { toolchainFromArgs, withPulsarOptions, type PulsarCliArgs } from '../toolchain/cli-options';
import { renderBuild } from '../toolchain/render';

interface Args extends PulsarCliArgs {
  onnx: string;
  config: string;
  output: string;
  outputConfig: string;
  targetHardware?: string;
  record: boolean;
}

export const command = 'build';
export const describe = 'Compile an onnx model with pulsar build and record the output config it writes';

export function builder(yargs: Argv): Argv<Args> {
  return withPulsarOptions(yargs)
    .option('onnx', { type: 'string', demandOption: true, describe: 'the onnx model (pulsar build --input)' })
    .option('config', { type: 'string', demandOption: true, describe: 'the build config (config.prototxt)' })
    .option('output', { type: 'string', demandOption: true, describe: 'where the joint goes (model.joint)' })
    .option('output-config', { type: 'string', demandOption: true, describe: 'where pulsar build writes the expanded config that axctl sim needs' })
    .option('target-hardware', { type: 'string', describe: 'AX620, AX630 or AX170 (pulsar build --target_hardware); default: the config\'s' })
    .option('record', { type: 'boolean', default: true, describe: 'record the build in .axctl/builds.json (--no-record to skip)' })
    .example('$0 build --onnx model.onnx --config config.prototxt --output model.joint --output-config output_config.prototxt', 'build with the pulsar on PATH')
    .example('AXCTL_PULSAR="docker run --rm -v {cwd}:/data -w /data axera/neuwizard:0.6.1.14 pulsar" $0 build ...', 'build in the toolchain container') as unknown as Argv<Args>;
}

export const handler = action((argv: Args) => runInterruptible('build', async (signal) => {
  const tool = toolchainFromArgs(argv, 'build', signal);
  const result = await pulsarBuild(tool, {
    onnx: argv.onnx,
    config: argv.config,
    output: argv.output,
    outputConfig: argv.outputConfig,
    targetHardware: argv.targetHardware ? parseTargetHardware(argv.targetHardware) : undefined,
    record: argv.record,
  });
  process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : renderBuild(result));
  return ExitCode.OK;
}));
