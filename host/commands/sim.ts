/**
 * `axctl sim`: run `pulsar run` (x86 simulation + onnx comparison), read its score table and
 * flag outputs below cosine 0.98, the guide's precision loss. Refuses a config that is not
 * the output config pulsar build wrote (guide step 3.1). Exit 0 all outputs >= 0.98,
 * 1 some output below, 2 usage error, refused config, missing or failing pulsar, 130 interrupted.
 */
import type { Argv } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import { runInterruptible } from '../deploy/interrupt';
import { toolchainFromArgs, withPulsarOptions, type PulsarCliArgs } from '../toolchain/cli-options';
import { renderSim } from '../toolchain/render';
import { pulsarSim } from '../toolchain/sim';

interface Args extends PulsarCliArgs {
  onnx: string;
  joint: string;
  config: string;
  input: string[];
  layer?: string[];
  outputGt: string;
  allowUnexpandedConfig: boolean;
  minCos?: number;
}

export const command = 'sim';
export const describe = 'Simulate a compiled model with pulsar run and flag outputs whose cosine to the onnx is below 0.98';

export function builder(yargs: Argv): Argv<Args> {
  return withPulsarOptions(yargs)
    .option('onnx', { type: 'string', demandOption: true, describe: 'the onnx model (the float reference)' })
    .option('joint', { type: 'string', demandOption: true, describe: 'the compiled model: model.joint, or model.lava_joint to check quantization alone' })
    .option('config', { type: 'string', demandOption: true, describe: 'the output config pulsar build wrote (--output-config of axctl build)' })
    .option('input', { type: 'string', array: true, demandOption: true, describe: 'input file(s): jpg/png/bin, one per model input' })
    .option('layer', { type: 'string', array: true, describe: 'input layer name per --input file, same order (multi-input models)' })
    .option('output-gt', { type: 'string', demandOption: true, describe: 'folder for the gt tensors (input/, joint/, onnx/); a run that succeeds replaces it whole, a folder holding other files is refused' })
    .option('allow-unexpanded-config', { type: 'boolean', default: false, describe: 'skip the check that --config is the output config the build wrote' })
    .option('min-cos', { type: 'number', describe: 'cosine threshold (default 0.98, the guide\'s)' })
    .example('$0 sim --onnx model.onnx --joint model.joint --config output_config.prototxt --input cat.jpg --output-gt gt/', 'simulate and compare')
    .example('$0 sim --onnx model.onnx --joint model/model.lava_joint --config output_config.prototxt --input cat.jpg --output-gt gt-lava/', 'is the loss already there after quantization?') as unknown as Argv<Args>;
}

export const handler = action((argv: Args) => runInterruptible('sim', async (signal) => {
  const tool = toolchainFromArgs(argv, 'run', signal);
  const result = await pulsarSim(tool, {
    onnx: argv.onnx,
    model: argv.joint,
    config: argv.config,
    inputs: argv.input,
    layers: argv.layer,
    outputGt: argv.outputGt,
    allowUnexpandedConfig: argv.allowUnexpandedConfig,
    cosineThreshold: argv.minCos,
  });
  process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : renderSim(result));
  return result.verdict === 'ok' ? ExitCode.OK : ExitCode.MISMATCH;
}));
