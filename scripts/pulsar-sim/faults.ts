/**
 * Failure cases the stand-in pulsar can be told to have, through AXPULSAR_FAULT (a
 * comma-separated list), so the diagnose command can be tested on each:
 *
 *   quant-loss[=LAYER]  pulsar build: quantization loses precision from onnx layer LAYER on
 *                       (default: the middle layer). The lava_joint and the joint both
 *                       deviate: pulsar run prints cosine ≈ 0.894 for either; the per-layer
 *                       table of a score_compare_per_layer build drops below 0.98 at LAYER.
 *   compile-loss        pulsar build: the hardware compile loses precision: the lava_joint is
 *                       fine, the joint deviates (pulsar run onnx vs joint cosine ≈ 0.894).
 *   build-fail          pulsar build exits 1 ("neuwizard killed by SIGKILL", as when memory
 *                       runs out) and writes nothing.
 *   run-fail            pulsar run exits 1 with a Python traceback.
 *   hang                build, run and info sleep for ever (for timeout handling);
 *                       `pulsar version` still answers.
 *
 * Build faults are stored in what the build writes (the lava_joint), so a later pulsar run
 * sees them without the variable. AXPULSAR_VERSION="0.6.1.20 7ca3b9d5" changes what
 * `pulsar version` prints (and what builds record).
 */

export interface PulsarFaults {
  /** Onnx layer where quantization loss starts; '' = the middle layer; null = none. */
  readonly quantLoss: string | null;
  readonly compileLoss: boolean;
  readonly buildFail: boolean;
  readonly runFail: boolean;
  readonly hang: boolean;
}

export const NO_PULSAR_FAULTS: PulsarFaults = { quantLoss: null, compileLoss: false, buildFail: false, runFail: false, hang: false };

export function parsePulsarFaults(text: string | undefined): PulsarFaults {
  const faults = { ...NO_PULSAR_FAULTS } as { -readonly [K in keyof PulsarFaults]: PulsarFaults[K] };
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const [name, value] = eq < 0 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
    if (name === 'quant-loss') faults.quantLoss = value ?? '';
    else if (name === 'compile-loss' && value === undefined) faults.compileLoss = true;
    else if (name === 'build-fail' && value === undefined) faults.buildFail = true;
    else if (name === 'run-fail' && value === undefined) faults.runFail = true;
    else if (name === 'hang' && value === undefined) faults.hang = true;
    else throw new Error(`unknown AXPULSAR_FAULT entry '${entry}' (known: quant-loss[=LAYER], compile-loss, build-fail, run-fail, hang)`);
  }
  return faults;
}

export const DEFAULT_VERSION = { version: '0.6.1.14', commit: '4d9c2a71' };

/** AXPULSAR_VERSION="VERSION [COMMIT]" or the default. */
export function standInVersion(env: NodeJS.ProcessEnv = process.env): { version: string; commit: string } {
  const words = (env.AXPULSAR_VERSION ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return DEFAULT_VERSION;
  return { version: words[0], commit: words[1] ?? DEFAULT_VERSION.commit };
}
