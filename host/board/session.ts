/**
 * A BoardSession is what deploy and verify talk to: a board they can upload blobs to, run
 * run_joint on, and fetch outputs from. With the agent it is an AgentClient over any
 * transport (ws://, ssh:// with the agent on stdio, serial://); agentless SSH implements the
 * same interface with SFTP and a remote run_joint. Deploy/verify never know which they have.
 */
import type { DescribeOptions, ModelDescriptionResult } from '../client/describe';
import type { RunOptions, RunRequest, RunResult } from '../client/run';
import type { AgentReinstall, AgentRunJointProblem } from '../../shared/run/agent-run-joint-check';

export type { DescribeOptions, ModelDescriptionResult } from '../client/describe';
export { DescribeUnsupportedError, ModelProbeFailedError } from '../client/describe';
export type { RunOptions, RunRequest, RunResult } from '../client/run';

export interface BoardIdentity {
  /** The board's URL: as the user gave it, or as the inventory resolved a name. */
  url: string;
  /** The inventory name the user gave (`--board evb1`), when the URL came from the inventory. */
  name?: string;
  /** 'agent' (axagent over some transport) or 'agentless' (plain SSH). */
  mode: 'agent' | 'agentless';
  hostname?: string;
  agentVersion?: string;
  runJointVersion?: string;
  /** Free space in the board's store/cache, bytes, when known. */
  freeBytes?: number;
  /** The agent said its run_joint cannot run (removed, not executable): no run can start. */
  runJointProblem?: AgentRunJointProblem;
}

export interface UploadProgress {
  /** Bytes of this blob the board holds so far (including what it had before). */
  doneBytes: number;
  totalBytes: number;
  /** Bytes actually sent by this upload. */
  sentBytes: number;
}

export interface BoardSession {
  readonly identity: BoardIdentity;
  /**
   * The most bytes the board's store holds (the agent's --store-cap, from its handshake), when
   * there is one: past it, an upload evicts the least recently used blobs.
   */
  readonly storeCapBytes?: number | undefined;
  /** How to reinstall the agent this session reached (with the --prefix and --via it took), for hints. */
  readonly reinstall?: AgentReinstall | undefined;
  /**
   * Resolves once the session knows what it will about the board (its identity complete);
   * rejects with why it cannot. Agentless SSH learns part of it from the board's shell while
   * uploads already run; a session without this method knew it all when it opened.
   */
  ready?(): Promise<void>;
  /** For each blob: does the board hold it complete? (same order as asked) */
  has(blobs: { hash: string; size: number }[]): Promise<boolean[]>;
  /** Uploads `file` as blob `hash`; resumes what the board already holds of it. */
  upload(file: string, hash: string, size: number, onProgress?: (p: UploadProgress) => void): Promise<{ sentBytes: number }>;
  /** Runs run_joint on the board; resolves with the result also for failed runs. */
  run(req: RunRequest, opts?: RunOptions): Promise<RunResult>;
  /**
   * The model's inputs and outputs as run_joint lists them (the model must be on the board).
   * May run run_joint once to learn them, waiting its turn like a run; when that fails, rejects
   * with ModelProbeFailedError holding the failed run. Rejects with DescribeUnsupportedError
   * when the board cannot answer (an older agent): do without.
   */
  describeModel?(modelHash: string, opts?: DescribeOptions): Promise<ModelDescriptionResult>;
  /** Fetches blob `hash` to `toFile` atomically (sha256-checked). */
  download(hash: string, size: number, toFile: string): Promise<void>;
  /**
   * The bytes of a run's output that came back with the run's result (sha256-checked), when
   * they did: compared from memory, with no download and no file. Undefined: download it.
   */
  heldOutput?(hash: string, size: number): Uint8Array | undefined;
  close(): Promise<void>;
}

/** The URL, and the inventory name when the user gave one instead of a URL. */
export function boardNaming(target: { given: string; url: string }): { url: string; name?: string } {
  return target.given === target.url ? { url: target.url } : { url: target.url, name: target.given };
}

/** How messages and reports name a board: `evb1 (ws://...)` for an inventory name, else the URL. */
export function boardLabel(board: { url: string; name?: string | null | undefined }): string {
  return board.name ? `${board.name} (${board.url})` : board.url;
}
