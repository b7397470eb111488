/** What `npm run build` makes that the end-to-end tests run (they need the build first). */
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const CLI = path.join(ROOT, 'dist/host/cli.js');
export const AGENT_MAIN = path.join(ROOT, 'dist/agent/main.js');
export const AGENT_BUNDLE = path.join(ROOT, 'dist/axagent.js');
export const SIM_RUN_JOINT = path.join(ROOT, 'dist/scripts/sim/run-joint.js');

export function requireBuild(): void {
  for (const file of [CLI, AGENT_MAIN, AGENT_BUNDLE, SIM_RUN_JOINT]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  }
}

/**
 * A run_joint at `file` that runs the board simulator: a script, so a test can remove it and put
 * it back (a firmware update, a fix) without touching the simulator.
 */
export function writeSimRunJoint(file: string): Promise<void> {
  return fsp.writeFile(file, `#!/bin/sh\nexec "${process.execPath}" "${SIM_RUN_JOINT}" "$@"\n`, { mode: 0o755 });
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `axctl` with `args` in `cwd`: its exit code (-1 if killed) and what it printed. */
export function runAxctl(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 30_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
