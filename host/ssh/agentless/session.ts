/**
 * Agentless SSH: the BoardSession for boards without Node. The host does over SSH what the agent
 * would do on the board, with the same shared rules, so verdicts and exit codes are the same:
 *   - blobs live in the board's cache folder (cache.ts), uploaded over SFTP;
 *   - a run checks the request (request.ts), learns the model's input order from run_joint's own
 *     listing (a probe run, shared/run/model-io.ts, kept in the cache per model hash), runs
 *     run_joint in a fresh folder of the cache (remote-run.ts), classifies the outcome
 *     (shared/run/classify.ts: random-data fallback → input-error; assertion, abort, timeout,
 *     missing or wrong-sized dump → failed), and fetches the outputs over SFTP, hashing them;
 *   - runs of one session go one at a time, as on the agent.
 * Outputs are fetched into a local temporary folder during the run (their hashes are the
 * result); download() then copies from there, or fetches a blob from the cache.
 */
import { failedResult } from '../../../shared/run/result';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AxError, BadFileError, RunFailedError, UsageError, fileSystemError, fileWriteError } from '../../../shared/errors';
import { tempPathFor, makeFolder } from '../../../shared/fs/atomic';
import { parseRunJointLog } from '../../../shared/parsers/run-joint-log';
import { checkBlobHash } from '../../../shared/protocol/names';
import { buildRunJointArgs } from '../../../shared/run/args';
import { classifyRun, type DumpFolder, type RunProblem } from '../../../shared/run/classify';
import { ModelProbeError, modelIoFromProbe, orderInputs, probeArgs, type ModelIo } from '../../../shared/run/model-io';
import { ModelProbeFailedError, type BoardIdentity, type BoardSession, type DescribeOptions, type RunOptions, type RunRequest, type RunResult, type UploadProgress } from '../../board/session';
import type { SshConnection } from '../connection';
import { shellQuote } from '../quote';
import { sha256OfFile, statusOf, type SftpSession } from '../sftp';
import { RemoteCache, type HashRequest } from './cache';
import { RUN_LIMITS, checkRunRequest, type RunLimits, type RunPlan } from '../../../shared/run/request';
import { runRemote } from './remote-run';
import { settledWithin } from '../../../shared/abort';
import { AGENT_RUN_JOINT_PROBLEMS, type RunJointProblemCode } from '../../../shared/run/agent-run-joint-check';

/** How long close() lets a stopped run report back before it logs out anyway. */
const CLOSE_GRACE_MS = 5000;

/** A --run-joint path the board could not run: the absolute path tried, and why. */
export interface RunJointTried {
  path: string;
  problem: keyof typeof AGENT_RUN_JOINT_PROBLEMS;
}

const TRIED_PROBLEM: Record<RunJointTried['problem'], string> = { missing: 'does not exist', notExecutable: 'is not executable', notAFile: 'is not a file' };

/** What the board's shell tells when first asked (open.ts: boardFacts). */
export interface BoardFacts {
  /** Does the board have sha256sum? */
  sha256sum: boolean;
  hostname?: string;
  freeBytes?: number;
  /** The absolute path --run-joint resolved to on the board; null: not found. */
  runJoint: string | null;
  /** For a --run-joint path (one with a `/`) that cannot be run: the absolute path tried, and why. */
  runJointTried?: RunJointTried;
  /** The board's clock minus ours. */
  clockOffsetMs: number;
}

export interface AgentlessSettings {
  /** The board's URL, for identity and messages. */
  url: string;
  /** The inventory name the user gave, if any. */
  name?: string;
  /** run_joint as the user named it (--run-joint). */
  runJoint: string;
  /** Absolute cache folder on the board (made). */
  cacheDir: string;
  /**
   * Runs the command that asks the board's shell for its facts (the session runs it once, when
   * first needed); it also hashes the files given (`sums` then, when the board has sha256sum).
   */
  askFacts: (hash?: HashRequest) => Promise<{ facts: BoardFacts; sums?: Map<string, string> }>;
  /** Environment for run_joint on the board. */
  env?: Record<string, string>;
  /** Default run time limit. Default 10 minutes. */
  defaultRunTimeoutMs?: number;
  killGraceMs?: number;
}

export class AgentlessSession implements BoardSession {
  readonly identity: BoardIdentity;
  private readonly cache: RemoteCache;
  private readonly modelIo = new Map<string, ModelIo>();
  /** Outputs fetched by runs: hash → local file in `localDir`. */
  private readonly fetched = new Map<string, string>();
  private runs: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  /** Stops the run in progress (close() uses it: run_joint must not outlive the session). */
  private stopRunning: AbortController | null = null;

  private asked: Promise<BoardFacts> | null = null;

  /** The agent's limits, with this board's default time limit. */
  private readonly runLimits: RunLimits;

  constructor(readonly ssh: SshConnection, private readonly sftp: SftpSession, private readonly localDir: string, private readonly settings: AgentlessSettings) {
    this.cache = new RemoteCache(ssh, sftp, settings.cacheDir, (hash) => this.factsWith(hash));
    this.runLimits = { ...RUN_LIMITS, defaultTimeoutMs: settings.defaultRunTimeoutMs ?? RUN_LIMITS.defaultTimeoutMs };
    this.identity = { url: settings.url, ...(settings.name && { name: settings.name }), mode: 'agentless' };
  }

  /** Asks the board's shell for its facts (once) and waits for the answer (the identity is complete then); rejects with why it did not. */
  async ready(): Promise<void> {
    await this.facts();
  }

  /**
   * The board's facts: asked the first time something needs them, not when the session opens,
   * so an upload never shares the board (or this machine, over loopback) with a shell starting.
   */
  private async facts(): Promise<BoardFacts> {
    return (await this.factsWith()).facts;
  }

  /** The facts, and the sums of `hash`'s files when this call is the one that asks (the cache hashes them itself otherwise). */
  private factsWith(hash?: HashRequest): Promise<{ facts: BoardFacts; sums?: Map<string, string> }> {
    if (this.asked) return this.asked.then((facts) => ({ facts }));
    const answer = this.settings.askFacts(hash);
    this.asked = answer.then(({ facts }) => {
      if (facts.hostname) this.identity.hostname = facts.hostname;
      if (facts.freeBytes !== undefined) this.identity.freeBytes = facts.freeBytes;
      return facts;
    });
    return this.asked.then(() => answer); // the identity is complete before the caller goes on
  }

  has(blobs: { hash: string; size: number }[]): Promise<boolean[]> {
    for (const b of blobs) checkBlobHash(b.hash);
    return this.cache.has(blobs);
  }

  async upload(file: string, hash: string, size: number, onProgress?: (p: UploadProgress) => void): Promise<{ sentBytes: number }> {
    checkBlobHash(hash);
    const actual = await fsp.stat(file).then((st) => st.size, (err: unknown) => Promise.reject(fileSystemError(file, err)));
    if (actual !== size) throw new BadFileError('FILE_CHANGED', file, `is ${actual} bytes, expected ${size}`, { hint: 'the file changed since it was hashed; run again' });
    if ((await this.cache.has([{ hash, size }]))[0]) {
      onProgress?.({ doneBytes: size, totalBytes: size, sentBytes: 0 });
      return { sentBytes: 0 };
    }
    let resumedFrom: number | null = null;
    const sentBytes = await this.cache.upload(file, hash, size, (done, total) => {
      resumedFrom ??= done;
      onProgress?.({ doneBytes: done, totalBytes: total, sentBytes: done - resumedFrom });
    });
    return { sentBytes };
  }

  /** Runs one at a time, in the order asked; resolves with the result also for failed runs. */
  async run(req: RunRequest, opts: RunOptions = {}): Promise<RunResult> {
    const plan = checkRunRequest(req, this.runLimits);
    const ahead = this.waiting;
    this.waiting++;
    if (ahead > 0) opts.onQueue?.(ahead);
    const result = this.runs.then(async () => {
      this.waiting--;
      if (ahead > 0) opts.onQueue?.(0);
      return this.runNow(plan, opts);
    });
    this.runs = result.catch(() => undefined);
    return result;
  }

  /** The model's I/O listing: known, in the board's cache, or learnt by a probe run that waits its turn like a run. */
  async describeModel(modelHash: string, opts: DescribeOptions = {}): Promise<ModelIo> {
    const plan = checkRunRequest({ modelHash, inputs: [], ...(opts.runTimeoutMs !== undefined && { timeoutMs: opts.runTimeoutMs }) }, this.runLimits);
    const described = this.runs.then(async () => {
      await this.requireBlobs(plan);
      const facts = await this.facts();
      if (facts.runJoint === null) {
        const { code, message, hint } = this.runJointMissing(facts);
        throw new RunFailedError(code, message, { hint });
      }
      return this.modelIoOf(plan, this.cache.blobPath(plan.modelHash), facts.runJoint, opts).catch((err: unknown) => {
        throw err instanceof ModelProbeError && err.code !== 'RUN_CANCELLED' ? new ModelProbeFailedError(probeFailed(err), this.ssh.target.label) : err;
      });
    });
    this.runs = described.catch(() => undefined);
    return described;
  }

  async download(hash: string, size: number, toFile: string): Promise<void> {
    checkBlobHash(hash);
    const tmp = tempPathFor(toFile);
    try {
      await makeFolder(path.dirname(toFile));
      const local = this.fetched.get(hash);
      let actual: string;
      if (local) {
        await fsp.copyFile(local, tmp);
        actual = await sha256OfFile(tmp);
      } else {
        const remote = this.cache.blobPath(hash);
        const st = await this.sftp.stat(remote);
        if (!st) throw new UsageError('BLOB_NOT_FOUND', `blob ${hash} is not on ${this.ssh.target.label}`, { hint: 'run again: the board keeps only what was uploaded or produced' });
        if (st.size !== size) throw new RunFailedError('BLOB_SIZE_MISMATCH', `blob ${hash} is ${st.size} bytes on the board, expected ${size}`);
        actual = await this.sftp.get(remote, tmp, size);
      }
      if (actual !== hash) throw new RunFailedError('BLOB_CORRUPT', `blob ${hash} arrived with sha256 ${actual}`, { hint: "the board's copy may be damaged; run again" });
      await fsp.rename(tmp, toFile);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      if (err instanceof AxError) throw err;
      throw fileWriteError(toFile, err);
    }
  }

  /** Stops an upload (keeping its partial for the next session) or a run still in progress on the board, then logs out. */
  async close(): Promise<void> {
    await this.cache.stopUploads();
    if (this.stopRunning) {
      this.stopRunning.abort();
      await settledWithin(this.runs, CLOSE_GRACE_MS);
    }
    await this.ssh.close();
    await fsp.rm(this.localDir, { recursive: true, force: true });
  }

  private async runNow(plan: RunPlan, caller: RunOptions): Promise<RunResult> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (caller.signal?.aborted) stop.abort();
    caller.signal?.addEventListener('abort', onAbort, { once: true });
    this.stopRunning = stop;
    try {
      return await this.runStoppable(plan, { ...caller, signal: stop.signal });
    } finally {
      this.stopRunning = null;
      caller.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Why run_joint cannot run: for a --run-joint path, the file tried (`~/x` as the path it stands
   * for) and what is wrong with it; for a bare name, that the login shell's PATH has no such program.
   */
  private runJointMissing(facts: BoardFacts): { code: RunJointProblemCode; message: string; hint: string } {
    const given = this.settings.runJoint;
    const tried = facts.runJointTried;
    const board = this.ssh.target.label;
    if (!tried) return { code: 'RUN_JOINT_NOT_FOUND', message: `${given}: not found on ${board} (not on the login shell's PATH, or not executable)`, hint: 'give its path with --run-joint' };
    const { code, hint } = AGENT_RUN_JOINT_PROBLEMS[tried.problem];
    const file = tried.path === given ? tried.path : `${tried.path} (--run-joint ${given})`;
    return {
      code,
      message: `run_joint ${file} ${TRIED_PROBLEM[tried.problem]} on ${board}`,
      hint: tried.problem === 'missing' ? 'check the path given with --run-joint' : typeof hint === 'function' ? hint(tried.path) : hint,
    };
  }

  private async runStoppable(plan: RunPlan, opts: RunOptions): Promise<RunResult> {
    const sizes = await this.requireBlobs(plan);
    const facts = await this.facts();
    const runJointPath = facts.runJoint;
    if (runJointPath === null) {
      const { code, message, hint } = this.runJointMissing(facts);
      return notRun({ code, message: `${message}; ${hint}` });
    }
    const modelPath = this.cache.blobPath(plan.modelHash);
    let io: ModelIo;
    try {
      io = await this.modelIoOf(plan, modelPath, runJointPath, opts);
    } catch (err) {
      if (!(err instanceof ModelProbeError)) throw err;
      return probeFailed(err);
    }
    const ordered = orderInputs(plan.inputs, io);
    const fed = ordered.map((input) => ({ ...input, size: sizes.get(input.hash) ?? 0 }));
    return this.inRunFolder('run', async (dir) => {
      const outDir = `${dir}/out`;
      await this.sftp.mkdirp(outDir);
      const args = buildRunJointArgs({ modelPath, inputPaths: ordered.map((i) => this.cache.blobPath(i.hash)), outDir, repeat: plan.repeat, warmup: plan.warmup, extra: plan.extra });
      const outcome = await runRemote(this.ssh, {
        runJoint: runJointPath,
        args,
        cwd: dir,
        timeoutMs: plan.timeoutMs,
        ...this.runSettings(),
        ...(opts.onLine ? { onLine: opts.onLine } : {}),
        ...(opts.onQueue ? { onQueue: opts.onQueue } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const verdict = await classifyRun(outcome, { io, dumps: this.remoteDumps(outDir), timeoutMs: plan.timeoutMs, overrideBatch: plan.overrideBatch, fed });
      const result: RunResult = { ...failedResult(outcome, undefined, verdict.parsed), status: verdict.status, problems: verdict.problems };
      try {
        for (const output of verdict.outputFiles) result.outputs.push(await this.fetchOutput(output.name, output.file));
      } catch (err) {
        // Only what the board said about a dump (gone, unreadable) is the run's failure; a lost
        // connection (SSH_DISCONNECTED...) or a local problem is no verdict on the model: it is
        // thrown, as on the agent path (exit 5, not RUN FAILED). A run that failed anyway keeps
        // its verdict: its outputs were only evidence beside it.
        if (!(err instanceof RunFailedError) && statusOf(err) === undefined && verdict.status === 'ok') throw err;
        result.status = 'failed';
        result.outputs = []; // outputs are all or nothing
        result.problems.push({ code: err instanceof AxError ? err.code : 'OUTPUT_NOT_FETCHED', message: `the outputs could not be fetched: ${(err as Error).message}` });
      }
      if (result.parsed.runJointVersion) this.identity.runJointVersion = result.parsed.runJointVersion;
      return result;
    });
  }

  /** The model's I/O: known this session, saved in the cache, or learnt by a probe run now. */
  private async modelIoOf(plan: RunPlan, modelPath: string, runJoint: string, hooks: { signal?: AbortSignal; onQueue?: (position: number) => void }): Promise<ModelIo> {
    const known = this.modelIo.get(plan.modelHash) ?? (await this.cache.readModelIo(plan.modelHash));
    if (known) {
      this.modelIo.set(plan.modelHash, known);
      return known;
    }
    const outcome = await this.inRunFolder('probe', (dir) =>
      runRemote(this.ssh, {
        runJoint,
        args: probeArgs(modelPath),
        cwd: dir,
        timeoutMs: plan.timeoutMs,
        ...this.runSettings(),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        ...(hooks.onQueue ? { onQueue: hooks.onQueue } : {}),
      }),
    );
    const io = modelIoFromProbe(outcome, plan.timeoutMs);
    this.modelIo.set(plan.modelHash, io);
    await this.cache.saveModelIo(plan.modelHash, io);
    return io;
  }

  private runSettings() {
    return {
      lock: this.cache.layout.runLock,
      ...(this.settings.env ? { env: this.settings.env } : {}),
      ...(this.settings.killGraceMs !== undefined ? { killGraceMs: this.settings.killGraceMs } : {}),
    };
  }

  /**
   * Runs `work` in a fresh folder under the cache's runs/, removed afterwards: over SFTP (a few
   * round trips), else by `rm -rf` through the shell; what both leave, the start-up command's
   * sweep removes a day later.
   */
  private async inRunFolder<T>(kind: string, work: (dir: string) => Promise<T>): Promise<T> {
    const dir = `${this.cache.layout.runs}/${kind}-${randomBytes(6).toString('hex')}`;
    await this.sftp.mkdirp(dir);
    try {
      return await work(dir);
    } finally {
      await this.sftp.removeTree(dir).catch(() => this.ssh.exec(`rm -rf -- ${shellQuote(dir)}`, { timeoutMs: 30_000 })).catch(() => undefined);
    }
  }

  /** Sizes of the request's blobs; BLOB_MISSING (as the agent says it) when any is not there. */
  private async requireBlobs(plan: RunPlan): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    const missing: string[] = [];
    const wanted = [{ what: `model ${plan.modelHash}`, hash: plan.modelHash }, ...plan.inputs.map((i) => ({ what: `input '${i.name}' ${i.hash}`, hash: i.hash }))];
    for (const { what, hash } of wanted) {
      const st = await this.sftp.stat(this.cache.blobPath(hash));
      if (st?.isFile) sizes.set(hash, st.size);
      else missing.push(what);
    }
    if (missing.length > 0) throw new UsageError('BLOB_MISSING', `not on the board: ${missing.join(', ')}`, { hint: 'upload these blobs, then run again' });
    return sizes;
  }

  private remoteDumps(outDir: string): DumpFolder {
    return {
      pathOf: (fileName) => `${outDir}/${fileName}`,
      sizeOf: async (file) => (await this.sftp.stat(file))?.size ?? null,
    };
  }

  private async fetchOutput(name: string, remote: string): Promise<{ name: string; hash: string; size: number }> {
    const st = await this.sftp.stat(remote);
    if (!st) throw new RunFailedError('OUTPUT_NOT_FETCHED', `${remote} is gone`);
    const local = path.join(this.localDir, `output-${randomBytes(6).toString('hex')}`);
    const hash = await this.sftp.get(remote, local, st.size);
    const kept = this.fetched.get(hash);
    if (kept) await fsp.rm(local, { force: true });
    else this.fetched.set(hash, local);
    return { name, hash, size: st.size };
  }
}

/** A fresh local folder for fetched outputs. */
export function makeLocalDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-agentless-'));
}

/** A probe that learnt no listing, as a failed run with its evidence. */
function probeFailed(err: ModelProbeError): RunResult {
  const result = failedResult(err.outcome, { code: err.code, message: err.message });
  // A model that aborts takes its listing with it (stdout is lost); the assertion stays.
  for (const text of parseRunJointLog(err.outcome.stderr).assertions) result.problems.push({ code: 'RUN_ASSERTION', message: text });
  return result;
}


/** A run that never reached run_joint. */
function notRun(problem: RunProblem): RunResult {
  return failedResult({ exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, cancelled: false, durationMs: 0 }, problem);
}
