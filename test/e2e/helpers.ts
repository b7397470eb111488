/**
 * End-to-end rig for deploy and verify: the agent as its own process (`node dist/agent/main.js`
 * on loopback, port 0, a random token, the board simulator as run_joint, faults through
 * AXSIM_FAULT), the CLI as a child process (`node dist/host/cli.js`) for real exit codes, and
 * simulator models with their gt folders. Needs `npm run build` first. Everything a test
 * starts is registered with `cleanup` and ended by it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeGt, makeModel, type ModelKind } from '../../scripts/sim/make-gt';
import { AGENT_MAIN, CLI, SIM_RUN_JOINT, requireBuild } from '../built';
export { AGENT_MAIN, CLI, ROOT, SIM_RUN_JOINT, requireBuild } from '../built';



/** Things to end after each test, newest first. */
export class Cleanup {
  private readonly tasks: Array<() => Promise<unknown> | unknown> = [];
  add(task: () => Promise<unknown> | unknown): void {
    this.tasks.push(task);
  }
  async run(): Promise<void> {
    for (const task of this.tasks.splice(0).reverse()) await task();
  }
}

export async function tempDir(cleanup: Cleanup, prefix = 'axctl-e2e-'): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  cleanup.add(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Agent {
  url: string;
  token: string;
  tokenFile: string;
  storeDir: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export interface AgentOptions {
  /** AXSIM_FAULT for the simulated run_joint. */
  fault?: string;
  args?: string[];
  /** --run-joint; default the board simulator. */
  runJoint?: string;
}

export async function startAgent(cleanup: Cleanup, opts: AgentOptions = {}): Promise<Agent> {
  requireBuild();
  const dir = await tempDir(cleanup, 'axctl-e2e-agent-');
  const token = randomBytes(24).toString('hex');
  const tokenFile = path.join(dir, 'token');
  await fsp.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const storeDir = path.join(dir, 'store');
  const env: NodeJS.ProcessEnv = { ...process.env, AXSIM_FAULT: opts.fault ?? '' };
  const child = spawn(process.execPath, [AGENT_MAIN, '--listen', '127.0.0.1:0', '--store', storeDir, '--run-joint', opts.runJoint ?? SIM_RUN_JOINT, '--token-file', tokenFile, ...(opts.args ?? [])], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  cleanup.add(stop);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not start: ${stderr}`)), 20_000);
    const look = () => {
      const m = /listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', look);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the agent exited: ${stderr}`));
    });
  });
  return { url, token, tokenFile, storeDir, child, stderr: () => stderr, stop };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** XDG_CACHE_HOME of the CLI (hash and model-I/O caches); default `<cwd>/.cache-home`. */
  cacheHome?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with the child once started (to send signals). */
  onSpawn?: (child: ChildProcess) => void;
  /** Kill the CLI if it has not finished by then. Default 45 s. */
  timeoutMs?: number;
}

/** Runs `axctl ...args` as a child process and collects its output and exit code. */
export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  requireBuild();
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: opts.cacheHome ?? path.join(opts.cwd, '.cache-home'), NO_COLOR: '1', ...opts.env };
  delete env.AXCTL_TOKEN;
  if (opts.env?.AXCTL_TOKEN) env.AXCTL_TOKEN = opts.env.AXCTL_TOKEN;
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface Fixture {
  dir: string;
  model: string;
  gt: string;
}

/** A simulator model of `kind` and its gt folder in `dir`. */
export async function makeFixture(dir: string, kind: ModelKind, seed = 1, name = kind): Promise<Fixture> {
  await fsp.mkdir(dir, { recursive: true });
  const model = path.join(dir, `${name}.joint`);
  const gt = path.join(dir, `gt-${name}`);
  makeModel(kind, model);
  await makeGt(model, gt, { seed });
  return { dir, model, gt };
}

/** `--board URL --model M --gt G --token-file F` for an agent and a fixture. */
export function targetArgs(agent: Agent, fx: Fixture): string[] {
  return ['--board', agent.url, '--model', fx.model, '--gt', fx.gt, '--token-file', agent.tokenFile];
}

/** The JSON report printed by `verify --json`. */
export function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * The one line a report gives for a board whose agent's run_joint is gone (in its advice after
 * `RUN_JOINT_NOT_FOUND: `; deploy's warning says the same), naming the board as given.
 */
export function runJointGoneLine(board: string, runJoint: string, sshOptions = ''): string {
  return `${board}: the agent's run_joint ${runJoint} does not exist on the board (put run_joint back at that path, or ${reinstallHint(board, sshOptions)})`;
}

/**
 * The hint's second way out: over ssh:// agent install with the options the board was reached
 * with; for another board, restart its agent, or reinstall it over SSH to its host.
 */
function reinstallHint(board: string, sshOptions: string): string {
  return /^ssh:/i.test(board)
    ? `reinstall the agent with the right one: axctl agent install --board ${board}${sshOptions} --run-joint PATH`
    : `restart the agent with the right --run-joint (for a service: reinstall it over SSH with axctl agent install --board ssh://USER@${new URL(board).hostname} --run-joint PATH)`;
}

/** verify's text output for such a board: a RUN FAILED report (exit 4) with that line, nothing on stderr. */
export function expectRunJointGoneReport(res: Pick<CliResult, 'code' | 'stdout' | 'stderr'>, board: string, runJoint: string, sshOptions = ''): void {
  if (res.code !== 4) throw new Error(`expected exit 4, got ${res.code}:\n${res.stdout}\n${res.stderr}`);
  if (res.stderr !== '') throw new Error(`expected nothing on stderr, got: ${res.stderr}`);
  if (!res.stdout.startsWith('RUN FAILED ')) throw new Error(`expected a RUN FAILED report:\n${res.stdout}`);
  // The text report wraps long lines.
  const line = `RUN_JOINT_NOT_FOUND: ${runJointGoneLine(board, runJoint, sshOptions)}`;
  if (!res.stdout.replace(/\s+/g, ' ').includes(line)) throw new Error(`expected the report to say "${line}":\n${res.stdout}`);
}
