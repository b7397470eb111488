/**
 * An agent killed mid-run leaves run_joint running (its own process group, reparented to PID 1).
 * The next agent of the store stops it before serving, and never signals a recorded pid that
 * now belongs to something else.
 */
import { spawn } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeModel } from '../../scripts/sim/make-gt';
import { sha256, startAgent } from './helpers';

/** Running, not merely a zombie waiting for PID 1 to reap it. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function recordedPids(storeDir: string): Promise<number[]> {
  const jobs = path.join(storeDir, 'jobs');
  const pids: number[] = [];
  for (const job of await fsp.readdir(jobs).catch(() => [] as string[])) {
    const text = await fsp.readFile(path.join(jobs, job, 'axagent-run.json'), 'utf8').catch(() => null);
    if (text) pids.push((JSON.parse(text) as { pid: number }).pid);
  }
  return pids;
}

describe('run_joint left running by an agent that died', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is stopped by the next agent of the store before it serves, and its job folder cleared', async () => {
    const first = await startAgent({ env: { AXSIM_FAULT: 'hang' } });
    cleanups.push(() => fsp.rm(first.dir, { recursive: true, force: true }));
    const client = await first.connect();
    const modelFile = path.join(first.dir, 'm.joint');
    makeModel('classifier', modelFile);
    const data = await fsp.readFile(modelFile);
    const modelHash = sha256(data);
    await client.putFile(modelFile, modelHash, data.length);
    // The model's probe run hangs in its first inference.
    void client.run({ modelHash, inputs: [] }).catch(() => undefined);
    let pid = 0;
    await vi.waitFor(async () => {
      pid = (await recordedPids(first.storeDir))[0] ?? 0;
      expect(pid).toBeGreaterThan(0);
    }, { timeout: 10_000 });
    cleanups.push(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // stopped already
      }
    });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isRunning(pid)).toBe(true); // what the next agent must deal with

    const second = await startAgent({ storeDir: first.storeDir, env: { AXSIM_FAULT: 'hang' } });
    cleanups.push(() => second.stop());
    // Stopped before the agent listened (startAgent waits for that line).
    expect(isRunning(pid)).toBe(false);
    expect(second.stderr()).toMatch(new RegExp(`stopped run_joint \\(pid ${pid}, jobs/job-\\w+\\) left running by an earlier agent process`));
    expect(await fsp.readdir(path.join(first.storeDir, 'jobs'))).toEqual([]);
  }, 60_000);

  it('never signals a recorded pid that is not the configured run_joint', async () => {
    const bystander = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    cleanups.push(() => void bystander.kill('SIGKILL'));
    const first = await startAgent();
    cleanups.push(() => fsp.rm(first.dir, { recursive: true, force: true }));
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const job = path.join(first.storeDir, 'jobs', 'job-recycled');
    await fsp.mkdir(job, { recursive: true });
    await fsp.writeFile(path.join(job, 'axagent-run.json'), JSON.stringify({ pid: bystander.pid, runJoint: '/elsewhere' }));

    const second = await startAgent({ storeDir: first.storeDir });
    cleanups.push(() => second.stop());
    expect(isRunning(bystander.pid!)).toBe(true);
    expect(second.stderr()).not.toMatch(/stopped run_joint/);
    expect(await fsp.readdir(path.join(first.storeDir, 'jobs'))).toEqual([]);
  }, 60_000);
});
