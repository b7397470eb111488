/**
 * The thin runner of agentless SSH: run_joint on the board in an exec channel, what the agent's
 * runner (agent/run/runner.ts) does locally. The command line is built from an argv with every
 * word single-quoted, so `;` in --data, spaces and quotes reach run_joint as written. It
 * decides nothing about what the run means (shared/run/classify.ts does).
 *
 * Stopping it: sshd makes each session's command a process-group leader (setsid), and the
 * shell `exec`s run_joint, so the first thing the command does is tell us its pid (on stderr,
 * before run_joint starts); a timeout or cancel sends SIGTERM to that group with `kill` over a
 * second channel, SIGKILL after the grace period.
 *
 * When axctl itself dies (killed, crashed, the laptop suspended, the cable pulled) nobody is
 * left to send that kill, and without a pty sshd signals nothing to the command: a hung
 * run_joint would hold the NPU until the board reboots. So a watchdog starts beside it, in
 * the background, reading the channel's stdin, which the host keeps open for the whole run:
 * end of file means the host is gone, and the watchdog stops the group (TERM, then KILL after
 * the grace period). It ignores TERM itself so the group-wide TERM does not end it first, and
 * its output goes to /dev/null so the channel closes as soon as run_joint ends.
 *
 * One run at a time per board: with a lock file, the command takes an flock on it before it
 * `exec`s run_joint, so the lock is held by run_joint itself and dies with it (a crash or a
 * power cut leaves nothing to clean up). Another host's command waits in flock, says so (the
 * host reports queue position 1, then 0), and its time limit starts only when its run_joint
 * does, as with the agent's queue. A board without flock (util-linux, or BusyBox's applet)
 * runs without the lock, as before. The watchdog is started before the lock is opened, so it
 * never holds it, and it also ends a wait whose host is gone.
 */
import type { RunOutcome } from '../../../shared/run/outcome';
import { DEFAULT_CAPTURE_CHARS, LineSplitter, OutputCapture } from '../../../shared/run/output-capture';
import type { SshConnection } from '../connection';
import { connectionLost } from '../errors';
import { shellCommand, shellQuote } from '../quote';

export interface RemoteRunSpec {
  /** run_joint on the board: a path, or a name the login shell finds on its PATH. */
  runJoint: string;
  args: string[];
  /** Working folder on the board (created if missing). */
  cwd: string;
  timeoutMs: number;
  /** SIGTERM → SIGKILL grace. Default 2000 ms. */
  killGraceMs?: number;
  /** Environment variables for run_joint (e.g. LD_LIBRARY_PATH). */
  env?: Record<string, string>;
  /** A file on the board to flock while run_joint runs (created if missing); none: no turn taking. */
  lock?: string;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Runs ahead of this one on the board: 1 while it waits for the lock, 0 when it gets it. */
  onQueue?: (position: number) => void;
  signal?: AbortSignal;
}

const PID_MARKER = 'axctl-run-pid';
/** Said when the lock is taken by another run, and when this run starts (run_joint is exec'd next). */
const WAIT_MARKER = 'axctl-run-waiting';
const START_MARKER = 'axctl-run-start';
const DEFAULT_KILL_GRACE_MS = 2000;
/** The board may be slow to answer the kill itself; give up on it after this. */
const KILL_COMMAND_TIMEOUT_MS = 10_000;

/** The shell line that starts run_joint (exported for tests of the quoting). */
export function remoteRunCommand(spec: Pick<RemoteRunSpec, 'runJoint' | 'args' | 'cwd' | 'env' | 'killGraceMs' | 'lock'>): string {
  const exports = Object.entries(spec.env ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad environment variable name ${JSON.stringify(name)}`);
    return `${name}=${shellQuote(value)}; export ${name}; `;
  }).join('');
  const graceSeconds = Math.max(1, Math.ceil((spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS) / 1000));
  // $$ in the subshell is the outer shell's pid: run_joint's, after the exec. Only the group
  // is signalled: while the watchdog lives the group's id cannot be reused, a bare pid could.
  // A background job's stdin is /dev/null unless redirected, hence the copy on fd 3.
  const watchdog = `(trap '' TERM; cat >/dev/null; kill -TERM -$$; sleep ${graceSeconds}; kill -KILL -$$) <&3 >/dev/null 2>&1 &`;
  // The lock is opened for reading (flock needs no more), so a lock file another user created
  // serves too; a failed `exec 9<` would end a non-interactive shell, hence the -r test first.
  const lock = spec.lock
    ? `L=${shellQuote(spec.lock)}; : >>"$L" 2>/dev/null; if command -v flock >/dev/null 2>&1 && [ -r "$L" ]; then exec 9<"$L"; flock -n 9 || { echo ${WAIT_MARKER} >&2; flock 9; }; fi; `
    : '';
  // Separate statements, not one && list: a trailing `&` would put the whole list in the background.
  return `cd -- ${shellQuote(spec.cwd)} || exit; ${exports}echo "${PID_MARKER} $$" >&2; exec 3<&0; ${watchdog} ${lock}echo ${START_MARKER} >&2; exec ${shellCommand([spec.runJoint, ...spec.args])} </dev/null 3<&-`;
}

/**
 * Resolves when run_joint has ended and its output is in; rejects only when the SSH connection
 * fails (ConnectError), never for what run_joint did.
 */
export async function runRemote(ssh: SshConnection, spec: RemoteRunSpec): Promise<RunOutcome> {
  let runStartedAt = performance.now(); // then when run_joint starts, after any wait for the lock
  if (spec.signal?.aborted) return { exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, cancelled: true, durationMs: 0 };
  const channel = await ssh.execStream(remoteRunCommand(spec));
  return new Promise<RunOutcome>((resolve, reject) => {
    const captures = { stdout: new OutputCapture(DEFAULT_CAPTURE_CHARS), stderr: new OutputCapture(DEFAULT_CAPTURE_CHARS) };
    let pid: number | null = null;
    let timedOut = false;
    let cancelled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const timeLimit = Math.min(Math.max(spec.timeoutMs, 1), 2 ** 31 - 1);
    // Also covers the shell's steps before run_joint (cd, the lock file) on a board that hangs.
    let timer: NodeJS.Timeout | undefined = setTimeout(() => stop('timeout'), timeLimit);
    let running = false;
    let waited = false;
    const deliver = (stream: 'stdout' | 'stderr', line: string) => {
      if (stream === 'stderr') {
        const m = pid === null ? new RegExp(`^${PID_MARKER} (\\d+)$`).exec(line) : null;
        if (m) {
          pid = Number(m[1]);
          if (timedOut || cancelled) stopGroup('TERM');
          return; // our line, not run_joint's: neither captured nor delivered
        }
        if (!running && line === WAIT_MARKER) {
          // Waiting for the lock is waiting in the queue: not limited, as with the agent (the
          // run ahead has its own limit); Ctrl-C or a dead host still ends the wait.
          waited = true;
          clearTimeout(timer);
          spec.onQueue?.(1);
          return;
        }
        if (!running && line === START_MARKER) {
          running = true;
          runStartedAt = performance.now();
          if (waited) spec.onQueue?.(0);
          // The time limit is run_joint's own: it starts again here, after any wait.
          clearTimeout(timer);
          timer = setTimeout(() => stop('timeout'), timeLimit);
          return;
        }
        captures.stderr.push(`${line}\n`);
      }
      try {
        spec.onLine?.(stream, line);
      } catch {
        // A listener that throws only misses the line; the capture keeps it.
      }
    };
    const splitters = { stdout: new LineSplitter((l) => deliver('stdout', l)), stderr: new LineSplitter((l) => deliver('stderr', l)) };

    const stopGroup = (sig: 'TERM' | 'KILL') => {
      if (pid === null || exit) return; // not started yet (stopped as soon as it says its pid) or gone
      const target = `${pid}`;
      void ssh.exec(`kill -${sig} -${target} 2>/dev/null || kill -${sig} ${target} 2>/dev/null; true`, { timeoutMs: KILL_COMMAND_TIMEOUT_MS }).catch(() => undefined);
    };
    const stop = (reason: 'timeout' | 'cancel') => {
      if (timedOut || cancelled || exit) return;
      if (reason === 'timeout') timedOut = true;
      else cancelled = true;
      stopGroup('TERM');
      killTimer = setTimeout(() => {
        stopGroup('KILL');
        // If even that gets no answer (board hung), stop waiting for it.
        killTimer = setTimeout(() => channel.close(), KILL_COMMAND_TIMEOUT_MS);
      }, spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    const onAbort = () => stop('cancel');
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    // An abort that came while the channel was opening fired no listener: the command has
    // started, so it is stopped like any other (as soon as it says its pid).
    if (spec.signal?.aborted) stop('cancel');

    channel.on('data', (bytes: Buffer) => captures.stdout.push(splitters.stdout.write(bytes)));
    // stderr is captured line by line (in deliver) so that our pid line can be left out.
    channel.stderr.on('data', (bytes: Buffer) => void splitters.stderr.write(bytes));
    channel.on('exit', (code: number | null, signal?: string) => {
      exit = { code, signal: (signal ?? null) as NodeJS.Signals | null };
    });
    channel.once('close', () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      captures.stdout.push(splitters.stdout.end());
      splitters.stderr.end();
      const status = exit as { code: number | null; signal: NodeJS.Signals | null } | null;
      if (!status && !timedOut && !cancelled) {
        // No exit status: the connection broke under the run.
        reject(connectionLost(ssh.target, 'while run_joint ran'));
        return;
      }
      resolve({
        exitCode: status?.code ?? null,
        signal: status?.signal ?? null,
        stdout: captures.stdout.text(),
        stderr: captures.stderr.text(),
        timedOut,
        cancelled,
        durationMs: Math.round(performance.now() - runStartedAt),
      });
    });
    // stdin stays open until the run ends: its end of file is what tells the board's watchdog
    // (see remoteRunCommand) that axctl is gone.
  });
}
