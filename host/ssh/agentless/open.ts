/**
 * Opening an agentless board: log in, open SFTP, find and make the cache folder over SFTP. One
 * shell command learns the rest — whether sha256sum is there, the host name, free space, the
 * board's clock, where run_joint is — and sweeps what cut sessions left in the cache; the
 * session runs it when something first needs it (a run, a probe, checking a blob already there,
 * another upload's partial of the same blob), and its error (SSH_NO_SHELL) is the error there.
 *
 * Not at the start: uploads need only SFTP, so a new model's bytes go up at once, not after the
 * board's login shell has started (its startup files can take most of a second: root's
 * ~/.bashrc with pyenv takes 0.7 s here), nor beside it: over loopback its CPU is taken from the
 * transfer (bench, 256 MB, two runs each taking turns: 0.76 and 0.67 of scp with the command
 * started beside the upload, 0.88 and 0.83 without it — as fast as a bare SFTP put).
 */
import * as path from 'node:path';
import { ConnectError, UsageError } from '../../../shared/errors';
import { openSsh, type SshConnection } from '../connection';
import { parseSshOptions, type SshSchemeOptions } from '../options';
import { shellQuote } from '../quote';
import type { SftpSession } from '../sftp';
import { connectionOptions } from '../transport';
import { AGENT_RUN_JOINT_PROBLEMS } from '../../../shared/run/agent-run-joint-check';
import { cacheLayout, hashTimeoutMs, sumsIn, type HashRequest } from './cache';
import { AgentlessSession, makeLocalDir, type BoardFacts, type RunJointTried } from './session';

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
    const sftp = await connection.sftp();
    const cache = await makeCacheFolder(sftp, cacheDir, connection.target.label);
    return new AgentlessSession(connection, sftp, await makeLocalDir(), {
      url,
      ...(name && { name }),
      runJoint,
      cacheDir: cache,
      askFacts: (hash) => boardFacts(connection, cache, runJoint, hash),
      ...(env ? { env } : {}),
      ...(defaultRunTimeoutMs !== undefined ? { defaultRunTimeoutMs } : {}),
      ...(killGraceMs !== undefined ? { killGraceMs } : {}),
    });
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/**
 * The cache folder as an absolute path (`~`, `~/x` and relative paths are in the SSH user's
 * home, where SFTP starts), made with its subfolders: private to the SSH user, as the agent's
 * store is (models are often confidential); folders already there keep their mode.
 */
async function makeCacheFolder(sftp: SftpSession, given: string, board: string): Promise<string> {
  const inHome = given === '~' ? '' : given.startsWith('~/') ? given.slice(2) : given.startsWith('/') ? null : given;
  const root = inHome === null ? given : path.posix.join(await sftp.realpath('.'), inHome);
  const layout = cacheLayout(root);
  try {
    await sftp.mkdirp(layout.root, 0o700);
    await Promise.all([layout.blobs, layout.partial, layout.modelIo, layout.runs].map((dir) => sftp.mkdirp(dir, 0o700)));
  } catch (err) {
    // The board said no (permissions, a file in the way); a lost connection stays what it is.
    if (!(err instanceof ConnectError) || err.code !== 'SSH_SFTP_FAILED') throw err;
    const why = err.cause instanceof Error ? err.cause.message : err.message;
    throw new UsageError('SSH_CACHE_UNUSABLE', `${board}: cannot create the cache folder ${given} (${why})`, {
      hint: 'choose a writable folder on the board for the agentless cache',
    });
  }
  return layout.root;
}

/** --run-joint for the shell: `~/x` is in the login's home (as for the cache); anything else as written. */
export function runJointExpression(runJoint: string): string {
  return runJoint.startsWith('~/') ? `"$HOME"/${shellQuote(runJoint.slice(2))}` : shellQuote(runJoint);
}

/**
 * The board's facts, from one run of its shell (the cache folder is made). It first sweeps the
 * cache of what sessions that were cut left a day ago or more: uploads look at other partials
 * of their blob only once these facts are in, so never at one the sweep is removing.
 */
async function boardFacts(ssh: SshConnection, cacheDir: string, runJoint: string, hash?: HashRequest): Promise<{ facts: BoardFacts; sums?: Map<string, string> }> {
  const script = [
    `cache=${shellQuote(cacheDir)}`,
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
    // Blobs has() must check, hashed by this command rather than by one more.
    ...(hash && hash.files.length > 0 ? [`command -v sha256sum >/dev/null 2>&1 && sha256sum -- ${hash.files.map(shellQuote).join(' ')} 2>/dev/null`] : []),
    // Last, so that the answer arrives right after it.
    'printf "now=%s\\n" "$(date +%s 2>/dev/null)"',
    'exit 0',
  ].join('\n');
  const result = await ssh.exec('sh -s', { stdin: script, timeoutMs: 30_000 + (hash ? hashTimeoutMs(hash.totalBytes) : 0) });
  const answered = Date.now();
  const values = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (result.code !== 0 || values.get('cache') !== cacheDir) {
    throw new UsageError('SSH_NO_SHELL', `${ssh.target.label}: the board's shell did not answer as expected (exit ${result.code}: ${result.stderr.trim().slice(0, 200)})`, {
      hint: 'agentless mode needs a POSIX sh on the board (BusyBox is enough)',
    });
  }
  const freeKib = Number(values.get('free_kib'));
  // The board's clock against ours, for the age of its partials: `date` ran last, just before
  // the answer arrived; its whole second is on average half a second behind.
  const boardNow = Number(values.get('now'));
  const clockOffsetMs = values.get('now') && Number.isFinite(boardNow) ? boardNow * 1000 + 500 - answered : 0;
  const facts: BoardFacts = {
    sha256sum: values.get('sha256sum') === 'yes',
    ...(values.get('hostname') ? { hostname: values.get('hostname')! } : {}),
    ...(Number.isFinite(freeKib) && values.has('free_kib') ? { freeBytes: freeKib * 1024 } : {}),
    runJoint: values.get('run_joint') ?? null,
    ...(triedAs(values) && { runJointTried: triedAs(values)! }),
    clockOffsetMs,
  };
  return hash && facts.sha256sum ? { facts, sums: sumsIn(result.stdout) } : { facts };
}

/** The run_joint path the board tried and what is wrong with it, from boardFacts' output. */
function triedAs(values: Map<string, string>): RunJointTried | undefined {
  const path = values.get('run_joint_tried');
  const problem = values.get('run_joint_problem');
  return path && problem && problem in AGENT_RUN_JOINT_PROBLEMS ? { path, problem: problem as RunJointTried['problem'] } : undefined;
}
