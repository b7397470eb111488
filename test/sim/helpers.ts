/**
 * Shared by the simulator tests: runs the compiled simulator (dist/, so `npm run build`
 * first) as a child process and collects everything it leaves behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SIM = path.join(ROOT, 'dist', 'scripts', 'sim', 'run-joint.js');
export const MAKE_GT = path.join(ROOT, 'dist', 'scripts', 'sim', 'make-gt.js');
/** The run_joint logs transcribed from AXERA's documentation (copies of ../shared/fixtures/run_joint), shared with the parser tests. */
export const FIXTURES = path.join(__dirname, '../fixtures/parsers');

export interface SimResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SimOptions {
  readonly cwd?: string;
  /** AXSIM_FAULT value; undefined runs a healthy board. */
  readonly fault?: string;
  readonly env?: Record<string, string>;
}

export function requireBuild(): void {
  if (!fs.existsSync(SIM)) throw new Error(`${SIM} is missing: run \`npm run build\` first`);
}

function simEnv(opts: SimOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AXSIM_FAULT;
  delete env.AX_JOINT_MEMORY_DETAIL;
  if (opts.fault !== undefined) env.AXSIM_FAULT = opts.fault;
  return { ...env, ...opts.env };
}

/** Starts the simulator with stdout and stderr on pipes (so stdout is fully buffered). */
export function startSim(args: readonly string[], opts: SimOptions = {}): ChildProcess {
  requireBuild();
  // Default cwd outside the repository: an aborting simulator may leave a core file there.
  return spawn(process.execPath, [SIM, ...args], { cwd: opts.cwd ?? os.tmpdir(), env: simEnv(opts), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess): Promise<SimResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
  });
}

export function runSim(args: readonly string[], opts: SimOptions = {}): Promise<SimResult> {
  return collect(startSim(args, opts));
}

export function lines(text: string): string[] {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

/** A line's shape for comparing with the documentation-derived fixtures: digits become '#',
 * tabs and runs of spaces one space, no trailing whitespace. */
export function lineShape(line: string): string {
  return line.replace(/[0-9]+/g, '#').replace(/[ \t]+/g, ' ').trimEnd();
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

export function floats(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

export function int8s(file: string): Int8Array {
  const buf = fs.readFileSync(file);
  return new Int8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}
