/**
 * Benchmark of deploy and verify against a local agent (its own process, loopback, the board
 * simulator as run_joint). Figures and ratios come from the same run:
 *
 * 1. Re-deploy of an already-present 100 MB model: a hash-cache hit plus one has() round trip
 *    (target < 100 ms), against hashing the model once (what the cache saves).
 * 2. Verify overhead of a small model: the wall time of the whole verify (hash check, connect,
 *    has, run request, output download, comparisons, report) minus run_joint's own time as
 *    the agent reports it; median and p90 over 50 runs (target median ≤ 20 ms), against
 *    run_joint's own median.
 * 3. For information: the same verify as a CLI process (Node start-up included).
 *
 * BENCH_DEPLOY_MB=<n> changes the model size (default 100).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deploy } from '../../host/deploy/deploy';
import { HashCache } from '../../host/deploy/hash-cache';
import { sha256File } from '../../shared/fs/sha256-file';
import { createProgress } from '../../host/deploy/progress';
import { ModelIoStore } from '../../host/state/model-io';
import { verify } from '../../host/verify/verify';
import { makeGt, makeModel } from '../sim/make-gt';
import { startListeningAgent } from '../listening-agent';
import { quantile } from './lib/stats';

const DIST = path.resolve(__dirname, '..', '..');
const AGENT = path.join(DIST, 'agent', 'main.js');
const CLI = path.join(DIST, 'host', 'cli.js');
const RUN_JOINT = path.join(DIST, 'scripts', 'sim', 'run-joint.js');
const MODEL_MB = Number(process.env.BENCH_DEPLOY_MB ?? 100);
const REDEPLOY_ROUNDS = 20;
const VERIFY_ROUNDS = 50;
const CLI_ROUNDS = 5;
const quiet = createProgress('quiet');

async function startAgent(dir: string, tokenFile: string): Promise<{ url: string; child: ChildProcess }> {
  const { child, url } = startListeningAgent({ agent: AGENT, store: path.join(dir, 'store'), runJoint: RUN_JOINT, tokenFile, env: { ...process.env, AXSIM_FAULT: '' } });
  return { url: await url, child };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<number> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-bench-deploy-'));
  let agent: ChildProcess | null = null;
  try {
    const tokenFile = path.join(root, 'token');
    await fsp.writeFile(tokenFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const started = await startAgent(path.join(root, 'agent'), tokenFile);
    agent = started.child;
    const cacheDir = path.join(root, 'cache');
    const caches = () => ({ hashes: new HashCache(path.join(cacheDir, 'hashes.json')), ioStore: new ModelIoStore(path.join(cacheDir, 'model-io.json')) });
    const common = { board: started.url, tokenFile, progress: quiet };

    // 1. Re-deploy of a present 100 MB model.
    const small = path.join(root, 'small');
    await fsp.mkdir(small);
    const smallModel = path.join(small, 'classifier.joint');
    makeModel('classifier', smallModel);
    const gt = path.join(small, 'gt');
    await makeGt(smallModel, gt, { seed: 1 });
    const big = path.join(root, 'big.joint');
    const handle = await fsp.open(big, 'w');
    for (let i = 0; i < MODEL_MB; i++) await handle.write(randomBytes(1000 * 1000));
    await handle.close();
    const project = path.join(root, 'project');
    await fsp.mkdir(project);
    const first = await deploy({ ...common, ...caches(), model: big, gt, cwd: project });
    const hashStart = performance.now();
    await sha256File(big);
    const hashMs = performance.now() - hashStart;
    const redeploys: number[] = [];
    for (let i = 0; i < REDEPLOY_ROUNDS; i++) {
      const t = performance.now();
      const again = await deploy({ ...common, ...caches(), model: big, gt, cwd: project });
      redeploys.push(performance.now() - t);
      if (again.sentBytes !== 0) throw new Error(`re-deploy sent ${again.sentBytes} bytes`);
    }
    const redeploy = quantile(redeploys, 0.5);
    console.log(`re-deploy of a present ${MODEL_MB} MB model (first deploy sent ${(first.sentBytes / 1e6).toFixed(0)} MB in ${first.durationMs} ms)`);
    console.log(`  median ${ms(redeploy)}, p90 ${ms(quantile(redeploys, 0.9))} over ${REDEPLOY_ROUNDS} (target < 100 ms: ${redeploy < 100 ? 'met' : 'MISSED'})`);
    console.log(`  baseline: hashing the model once ${ms(hashMs)}; re-deploy / hash = ${(redeploy / hashMs).toFixed(3)}`);

    // 2. Verify overhead of a small model, in process.
    const verifyProject = path.join(root, 'verify');
    await fsp.mkdir(verifyProject);
    const target = { ...common, model: smallModel, gt, cwd: verifyProject };
    const warm = await verify({ ...target, ...caches() });
    if (warm.report.verdict !== 'match') throw new Error(`verify said ${warm.report.verdict}`);
    const overheads: number[] = [];
    const runJoint: number[] = [];
    const phases: Record<string, number[]> = { local: [], connect: [], 'board − run_joint': [], outputs: [], report: [] };
    for (let i = 0; i < VERIFY_ROUNDS; i++) {
      const t = performance.now();
      const outcome = await verify({ ...target, ...caches() });
      const wall = performance.now() - t;
      if (outcome.report.verdict !== 'match') throw new Error(`verify said ${outcome.report.verdict}`);
      overheads.push(wall - outcome.runJointMs);
      runJoint.push(outcome.runJointMs);
      const p = outcome.phases;
      for (const [name, value] of [['local', p.local], ['connect', p.connect], ['board − run_joint', p.board - outcome.runJointMs], ['outputs', p.outputs], ['report', p.report]] as const) phases[name]!.push(value);
    }
    const overhead = quantile(overheads, 0.5);
    const runJointMedian = quantile(runJoint, 0.5);
    console.log(`verify overhead (wall − run_joint's own time), small model, ${VERIFY_ROUNDS} runs`);
    console.log(`  median ${ms(overhead)}, p90 ${ms(quantile(overheads, 0.9))} (target median ≤ 20 ms: ${overhead <= 20 ? 'met' : 'MISSED'})`);
    console.log(`  baseline: run_joint's own time (the simulator) median ${ms(runJointMedian)}; overhead / run_joint = ${(overhead / runJointMedian).toFixed(3)}`);
    console.log("  (run_joint's own time is the agent's, from spawn() to its exit: starting the process counts as run_joint's)");
    console.log(`  medians by phase: ${Object.entries(phases).map(([name, values]) => `${name} ${ms(quantile(values, 0.5))}`).join(', ')}`);
    console.log('  ("board − run_joint" is the agent\'s work around run_joint — job folder, spawn, storing outputs — plus the has/run round trips)');

    // 3. The CLI as a process, for information: Node start-up and module loading included.
    const cliWalls: number[] = [];
    for (let i = 0; i < CLI_ROUNDS; i++) {
      const t = performance.now();
      const res = spawnSync(process.execPath, [CLI, 'verify', '--board', started.url, '--model', smallModel, '--gt', gt, '--token-file', tokenFile, '--json'], {
        cwd: verifyProject,
        env: { ...process.env, XDG_CACHE_HOME: cacheDir },
        encoding: 'utf8',
        timeout: 30_000,
      });
      cliWalls.push(performance.now() - t);
      if (res.status !== 0) throw new Error(`axctl verify exited ${res.status}: ${res.stderr}${res.stdout.slice(0, 3000)}`);
    }
    console.log(`axctl verify as a process: median ${ms(quantile(cliWalls, 0.5))} over ${CLI_ROUNDS} (Node start-up and run_joint included)`);
    return 0;
  } finally {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
    }
    await fsp.rm(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`bench deploy: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
