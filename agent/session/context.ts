/**
 * What every connection of one agent process shares: the store, the run service, the secret,
 * versions, limits and what the agent has learnt about the board. Sessions get it from
 * agent/main.ts; tests build it around a temp store.
 */
import type { BlobStore } from '../store/blob-store';
import type { RunService } from '../run/run-service';
import type { TransferMemory } from './transfer-memory';

/** The store operations a session uses. */
export type SessionStore = Pick<BlobStore, 'has' | 'markUsed' | 'beginUpload' | 'partialOffset' | 'writeChunk' | 'read' | 'usage' | 'writeProblem'>;
/** The run operations a session uses. */
export type SessionRuns = Pick<RunService, 'run' | 'describe'>;

export interface AgentContext {
  store: SessionStore;
  runs: SessionRuns;
  /** The shared secret from the token file. */
  secret: Uint8Array;
  agentVersion: string;
  /** The run_joint runs start (--run-joint): checked for BoardFacts. Absent in tests of other parts. */
  runJoint?: string;
  /** The timeout RunService applies when a request gives none (reported in Limits). */
  defaultRunTimeoutMs: number;
  /** Learnt from run_joint's output ('' until a run printed it), kept across restarts (agent/run/version-memory.ts). */
  board: { readonly runJointVersion: string; learn(version: string): Promise<void> };
  /** Where upload chunks wait for the disk: one per process (transfer-memory.ts). */
  transferMemory: TransferMemory;
  /** One line to the agent's log (stderr). */
  log(line: string): void;
}

/** Per-connection timings and sizes; defaults in SESSION_DEFAULTS. */
export interface SessionOptions {
  /** A peer must complete hello + auth within this time. */
  authTimeoutMs?: number;
  /**
   * Send AgentHello as the connection opens, not in answer to ClientHello: the host then sends
   * its proof right after its hello, one round trip less. Only where the connection starts with
   * the host (WebSocket, SSH, a relayed socket), not on a serial line that waits for one.
   */
  greetFirst?: boolean;
  /** Requests refused before authentication that end the connection. */
  maxUnauthenticated?: number;
  /** Interval of RunEvent alive_ms while a run is queued or running. */
  aliveIntervalMs?: number;
  /** Preferred PutChunk/GetChunk data size (capped by the transport's message size). */
  chunkBytes?: number;
  /** Upload bytes the host may have in flight. */
  putWindowBytes?: number;
  /** GetChunk bytes the agent sends ahead of the host's GetAck unless the host asks for less. */
  getWindowBytes?: number;
  /** Queued upload chunks are written to the store in batches up to this size (fewer fsyncs). */
  writeBatchBytes?: number;
  /**
   * An upload that gets no chunk, or a download that gets no acknowledgement, for this long
   * (while the agent itself is not busy with the store) ends with TRANSFER_TIMEOUT: it no longer
   * holds its store reservation or operation slot. An upload's stored bytes stay for a resume.
   */
  transferIdleTimeoutMs?: number;
}

export const SESSION_DEFAULTS: Required<SessionOptions> = {
  authTimeoutMs: 10_000,
  greetFirst: false,
  maxUnauthenticated: 3,
  aliveIntervalMs: 5_000,
  chunkBytes: 1024 * 1024,
  putWindowBytes: 12 * 1024 * 1024,
  getWindowBytes: 8 * 1024 * 1024,
  writeBatchBytes: 6 * 1024 * 1024,
  transferIdleTimeoutMs: 60_000,
};
