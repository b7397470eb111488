/**
 * `npm run demo`: the product's main job, `axctl deploy && axctl verify`, on three simulated
 * boards, in well under 30 s and without hardware:
 *
 *   1. a healthy board                      → MATCH        (exit 0)
 *   2. a faulty board (AXSIM_FAULT=perturb) → MISMATCH     (exit 1)
 *   3. a gt whose input file is cut short   → INPUT ERROR  (exit 3): refused before the run (run_joint
 *      would fall back to random data)
 *
 * Everything happens in a temporary folder: the simulator's model and gt folders, two local
 * agents (separate processes, loopback, a random token) running the board simulator as
 * run_joint, and the real CLI as child processes, so what is printed is exactly what a user
 * would see. Agents are stopped and the folder removed on every way out, Ctrl-C included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeGt, makeModel } from './sim/make-gt';
import { startListeningAgent } from './listening-agent';

const DIST = path.resolve(__dirname, '..');
const CLI = path.join(DIST, 'host', 'cli.js');
const AGENT = path.join(DIST, 'agent', 'main.js');
const RUN_JOINT = path.join(DIST, 'scripts', 'sim', 'run-joint.js');
const AGENT_START_TIMEOUT_MS = 15_000;
const CLI_TIMEOUT_MS = 30_000;

/** Agents and running CLI commands: every child this demo started and has not seen end. */
const children: ChildProcess[] = [];
let tempRoot: string | null = null;

/** Stops every child and removes the temporary folder; safe to call more than once, also from 'exit'. */
function cleanUp(): void {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (tempRoot) {
    fs.rmSync(tempRoot, { recursive: true, force: true });
    tempRoot = null;
  }
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function heading(text: string): void {
  const bold = process.stdout.isTTY && !process.env.NO_COLOR;
  say();
  say(bold ? `\x1b[1m${text}\x1b[0m` : text);
  say('─'.repeat(Math.min(100, text.length)));
}

/** Starts `axagent --listen 127.0.0.1:0` with the simulator; resolves with its ws:// URL. */
function startAgent(dir: string, tokenFile: string, fault: string): Promise<string> {
  const { child, url } = startListeningAgent({
    agent: AGENT,
    store: path.join(dir, 'store'),
    runJoint: RUN_JOINT,
    tokenFile,
    env: { ...process.env, AXSIM_FAULT: fault },
    timeoutMs: AGENT_START_TIMEOUT_MS,
  });
  children.push(child);
  return url;
}

/** Runs `axctl ...args` in `cwd` with its output going straight to this terminal. */
function axctl(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  say(`$ axctl ${args.map((a) => (/[\s]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.splice(children.indexOf(child), 1);
      say(`(exit ${code ?? signal})`);
      resolve(code ?? 128);
    }),
  );
}

async function main(): Promise<number> {
  const started = Date.now();
  tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-demo-'));
  const root = tempRoot;

  // The simulator's compiled model and its gt folder, as `pulsar build` and `pulsar run` would write them.
  const models = path.join(root, 'models');
  fs.mkdirSync(models);
  const model = path.join(models, 'resnet-demo.joint');
  makeModel('classifier', model);
  const gt = path.join(models, 'gt');
  await makeGt(model, gt, { seed: 7 });
  // A gt folder whose input was cut short (e.g. saved as the wrong image size).
  const badGt = path.join(models, 'gt-wrong-input');
  fs.cpSync(gt, badGt, { recursive: true });
  fs.truncateSync(path.join(badGt, 'input', 'data.bin'), 1024);
  fs.rmSync(path.join(badGt, 'input', 'data.npy'));

  const tokenFile = path.join(root, 'board.token');
  fs.writeFileSync(tokenFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const [healthy, faulty] = await Promise.all([startAgent(path.join(root, 'healthy-board'), tokenFile, ''), startAgent(path.join(root, 'faulty-board'), tokenFile, 'perturb')]);

  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(root, 'cache') };
  delete env.AXCTL_TOKEN;
  const project = (name: string) => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    return dir;
  };
  // Paths as a user would type them from the project folder.
  const target = (url: string, gtDir: string, cwd: string) => ['--board', url, '--model', path.relative(cwd, model), '--gt', path.relative(cwd, gtDir), '--token-file', path.relative(cwd, tokenFile)];
  const verdicts: [string, number][] = [];

  heading(`1/3  A healthy board (agent ${healthy}, simulator without faults)`);
  const one = project('healthy');
  const deployed = await axctl(['deploy', ...target(healthy, gt, one)], one, env);
  verdicts.push(['healthy board', deployed === 0 ? await axctl(['verify'], one, env) : deployed]);

  heading(`2/3  A faulty board (agent ${faulty}, AXSIM_FAULT=perturb: its float outputs are 1% off)`);
  const two = project('faulty');
  const deployed2 = await axctl(['deploy', ...target(faulty, gt, two)], two, env);
  verdicts.push(['faulty board', deployed2 === 0 ? await axctl(['verify'], two, env) : deployed2]);

  heading('3/3  A wrong input: gt/input/data.bin cut to 1024 of its 3072 bytes (no deploy needed)');
  const three = project('wrong-input');
  verdicts.push(['wrong input', await axctl(['verify', ...target(healthy, badGt, three)], three, env)]);

  heading('Verdicts');
  const names: Record<number, string> = { 0: 'match', 1: 'mismatch', 2: 'usage or bad file', 3: 'input-error', 4: 'run-failed', 5: 'cannot connect' };
  for (const [what, code] of verdicts) say(`  ${what.padEnd(14)} exit ${code}  ${names[code] ?? 'unexpected'}`);
  say(`\n(done in ${((Date.now() - started) / 1000).toFixed(1)} s; agents stopped, ${root} removed)`);
  const expected = [0, 1, 3];
  return verdicts.every(([, code], i) => code === expected[i]) ? 0 : 1;
}

process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\ndemo: ${signal}: stopping the agents and removing the temporary folder\n`);
    cleanUp();
    process.exit(130);
  });
}

main()
  .then((code) => {
    cleanUp();
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    cleanUp();
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
