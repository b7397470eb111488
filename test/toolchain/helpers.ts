/**
 * Shared by the toolchain tests: the compiled stand-in pulsar and CLI (dist/, so
 * `npm run build` first), a project folder laid out like the docs' quick start, and a
 * script that stands in for `docker run ... IMAGE pulsar`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeOnnxFile, classifierOnnx } from '../../scripts/pulsar-sim/onnx-model';
import { makeTar } from '../lint/helpers';

export const ROOT = path.resolve(__dirname, '..', '..');
export const PULSAR = path.join(ROOT, 'dist', 'scripts', 'pulsar-sim', 'pulsar.js');
export const CLI = path.join(ROOT, 'dist', 'host', 'cli.js');
export const RUN_JOINT = path.join(ROOT, 'dist', 'scripts', 'sim', 'run-joint.js');

export function requireBuild(): void {
  for (const file of [PULSAR, CLI, RUN_JOINT]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  }
}

/** A BGR model config with BGR-ordered ImageNet statistics and per-layer comparison. */
export const CONFIG = `# BGR camera frames, ImageNet statistics in BGR order
input_type: INPUT_TYPE_ONNX
output_type: OUTPUT_TYPE_JOINT
target_hardware: TARGET_HARDWARE_AX620
src_input_tensors {
  color_space: TENSOR_COLOR_SPACE_BGR
}
dst_input_tensors {
  color_space: TENSOR_COLOR_SPACE_BGR
}
neuwizard_conf {
  operator_conf {
    input_conf_items {
      attributes {
        input_modifications {
          affine_preprocess {
            slope: 1
            slope_divisor: 255
            bias: 0
          }
        }
        input_modifications {
          input_normalization {
            mean: [0.406, 0.456, 0.485]
            std: [0.225, 0.224, 0.229]
          }
        }
      }
    }
  }
  dataset_conf_calibration {
    path: "../dataset/calib.tar"
    type: DATASET_TYPE_TAR
    size: 32
    batch_size: 32
    calibration_strategy: CALIB_STRATEGY_PER_TENSOR
    observer_method: OBSVR_METHOD_MIN_MAX
  }
  dataset_conf_error_measurement {
    path: "../dataset/calib.tar"
    type: DATASET_TYPE_TAR
    size: 4
  }
  evaluation_conf {
    path: "neuwizard.evaluator.error_measure_evaluator"
    type: EVALUATION_TYPE_ERROR_MEASURE
    source_ir_types: IR_TYPE_ONNX
    ir_types: IR_TYPE_LAVA
    score_compare_per_layer: true
  }
}
dst_output_tensors {
  tensor_layout: NHWC
}
pulsar_conf {
  ax620_virtual_npu: AX620_VIRTUAL_NPU_MODE_111
  batch_size: 1
}
`;

/**
 * tmp/<name>/: model.onnx (stand-in classifier), config/config.prototxt, dataset/calib.tar,
 * images/cat.jpg. `name` may contain spaces to exercise quoting.
 */
export function makePulsarProject(name = 'my project'): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-pulsar-'));
  const root = path.join(base, name);
  fs.mkdirSync(path.join(root, 'config'), { recursive: true });
  fs.mkdirSync(path.join(root, 'images'));
  writeOnnxFile(classifierOnnx(7), path.join(root, 'model.onnx'));
  fs.writeFileSync(path.join(root, 'config', 'config.prototxt'), CONFIG);
  makeTar(path.join(root, 'dataset', 'calib.tar'), 40);
  fs.writeFileSync(path.join(root, 'images', 'cat.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
  return root;
}

export function removeProject(root: string): void {
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
}

/**
 * A script standing in for `docker run --rm -v SRC:DST -w DST [--user U:G] IMAGE pulsar ARGS`:
 * writes the argv it received (one per line) to `log`, "mounts" SRC by running there, and
 * execs the stand-in pulsar. With `daemonDown` it answers like docker without a daemon.
 */
export function makeFakeDocker(dir: string, log: string, options: { daemonDown?: boolean } = {}): string {
  const file = path.join(dir, options.daemonDown ? 'docker-down' : 'docker');
  const down = 'echo "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?." >&2\nexit 125\n';
  fs.writeFileSync(file, `#!/bin/sh
printf '%s\\n' "$@" > '${log}'
${options.daemonDown ? down : ''}[ "$1" = run ] || { echo "fake docker: only run" >&2; exit 125; }
shift
src=
while [ $# -gt 0 ]; do
  case "$1" in
    --rm) shift ;;
    -v) src="\${2%%:*}"; shift 2 ;;
    -w|--user) shift 2 ;;
    *) break ;;
  esac
done
shift
[ "$1" = pulsar ] || { echo "docker: exec: \\"$1\\": executable file not found in \\$PATH" >&2; exit 127; }
shift
cd "$src" || exit 125
exec '${PULSAR}' "$@"
`);
  fs.chmodSync(file, 0o755);
  return file;
}
