#!/usr/bin/env node
/**
 * A stand-in for the Pulsar toolchain's `pulsar` command (axera_neuwizard 0.6.x), for tests
 * and demos on machines without the Docker image. It follows the documented commands,
 * options, log lines, score table and gt folder:
 *
 *   pulsar version
 *   pulsar build --input model.onnx --config config.prototxt --output model.joint
 *                --output_config output_config.prototxt [--target_hardware AX620] ...
 *   pulsar run model.onnx model.joint|model.lava_joint --input IN... [--layer NAME...]
 *              --config output_config.prototxt [--output_gt gt/]
 *   pulsar info model.joint [--layer_mapping]
 *
 * Its "onnx" models are stand-in files (onnx-model.ts; `pulsar sim-make-onnx FILE [--seed N]`
 * writes one) and its joints are the board simulator's (scripts/sim/model.ts), so the board
 * simulator runs what this builds. Failure cases: AXPULSAR_FAULT (faults.ts).
 */
import { ArgError, one, parseArgv as parse } from './args';
import { BUILD_OPTIONS, pulsarBuild } from './build';
import { Fail } from './fail';
import { parsePulsarFaults, standInVersion, type PulsarFaults } from './faults';
import { INFO_OPTIONS, pulsarInfo } from './info';
import { PulsarLog } from './log';
import { classifierOnnx, writeOnnxFile } from './onnx-model';
import { RUN_OPTIONS, pulsarRun } from './run';

const USAGE = `usage: pulsar [-h] {debug,build,version,info,run,view} ...

positional arguments:
  {debug,build,version,info,run,view}
    debug               score compare debug tool
    build               from onnx to joint
    version             version info
    info                brief model
    run                 simulate models
    view                neuglass to visualize mermaids

optional arguments:
  -h, --help            show this help message and exit
`;

export async function main(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  let faults: PulsarFaults;
  try {
    faults = parsePulsarFaults(process.env.AXPULSAR_FAULT);
  } catch (e) {
    err(`pulsar-sim: ${(e as Error).message}\n`);
    return 2;
  }
  if (faults.hang && command !== 'version') await new Promise(() => setInterval(() => undefined, 60_000));
  const log = new PulsarLog(out);
  try {
    switch (command) {
      case 'version': {
        const v = standInVersion();
        out(`${v.version}\n${v.commit}\n`);
        return 0;
      }
      case 'build':
        return pulsarBuild(parse(rest, BUILD_OPTIONS), faults, log);
      case 'run':
        return await pulsarRun(parse(rest, RUN_OPTIONS), faults, log);
      case 'info':
        return pulsarInfo(parse(rest, INFO_OPTIONS), log);
      case 'sim-make-onnx': {
        const args = parse(rest, { seed: { kind: 'one' } });
        const file = args.positionals[0];
        const seed = Number(one(args, 'seed') ?? '1');
        if (!file || !Number.isSafeInteger(seed) || seed < 0) throw new Fail(2, 'usage: pulsar sim-make-onnx FILE [--seed N]');
        writeOnnxFile(classifierOnnx(seed), file);
        return 0;
      }
      case undefined:
      case '-h':
      case '--help':
        (command ? out : err)(USAGE);
        return command ? 0 : 2;
      case 'debug':
      case 'view':
        throw new Fail(2, `pulsar-sim: 'pulsar ${command}' is not part of the stand-in`);
      default:
        throw new Fail(2, `${USAGE.split('\n')[0]}\npulsar: error: argument command: invalid choice: '${command}' (choose from 'debug', 'build', 'version', 'info', 'run', 'view')`);
    }
  } catch (e) {
    if (e instanceof Fail) {
      if (e.traceback.length > 0) err(`${e.traceback.join('\n')}\n`);
      else err(`${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ArgError) {
      err(`usage: pulsar ${command} [-h] ...\npulsar ${command}: error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s)).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`pulsar-sim: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
