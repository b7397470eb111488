/**
 * Options the pulsar commands (build, sim) share, and turning them into a PulsarToolchain.
 * Log lines of pulsar go to stderr as they arrive, so `--json` output on stdout stays clean.
 */
import type { Argv } from 'yargs';
import { secondsOption, TIMER_MAX_SECONDS } from '../cli-numbers';
import { PULSAR_ENV } from './invocation';
import { PulsarToolchain, type ToolchainOptions } from './toolchain';
import { BadFileError } from '../../shared/errors';
import { folderProblem } from './runner';

export interface PulsarCliArgs {
  pulsar?: string;
  timeout?: number;
  json: boolean;
  quiet: boolean;
  cwd?: string;
}

export function withPulsarOptions<T>(yargs: Argv<T>): Argv<T & PulsarCliArgs> {
  return yargs
    .option('pulsar', {
      type: 'string',
      describe: `how to start pulsar: a command or a template, e.g. "docker run --rm -v {cwd}:/data -w /data axera/neuwizard:0.6.1.14 pulsar" ({cwd}, {uid}, {gid} are replaced; default: $${PULSAR_ENV}, else "pulsar")`,
    })
    .option('timeout', { type: 'number', describe: 'seconds before pulsar is stopped (default: build 7200, sim 1800)' })
    .option('cwd', { type: 'string', describe: 'folder pulsar works in ({cwd}); files are handed to pulsar relative to it (default: the current folder)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' })
    .option('quiet', { type: 'boolean', default: false, describe: 'do not echo pulsar\'s log to stderr' }) as unknown as Argv<T & PulsarCliArgs>;
}

/** `signal` stops pulsar (Ctrl-C: see runInterruptible in deploy/interrupt.ts). */
export function toolchainFromArgs(argv: PulsarCliArgs, kind: 'build' | 'run', signal?: AbortSignal): PulsarToolchain {
  // pulsar is a local process: Node's timer limit is its only bound.
  const timeoutMs = secondsOption('timeout', argv.timeout, { max: TIMER_MAX_SECONDS, code: 'BAD_TIMEOUT' });
  if (argv.cwd !== undefined) requireFolder(argv.cwd, '--cwd', 'the folder pulsar works in');
  const options: ToolchainOptions = {
    pulsar: argv.pulsar,
    cwd: argv.cwd,
    onLine: argv.quiet ? undefined : (line) => process.stderr.write(`${line.text}\n`),
    signal,
    ...(kind === 'build' ? { buildTimeoutMs: timeoutMs } : { runTimeoutMs: timeoutMs }),
  };
  return new PulsarToolchain(options);
}


/**
 * `dir` must be an existing folder: named with its option before anything runs (pulsar would
 * otherwise fail later with a message about a file inside it, or about pulsar itself).
 */
export function requireFolder(dir: string, option: string, what: string): void {
  const wrong = folderProblem(dir);
  if (wrong) throw new BadFileError(wrong.code, dir, `${wrong.problem} (${option}: ${what})`, { hint: `give ${option} an existing folder` });
}
