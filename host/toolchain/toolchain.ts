/**
 * One configured pulsar: the invocation, the defaults every command shares (line sink,
 * timeouts) and the toolchain version, asked once and then attached to every result.
 */
import { ToolchainError, lastErrorLine } from './errors';
import { resolvePulsarInvocation, type PulsarInvocation, type ResolveOptions } from './invocation';
import { runPulsar, type PulsarLine, type PulsarProcessResult } from './runner';
import { parsePulsarVersion, type ToolchainVersion } from './version';

export interface ToolchainOptions extends ResolveOptions {
  /** Where log lines go as they arrive; default: nowhere (they are still captured). */
  readonly onLine?: (line: PulsarLine) => void;
  /** Timeout of `pulsar build` in ms (default 2 h: big models take long). */
  readonly buildTimeoutMs?: number;
  /** Timeout of `pulsar run` in ms (default 30 min). */
  readonly runTimeoutMs?: number;
  /** Timeout of `pulsar version` / `pulsar info` in ms (default 2 min: a container may start slowly). */
  readonly queryTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Extra environment for pulsar (e.g. DOCKER_HOST); the rest is inherited. */
  readonly childEnv?: NodeJS.ProcessEnv;
}

export const DEFAULT_TIMEOUTS = {
  buildMs: 2 * 60 * 60_000,
  runMs: 30 * 60_000,
  queryMs: 2 * 60_000,
} as const;

export class PulsarToolchain {
  readonly invocation: PulsarInvocation;
  private readonly options: ToolchainOptions;
  private versionPromise: Promise<ToolchainVersion> | undefined;

  constructor(options: ToolchainOptions = {}) {
    this.invocation = resolvePulsarInvocation(options);
    this.options = options;
  }

  get timeouts(): { buildMs: number; runMs: number; queryMs: number } {
    return {
      buildMs: this.options.buildTimeoutMs ?? DEFAULT_TIMEOUTS.buildMs,
      runMs: this.options.runTimeoutMs ?? DEFAULT_TIMEOUTS.runMs,
      queryMs: this.options.queryTimeoutMs ?? DEFAULT_TIMEOUTS.queryMs,
    };
  }

  /** Runs `pulsar ARGS...`; a non-zero exit is returned, not thrown (callers know what it means). */
  run(args: readonly string[], timeoutMs: number, echo = true): Promise<PulsarProcessResult> {
    return runPulsar(this.invocation, args, {
      timeoutMs,
      onLine: echo ? this.options.onLine : undefined,
      signal: this.options.signal,
      env: this.options.childEnv,
    });
  }

  /** `pulsar version`, parsed; asked once per toolchain object. Fails only if pulsar cannot start. */
  version(): Promise<ToolchainVersion> {
    this.versionPromise ??= this.run(['version'], this.timeouts.queryMs, false).then((result) => {
      const text = result.lines.map((l) => l.text).join('\n');
      if (result.exitCode !== 0) {
        // Old toolchains may lack the subcommand; the version is then unknown, not fatal.
        return { version: null, commit: null, raw: text.trim() };
      }
      return parsePulsarVersion(text);
    });
    this.versionPromise.catch(() => { this.versionPromise = undefined; });
    return this.versionPromise;
  }
}

/** Throws when a pulsar command failed, quoting the line that most likely says why. */
export function assertSucceeded(result: PulsarProcessResult, code: string, what: string, hint: string): void {
  if (result.exitCode === 0) return;
  const why = lastErrorLine(result.lines.map((l) => l.text));
  const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  throw new ToolchainError(code, `${what} ${how}${why ? `: ${why}` : ''}`, { hint });
}
