/**
 * Runs one pulsar command as a child process (never through a shell), hands each log line to
 * a callback as it arrives, keeps them all, and enforces a timeout. What the lines mean is
 * decided by the callers (build, sim, info); this file only knows processes and the handful
 * of ways Docker says it could not start anything.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { statSync } from 'node:fs';
import { AxError, BadFileError } from '../../shared/errors';
import { StringDecoder } from 'node:string_decoder';
import { ToolchainError } from './errors';
import { PULSAR_ENV, type PulsarInvocation } from './invocation';
import { ProcessGroup } from './process-group';

export interface PulsarLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export interface RunPulsarOptions {
  /** Milliseconds before pulsar's process group is stopped (SIGTERM, then SIGKILL 5 s later). */
  readonly timeoutMs: number;
  /** Called for every complete line, stdout and stderr interleaved as they arrive. */
  readonly onLine?: (line: PulsarLine) => void;
  readonly signal?: AbortSignal;
  /** Variables added to (or overriding) this process's environment for the child. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface PulsarProcessResult {
  /** The full argv that was started (invocation argv + pulsar arguments). */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** null when the process ended by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: readonly PulsarLine[];
  readonly durationMs: number;
}

/** Lines kept per run; a build with progress bars can print a lot, the tail is what matters. */
const MAX_KEPT_LINES = 200_000;
const KILL_GRACE_MS = 5_000;
/**
 * How long the pipes may stay open after pulsar itself has exited. A process of its group that
 * ignores SIGTERM keeps the pipes it inherited open until the SIGKILL KILL_GRACE_MS later;
 * waiting for the pipes to close would wait that long, or forever for one that escaped the
 * group, whatever --timeout says.
 */
const STDIO_AFTER_EXIT_MS = 2_000;

export function runPulsar(invocation: PulsarInvocation, args: readonly string[], options: RunPulsarOptions): Promise<PulsarProcessResult> {
  const argv = [...invocation.argv, ...args];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const lines: PulsarLine[] = [];
    const emit = (line: PulsarLine) => {
      if (lines.length >= MAX_KEPT_LINES) lines.shift();
      lines.push(line);
      options.onLine?.(line);
    };
    const env = options.env ? { ...process.env, ...options.env } : process.env;
    // detached: its own process group, so a timeout or Ctrl-C reaches what a wrapper started.
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(argv[0], argv.slice(1), { cwd: invocation.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      reject(spawnError(invocation, err as NodeJS.ErrnoException)); // some failures (a cwd that is a file: ENOTDIR) are thrown, not emitted
      return;
    }
    const group = child.pid !== undefined ? new ProcessGroup(child.pid) : undefined;
    const readers = (['stdout', 'stderr'] as const).map((stream) => lineReader(stream, emit));
    child.stdout.on('data', (chunk: Buffer) => readers[0].push(chunk));
    child.stderr.on('data', (chunk: Buffer) => readers[1].push(chunk));

    let timedOut = false;
    let aborted = false;
    let stdioTimer: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      stdioTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, STDIO_AFTER_EXIT_MS);
      stdioTimer.unref();
    });
    const stop = () => group?.stop(KILL_GRACE_MS);
    const timer = setTimeout(() => { timedOut = true; stop(); }, options.timeoutMs);
    const onAbort = () => { aborted = true; stop(); };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const cleanup = () => {
      clearTimeout(timer);
      if (stdioTimer) clearTimeout(stdioTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      group?.finish(KILL_GRACE_MS);
      reject(spawnError(invocation, err));
    });
    child.on('close', (exitCode, signal) => {
      cleanup();
      group?.finish(KILL_GRACE_MS);
      readers.forEach((r) => r.end());
      const result = { argv, cwd: invocation.cwd, exitCode, signal, lines, durationMs: Date.now() - started };
      if (timedOut) {
        reject(new ToolchainError('PULSAR_TIMEOUT', `pulsar ${args[0] ?? ''} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`, {
          hint: 'a large model can take long to build: raise --timeout (seconds)',
        }));
      } else if (aborted) {
        reject(new ToolchainError('PULSAR_ABORTED', `pulsar ${args[0] ?? ''} was cancelled`));
      } else {
        const startup = startupFailure(invocation, result);
        if (startup) reject(startup);
        else resolve(result);
      }
    });
  });
}

/** Splits a byte stream into lines; `\r` ends a line too (progress bars redraw with it). */
function lineReader(stream: 'stdout' | 'stderr', emit: (line: PulsarLine) => void) {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return {
    push(chunk: Buffer) {
      pending += decoder.write(chunk);
      // A `\r` at the very end may be the first half of `\r\n`: keep it until more arrives.
      const parts = pending.split(/\r\n|\n|\r(?=[^\n])/);
      pending = parts.pop() as string;
      for (const text of parts) emit({ stream, text });
    },
    end() {
      pending = (pending + decoder.end()).replace(/\r$/, '');
      if (pending !== '') emit({ stream, text: pending });
      pending = '';
    },
  };
}

function spawnError(invocation: PulsarInvocation, err: NodeJS.ErrnoException): AxError {
  const cmd = invocation.argv[0];
  // spawn says ENOENT (or ENOTDIR) for a working folder that is missing too: blame the right one.
  const folder = folderProblem(invocation.cwd);
  if (folder) return new BadFileError(folder.code, invocation.cwd, `${folder.problem}: pulsar cannot run there`, { hint: 'give --cwd an existing folder (the project folder pulsar reads and writes)' });
  if (err.code === 'ENOENT') {
    return new ToolchainError('PULSAR_NOT_FOUND', `cannot start pulsar: command "${cmd}" not found (from ${describeSource(invocation)})`, {
      hint: `install the Pulsar toolchain, or point axctl at it: --pulsar "docker run --rm -v {cwd}:/data -w /data axera/neuwizard:0.6.1.14 pulsar" (or set ${PULSAR_ENV})`,
    });
  }
  if (err.code === 'EACCES') {
    return new ToolchainError('PULSAR_NOT_EXECUTABLE', `cannot start pulsar: "${cmd}" is not executable`, { hint: `chmod +x ${cmd}` });
  }
  return new ToolchainError('PULSAR_START_FAILED', `cannot start pulsar "${cmd}": ${err.message}`, { cause: err });
}

/** Docker's own failures (exit 125-127) say nothing about pulsar; name them as what they are. */
function startupFailure(invocation: PulsarInvocation, result: PulsarProcessResult): ToolchainError | null {
  const text = result.lines.slice(-50).map((l) => l.text).join('\n');
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(text)) {
    return new ToolchainError('PULSAR_DOCKER_NOT_RUNNING', `cannot start pulsar: the Docker daemon is not running (${invocation.argv[0]} could not reach it)`, {
      hint: 'start Docker (e.g. sudo systemctl start docker) and try again',
    });
  }
  if (/permission denied while trying to connect to the Docker daemon/i.test(text)) {
    return new ToolchainError('PULSAR_DOCKER_PERMISSION', 'cannot start pulsar: no permission to use Docker', {
      hint: 'add yourself to the docker group (sudo usermod -aG docker $USER, then log in again)',
    });
  }
  if (result.exitCode === 125 && /Unable to find image|pull access denied|manifest unknown|No such image/i.test(text)) {
    return new ToolchainError('PULSAR_IMAGE_MISSING', `cannot start pulsar: the toolchain image in "${invocation.template}" is not loaded`, {
      hint: 'load it (sudo ./install.sh from the toolchain package, or docker load -i axera_neuwizard_*.tgz) and check the image name',
    });
  }
  if ((result.exitCode === 127 || result.exitCode === 126) && /executable file not found|not found in \$PATH|permission denied/i.test(text)) {
    return new ToolchainError('PULSAR_NOT_FOUND', `cannot start pulsar inside the container: ${lastLine(text)}`, {
      hint: `the command after the image name must be pulsar; check --pulsar / ${PULSAR_ENV}`,
    });
  }
  return null;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

function describeSource(invocation: PulsarInvocation): string {
  if (invocation.source === 'option') return '--pulsar';
  if (invocation.source === 'env') return PULSAR_ENV;
  return `the default; set --pulsar or ${PULSAR_ENV}`;
}

/** What keeps `dir` from being a working folder (missing, a file, under a file); null when none is known. */
export function folderProblem(dir: string): { code: string; problem: string } | null {
  try {
    return statSync(dir).isDirectory() ? null : { code: 'FILE_NOT_FOLDER', problem: 'is not a folder' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { code: 'FILE_NOT_FOUND', problem: 'no such folder' };
    if (code === 'ENOTDIR') return { code: 'FILE_NOT_FOLDER', problem: 'a part of its path is a file, not a folder' };
    return null;
  }
}
