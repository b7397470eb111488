/**
 * run_joint's argv, built from a validated request. The agent passes a peer's extra options
 * only from the allow-list below, each value checked, so a request can neither name a path
 * nor change where run_joint reads or writes. Shared by the agent and agentless SSH (which
 * builds the same argv for a remote run_joint).
 */
import { UsageError } from '../errors';

type OptionRule =
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'flag' };

/** run_joint options a request may add, with what each value may be. */
export const ALLOWED_RUN_JOINT_OPTIONS: Readonly<Record<string, OptionRule>> = {
  /** NPU mode: disable, 1_1 (AX620), 3_1 or 2_2 (AX630). Default: the model's own. */
  '--mode': { kind: 'choice', values: ['disable', '1_1', '3_1', '2_2'] },
  /** Feed inputs with extra width stride (pixels). */
  '--stride_w': { kind: 'integer', min: 0, max: 65536 },
  /** Batch size for dynamic-batch models (also scales dumped output sizes). */
  '--override_batch_size': { kind: 'integer', min: 1, max: 4096 },
  /** Which WBT (weight table) to run with. */
  '--wbt_index': { kind: 'integer', min: 0, max: 255 },
  '--cache-mode': { kind: 'choice', values: ['CACHED', 'NONE-CACHED', 'SMART_CACHED'] },
  /** Allocate buffers with the AX SYS API instead of the joint API. */
  '--manual_alloc': { kind: 'flag' },
  /** Truncate input files larger than the model wants (experimental in run_joint). */
  '--enable_trunc': { kind: 'flag' },
};

/** Options the agent sets itself; a request asks for them through its own fields. */
const AGENT_OWNED: Readonly<Record<string, string>> = {
  '--data': 'inputs are given by name in the request',
  '-d': 'inputs are given by name in the request',
  '--bin-out-dir': 'outputs are always dumped and returned',
  '--repeat': 'use the request\'s repeat field',
  '--warmup': 'use the request\'s warmup field',
};

export interface RunJointArgsInput {
  modelPath: string;
  /** One file per model input, already in the model's input order. */
  inputPaths: string[];
  outDir: string;
  repeat: number;
  warmup: number;
  /** Extra options, checked against ALLOWED_RUN_JOINT_OPTIONS. */
  extra?: readonly string[];
}

export function buildRunJointArgs(input: RunJointArgsInput): string[] {
  for (const file of input.inputPaths) {
    // run_joint splits --data on ';': such a path would feed it the wrong files.
    if (file.includes(';')) throw new UsageError('PATH_HAS_SEMICOLON', `input file path ${file} contains ';', which run_joint's --data cannot carry`, { hint: 'keep the agent\'s store in a folder without \';\' in its path' });
  }
  for (const [name, value] of [['repeat', input.repeat], ['warmup', input.warmup]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new UsageError('OPTION_BAD_VALUE', `${name} must be a whole number, got ${value}`);
  }
  return [
    input.modelPath,
    '--data', input.inputPaths.join(';'),
    '--bin-out-dir', input.outDir,
    '--repeat', String(input.repeat),
    '--warmup', String(input.warmup),
    ...checkExtraArgs(input.extra ?? []),
  ];
}

/**
 * Checks extra options against the allow-list and returns them normalised (`--opt value` as
 * two words). Accepts `--opt value` and `--opt=value`. Throws UsageError OPTION_NOT_ALLOWED,
 * OPTION_BAD_VALUE or OPTION_REPEATED.
 */
export function checkExtraArgs(extra: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < extra.length; i++) {
    const word = extra[i];
    if (typeof word !== 'string') throw new UsageError('OPTION_NOT_ALLOWED', `run_joint option #${i + 1} is not text`);
    const equals = word.indexOf('=');
    const name = word.startsWith('--') && equals > 0 ? word.slice(0, equals) : word;
    // Own keys only: `__proto__` or `toString` must not find a rule on the prototype.
    const rule = Object.hasOwn(ALLOWED_RUN_JOINT_OPTIONS, name) ? ALLOWED_RUN_JOINT_OPTIONS[name] : undefined;
    if (!rule) throw notAllowed(name);
    if (seen.has(name)) throw new UsageError('OPTION_REPEATED', `run_joint option ${name} is given twice`, { hint: 'give it once' });
    seen.add(name);
    if (rule.kind === 'flag') {
      if (equals > 0) throw new UsageError('OPTION_BAD_VALUE', `run_joint option ${name} takes no value`, { hint: `write just ${name}` });
      out.push(name);
      continue;
    }
    let value: string | undefined;
    if (equals > 0) value = word.slice(equals + 1);
    else value = extra[++i];
    if (typeof value !== 'string' || !valueFits(rule, value)) {
      throw new UsageError('OPTION_BAD_VALUE', `run_joint option ${name} ${value === undefined ? 'needs a value' : `cannot be '${value}'`}`, { hint: describeRule(rule) });
    }
    out.push(name, value);
  }
  return out;
}

function valueFits(rule: OptionRule, value: string): boolean {
  if (rule.kind === 'choice') return rule.values.includes(value);
  if (rule.kind === 'integer') return /^\d{1,9}$/.test(value) && Number(value) >= rule.min && Number(value) <= rule.max;
  return false;
}

function describeRule(rule: OptionRule): string {
  if (rule.kind === 'choice') return `one of ${rule.values.join(', ')}`;
  if (rule.kind === 'integer') return `a whole number from ${rule.min} to ${rule.max}`;
  return 'no value';
}

function notAllowed(name: string): UsageError {
  const why = AGENT_OWNED[name];
  const allowed = Object.keys(ALLOWED_RUN_JOINT_OPTIONS).join(', ');
  const shown = name.length > 60 ? name.slice(0, 60) + '…' : name;
  return new UsageError('OPTION_NOT_ALLOWED', `run_joint option '${shown}' is not allowed${why ? ` (${why})` : ''}`, { hint: `allowed: ${allowed}` });
}
