/**
 * A "board" for install tests: a real OpenSSH server on loopback (test/ssh/sshd.ts) running
 * commands on this machine, a temp folder standing in for the board's filesystem (prefix,
 * init.d folder), the board simulator as run_joint, and a private XDG_CONFIG_HOME for the
 * host's token copies. `axctl` runs as its own process (dist/host/cli.js).
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, startSshd, type Sshd } from '../ssh/sshd';
import { CLI, requireBuild } from '../built';
export { AGENT_BUNDLE as BUNDLE, CLI, ROOT, SIM_RUN_JOINT, requireBuild } from '../built';


export interface FakeBoard {
  sshd: Sshd;
  /** The temp folder everything of this board lives in. */
  dir: string;
  prefix: string;
  initdDir: string;
  configHome: string;
  /** A free loopback port for the service. */
  port: number;
  /** `--board URL --identity K --known-hosts KH --prefix P --initd-dir D`. */
  boardArgs: string[];
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}


export async function startFakeBoard(): Promise<FakeBoard> {
  requireBuild();
  const sshd = await startSshd();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-install-'));
  const prefix = path.join(dir, 'opt/axagent');
  const initdDir = path.join(dir, 'etc/init.d');
  const configHome = path.join(dir, 'host-config');
  await fsp.mkdir(initdDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configHome, SSH_AUTH_SOCK: '' };
  delete env.SSH_AUTH_SOCK;
  return {
    sshd,
    dir,
    prefix,
    initdDir,
    configHome,
    port: await freePort(),
    boardArgs: ['--board', sshd.url, '--identity', sshd.clientKey.file, '--known-hosts', sshd.knownHosts, '--prefix', prefix, '--initd-dir', initdDir],
    env,
    stop: async () => {
      await killPidFile(path.join(prefix, 'run/axagent.pid'));
      await sshd.stop();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Safety net: a service a failed test left running. */
async function killPidFile(file: string): Promise<void> {
  const pid = Number((await fsp.readFile(file, 'utf8').catch(() => '')).trim());
  if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function axctl(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, ...(cwd && { cwd }) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** JSON output of a command that must have exited with `code`. */
export function json<T>(r: CliResult, code = 0): T {
  if (r.code !== code) throw new Error(`exit ${r.code} (expected ${code}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}
