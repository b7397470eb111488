/**
 * run_joint processes an agent that died (SIGKILL, power to the agent only, a crash) left
 * running. run_joint runs in its own process group (runner.ts), so it does not die with the
 * agent: reparented to PID 1 it would go on holding the NPU, and the next agent's runs would
 * go alongside it, breaking "one run at a time per NPU". So every run records its process in
 * its job folder the moment it is spawned, and the next agent, before it serves (and before
 * the store clears jobs/), stops every recorded group whose leader is still the configured
 * run_joint. A pid the kernel has since given to an unrelated process is never signalled.
 */
import { readFileSync, readlinkSync, writeFileSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { jobsFolder } from '../store/store-folders';

/** In each job folder: `{ "pid": N, "runJoint": "/path" }`, written when run_joint is spawned. */
export const RUN_RECORD = 'axagent-run.json';
const POLL_MS = 50;
/** After SIGKILL, how long to wait for the process to be gone before saying it is not. */
const KILL_WAIT_MS = 2000;

/**
 * Records run_joint's pid (and so its process group) in its job folder. Synchronous: no turn of
 * the event loop between spawn and record in which a dying agent could lose it. Best effort: a
 * run must not fail because its record could not be written (the store's own errors show up
 * in the run anyway).
 */
export function recordRun(jobDir: string, pid: number, runJoint: string): void {
  try {
    writeFileSync(path.join(jobDir, RUN_RECORD), JSON.stringify({ pid, runJoint }));
  } catch {
    // Without the record only a crash of this agent during this run goes uncleaned.
  }
}

/**
 * Stops the run_joint process groups recorded in `<storeDir>/jobs/*` that are still running
 * the configured `runJoint`: SIGTERM to the group, SIGKILL after `graceMs`. Logs one line per
 * group stopped. Leaves the job folders (the store clears them next).
 */
export async function stopLeftoverRuns(storeDir: string, runJoint: string, graceMs: number, log: (line: string) => void): Promise<void> {
  const jobsDir = jobsFolder(storeDir);
  let jobs: string[];
  try {
    jobs = await fsp.readdir(jobsDir);
  } catch {
    return; // no jobs folder (a new store) or an unreadable one: the store's open says so
  }
  const wanted = await programPaths(runJoint);
  for (const job of jobs) {
    const pid = recordedPid(path.join(jobsDir, job, RUN_RECORD));
    if (pid === null || !isRunJointLeader(pid, wanted)) continue;
    const how = await stopGroup(pid, graceMs);
    log(`stopped run_joint (pid ${pid}, jobs/${job}) left running by an earlier agent process${how === 'gone' ? '' : ` — it did not end even after SIGKILL`}`);
  }
}

function recordedPid(file: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** The configured path and what it resolves to (a symbolic link to run_joint, say). */
async function programPaths(runJoint: string): Promise<Set<string>> {
  const paths = new Set([path.resolve(runJoint)]);
  await fsp.realpath(runJoint).then((real) => paths.add(real), () => undefined);
  return paths;
}

/**
 * True when `pid` is alive, leads its own process group (as every spawned run_joint does), and
 * is the configured run_joint: its executable, or (a script run through its interpreter) one of
 * its first arguments. Anything unreadable counts as "not ours".
 */
function isRunJointLeader(pid: number, wanted: Set<string>): boolean {
  const stat = procStat(pid);
  if (!stat || stat.state === 'Z' || stat.pgrp !== pid) return false;
  let exe = '';
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // another user's process, or gone: the command line below decides
  }
  if (wanted.has(exe)) return true;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.slice(0, 3).some((arg) => arg !== '' && wanted.has(path.resolve(arg)));
  } catch {
    return false;
  }
}

/** State and process group from /proc/PID/stat (the command name may hold spaces and ')'). */
function procStat(pid: number): { state: string; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** Alive and not a zombie (an orphan's zombie waits for PID 1 to reap it; it holds nothing). */
function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z';
}

async function stopGroup(pgid: number, graceMs: number): Promise<'gone' | 'still-there'> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // ESRCH: the group is gone already
    }
  };
  signal('SIGTERM');
  await waitUntilGone(pgid, graceMs);
  // Also whatever run_joint started and left in its group.
  signal('SIGKILL');
  return (await waitUntilGone(pgid, KILL_WAIT_MS)) ? 'gone' : 'still-there';
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms; // monotonic: the board's clock may jump (NTP)
  while (isAlive(pid)) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}
