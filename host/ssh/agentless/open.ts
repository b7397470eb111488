/**
 * Opening an agentless board: log in, then one command learns what the session needs — the
 * cache folder (created; run folders, partial uploads and temporary files left by cut
 * sessions swept), whether sha256sum is there, the host name, free space, the board's clock,
 * and where run_joint is — and SFTP is opened.
 */
import { UsageError } from '../../../shared/errors';
import { openSsh, type SshConnection } from '../connection';
import { parseSshOptions, type SshSchemeOptions } from '../options';
import { shellQuote } from '../quote';
import { connectionOptions } from '../transport';
import { AGENT_RUN_JOINT_PROBLEMS } from '../../../shared/run/agent-run-joint-check';
import { AgentlessSession, makeLocalDir, type RunJointTried } from './session';

export interface AgentlessOptions extends SshSchemeOptions {
  /** ssh://[user@]host[:port] */
  url: string;
  /** The inventory name the user gave for the board, if any. */
  name?: string;
  /** Deadline per SSH hop. Default 10 s. */
  timeoutMs?: number;
  /** Environment variables for run_joint on the board (e.g. LD_LIBRARY_PATH). */
  env?: Record<string, string>;
  /** Time limit of runs that set none. Default 10 minutes. */
  defaultRunTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when a run is stopped. Default 2 s. */
  killGraceMs?: number;
  /** Gives up the SSH login at once. */
  signal?: AbortSignal;
}

export const DEFAULT_CACHE_DIR = '~/.cache/axctl';
export const DEFAULT_RUN_JOINT = 'run_joint';
/** Run folders, partial uploads and temporary files older than this are leftovers of sessions that were cut. */
const STALE_RUN_MINUTES = 24 * 60;

export async function openAgentless(opts: AgentlessOptions): Promise<AgentlessSession> {
  const { url, name, timeoutMs, env, defaultRunTimeoutMs, killGraceMs, signal, ...rest } = opts;
  const ssh = parseSshOptions(rest as Record<string, unknown>);
  const cacheDir = ssh.cacheDir ?? DEFAULT_CACHE_DIR;
  if (/[;\\\n]/.test(cacheDir)) {
    throw new UsageError('SSH_BAD_CACHE_DIR', `the cache folder ${JSON.stringify(cacheDir)} contains ';', a backslash or a line break`, { hint: "run_joint's --data splits on ';': choose a plain path" });
  }
  const runJoint = ssh.runJoint ?? DEFAULT_RUN_JOINT;
  const connection = await openSsh({ url, ...connectionOptions(ssh), ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(signal && { signal }) });
  try {
    const facts = await boardFacts(connection, cacheDir, runJoint);
    const sftp = await connection.sftp();
    return new AgentlessSession(connection, sftp, await makeLocalDir(), {
      url,
      ...(name && { name }),
      runJoint: { given: runJoint, path: facts.runJoint, ...(facts.runJointTried && { tried: facts.runJointTried }) },
      cacheDir: facts.cache,
      canHash: facts.sha256sum,
      clockOffsetMs: facts.clockOffsetMs,
      ...(facts.hostname ? { hostname: facts.hostname } : {}),
      ...(facts.freeBytes !== undefined ? { freeBytes: facts.freeBytes } : {}),
      ...(env ? { env } : {}),
      ...(defaultRunTimeoutMs !== undefined ? { defaultRunTimeoutMs } : {}),
      ...(killGraceMs !== undefined ? { killGraceMs } : {}),
    });
  } catch (err) {
    await connection.close();
    throw err;
  }
}

interface BoardFacts {
  cache: string;
  sha256sum: boolean;
  hostname?: string;
  freeBytes?: number;
  runJoint: string | null;
  /** For a --run-joint path (one with a `/`) that cannot be run: the absolute path tried, and why. */
  runJointTried?: RunJointTried;
  /** The board's clock minus ours. */
  clockOffsetMs: number;
}

/** `~/x` and relative paths are in the login's home; the shell expands $HOME for us. */
export function cacheDirExpression(dir: string): string {
  if (dir === '~') return '"$HOME"';
  if (dir.startsWith('~/')) return `"$HOME"/${shellQuote(dir.slice(2))}`;
  if (dir.startsWith('/')) return shellQuote(dir);
  return `"$HOME"/${shellQuote(dir)}`;
}

/** --run-joint for the shell: `~/x` is in the login's home (as for the cache); anything else as written. */
export function runJointExpression(runJoint: string): string {
  return runJoint.startsWith('~/') ? `"$HOME"/${shellQuote(runJoint.slice(2))}` : shellQuote(runJoint);
}

async function boardFacts(ssh: SshConnection, cacheDir: string, runJoint: string): Promise<BoardFacts> {
  const script = [
    `cache=${cacheDirExpression(cacheDir)}`,
    // Private to the SSH user, as the agent's store is (models are often confidential); a
    // folder that already exists keeps its mode.
    '(umask 077 && mkdir -p -- "$cache/blobs" "$cache/partial" "$cache/model-io" "$cache/runs") || exit 3',
    `find "$cache/runs" -mindepth 1 -maxdepth 1 -mmin +${STALE_RUN_MINUTES} -exec rm -rf {} + 2>/dev/null`,
    // Partial uploads nobody resumed within a day (a live upload writes every few seconds, so
    // one another host is writing is never this old), and small files' temporary copies
    // (.NAME.RANDOM.part) left when the link was cut between their write and their rename.
    `find "$cache/partial" -mindepth 1 -maxdepth 1 -type f -mmin +${STALE_RUN_MINUTES} -exec rm -f {} + 2>/dev/null`,
    `find "$cache/model-io" -mindepth 1 -maxdepth 1 -type f -name '.*.part' -mmin +${STALE_RUN_MINUTES} -exec rm -f {} + 2>/dev/null`,
    'printf "cache=%s\\n" "$cache"',
    'command -v sha256sum >/dev/null 2>&1 && echo sha256sum=yes',
    'printf "hostname=%s\\n" "$(hostname 2>/dev/null || uname -n)"',
    // Printed as an absolute path: the run starts in its run folder, not in the home folder a
    // relative path (or a relative PATH entry) was found from. A builtin or a function (no
    // slash) is no program: not found; nor is a folder (searchable, so -x).
    `rj=$(command -v ${runJointExpression(runJoint)} 2>/dev/null) && case $rj in /*) ;; */*) rj="$PWD/$rj" ;; *) rj= ;; esac && [ -f "$rj" ] && [ -x "$rj" ] && printf "run_joint=%s\\n" "$rj" || rj=`,
    // A path that cannot be run: which file that was (~ and a relative path resolved), and why.
    ...(runJoint.includes('/') ? [
      `[ -n "$rj" ] || { t=${runJointExpression(runJoint)}; case $t in /*) ;; *) t="$PWD/$t" ;; esac; ` +
        `if [ -d "$t" ]; then w=notAFile; elif [ -e "$t" ]; then w=notExecutable; else w=missing; fi; printf "run_joint_tried=%s\\nrun_joint_problem=%s\\n" "$t" "$w"; }`,
    ] : []),
    'df -Pk "$cache" 2>/dev/null | awk \'NR==2 {print "free_kib=" $4}\'',
    'printf "now=%s\\n" "$(date +%s 2>/dev/null)"',
    'exit 0',
  ].join('\n');
  const asked = Date.now();
  const result = await ssh.exec('sh -s', { stdin: script, timeoutMs: 30_000 });
  const answered = Date.now();
  if (result.code === 3) {
    throw new UsageError('SSH_CACHE_UNUSABLE', `${ssh.target.label}: cannot create the cache folder ${cacheDir} (${result.stderr.trim().split('\n').pop() ?? 'mkdir failed'})`, {
      hint: 'choose a writable folder on the board for the agentless cache',
    });
  }
  const values = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const cache = values.get('cache');
  if (result.code !== 0 || !cache?.startsWith('/')) {
    throw new UsageError('SSH_NO_SHELL', `${ssh.target.label}: the board's shell did not answer as expected (exit ${result.code}: ${result.stderr.trim().slice(0, 200)})`, {
      hint: 'agentless mode needs a POSIX sh on the board (BusyBox is enough)',
    });
  }
  const freeKib = Number(values.get('free_kib'));
  // The board's clock against ours (to within the round trip), for the age of its partials.
  const boardNow = Number(values.get('now'));
  const clockOffsetMs = values.get('now') && Number.isFinite(boardNow) ? boardNow * 1000 - (asked + answered) / 2 : 0;
  return {
    cache,
    sha256sum: values.get('sha256sum') === 'yes',
    ...(values.get('hostname') ? { hostname: values.get('hostname')! } : {}),
    ...(Number.isFinite(freeKib) && values.has('free_kib') ? { freeBytes: freeKib * 1024 } : {}),
    runJoint: values.get('run_joint') ?? null,
    ...(triedAs(values) && { runJointTried: triedAs(values)! }),
    clockOffsetMs,
  };
}

/** The run_joint path the board tried and what is wrong with it, from boardFacts' output. */
function triedAs(values: Map<string, string>): RunJointTried | undefined {
  const path = values.get('run_joint_tried');
  const problem = values.get('run_joint_problem');
  return path && problem && problem in AGENT_RUN_JOINT_PROBLEMS ? { path, problem: problem as RunJointTried['problem'] } : undefined;
}
