/**
 * AgentClient: the host's handle on one authenticated connection to an axagent. It receives a
 * Transport (see host/client/connect.ts for opening one by URL), performs the handshake and
 * mutual authentication, then offers the agent's operations. Several may run at once over the
 * same connection; every wait has a timeout.
 *
 *   const client = await AgentClient.connect(await openTransport('ws://board:7007'), { token });
 *   await client.putFile('model.joint', hash, size, { onProgress });
 *   const result = await client.run({ modelHash: hash, inputs: [...] }, { onLine });
 *   await client.getBlob(result.outputs[0].hash, result.outputs[0].size, 'out/prob.bin');
 *   await client.close();
 */
import { AxError, UsageError } from '../../shared/errors';
import type { BlobPresence, BoardFacts } from '../../shared/protocol/envelope';
import { checkBlobHash } from '../../shared/protocol/names';
import { MAX_HAS_QUERIES } from '../../shared/protocol/request-limits';
import { parseToken } from '../../shared/protocol/token';
import type { CloseInfo, Transport } from '../../shared/transport/transport';
import { version as CLIENT_VERSION } from '../../package.json';
import { Channel } from './channel';
import { DESCRIBE_MIN_MINOR, DescribeUnsupportedError, describeOnAgent, type DescribeOptions, type ModelDescriptionResult } from './describe';
import { downloadBlob, writeInlineBlob, type GetOptions } from './download';
import { handshake, type AgentInfo } from './handshake';
import { InlineBlobs } from './inline-blobs';
import { runOnAgent, type RunOptions, type RunRequest, type RunResult } from './run';
import { bytesSource, fileSource, uploadBlob, type BlobSource, type PutOptions, type PutResult } from './upload';

export type { AgentInfo } from './handshake';
export type { BlobPresence, BoardFacts, Limits } from '../../shared/protocol/envelope';
export type { RunOptions, RunRequest, RunResult, RunStatus } from './run';
export type { PutOptions, PutProgress, PutResult } from './upload';
export type { GetOptions } from './download';
export { DescribeUnsupportedError, ModelProbeFailedError, type DescribeOptions, type ModelDescriptionResult } from './describe';

export interface ConnectOptions {
  /** The shared secret: the token file's text (trimmed, >= 16 characters) or raw bytes. */
  token: string | Uint8Array;
  /** Deadline for the whole handshake. Default 10 s. */
  timeoutMs?: number;
  /** Aborting it gives up the handshake at once (Ctrl-C): the transport is destroyed, connect() rejects with its reason. */
  signal?: AbortSignal;
  /** Silence after which a request fails with REQUEST_TIMEOUT. Default 60 s. */
  requestTimeoutMs?: number;
  /** Reported to the agent (its log). Default: this package's version. */
  clientVersion?: string;
  /** Largest chunk to send/receive; default the agent's Limits.chunkBytes. */
  chunkBytes?: number;
  /** Download window: bytes the agent may send ahead of our acknowledgements. Default 8 MiB. */
  getWindowBytes?: number;
}

export type BlobRef = string | { hash: string; size?: number };

/** Room an Envelope needs around a chunk's data. */
const ENVELOPE_SLACK_BYTES = 64;
/** Uploads of one blob begun again when the board's partial changed under them (OFFSET_MISMATCH). */
const PUT_ATTEMPTS = 3;
const RESTARTABLE = new Set(['OFFSET_MISMATCH', 'HASH_MISMATCH']);
const DEFAULT_GET_WINDOW = 8 * 1024 * 1024;

export class AgentClient {
  /** Versions, board facts and limits the agent announced when connecting. */
  readonly hello: AgentInfo;
  /** Resolves when the connection has ended (for whatever reason). */
  readonly closed: Promise<CloseInfo>;
  private readonly chunkBytes: number;
  /** Small outputs of this client's runs, sent inside the RunResult: getBlob needs no round trip for them. */
  private readonly inline = new InlineBlobs();

  private constructor(private readonly channel: Channel, hello: AgentInfo, private readonly opts: ConnectOptions) {
    this.hello = hello;
    this.closed = channel.closed;
    const transportRoom = channel.transport.maxMessageBytes - ENVELOPE_SLACK_BYTES;
    const wanted = opts.chunkBytes ?? channel.transport.preferredChunkBytes ?? hello.limits.chunkBytes;
    this.chunkBytes = Math.max(1, Math.min(wanted, hello.limits.chunkBytes || transportRoom, transportRoom));
  }

  /** Handshake and mutual authentication over `transport`; destroys it on failure. */
  static async connect(transport: Transport, opts: ConnectOptions): Promise<AgentClient> {
    let secret: Uint8Array;
    try {
      secret = typeof opts.token === 'string' ? parseToken(opts.token, 'the token') : opts.token;
      if (secret.length === 0) throw new UsageError('TOKEN_EMPTY', 'the token is empty');
    } catch (err) {
      transport.destroy();
      throw err;
    }
    const channel = new Channel(transport, opts.requestTimeoutMs ?? 60_000);
    const hello = await handshake(channel, { secret, clientVersion: opts.clientVersion ?? CLIENT_VERSION, timeoutMs: opts.timeoutMs ?? 10_000, ...(opts.signal && { signal: opts.signal }) });
    return new AgentClient(channel, hello, opts);
  }

  get peer(): string {
    return this.channel.peer;
  }

  /** The transport this client talks over (to watch its 'close', or to cut it in tests). */
  get transport(): Transport {
    return this.channel.transport;
  }

  /** Which blobs the agent holds (in the order asked); with a size, also how much of a partial upload. */
  async has(blobs: BlobRef[]): Promise<BlobPresence[]> {
    const queries = blobs.map((b) => (typeof b === 'string' ? { hash: b, size: 0 } : { hash: b.hash, size: b.size ?? 0 }));
    for (const q of queries) checkBlobHash(q.hash);
    // The agent answers at most MAX_HAS_QUERIES blobs per request (request-limits.ts).
    const presence: BlobPresence[] = [];
    for (let at = 0; at < queries.length || at === 0; at += MAX_HAS_QUERIES) {
      const batch = queries.slice(at, at + MAX_HAS_QUERIES);
      const env = await this.channel.request('has', (id) => ({ id, body: 'has', has: { blobs: batch } }), 'hasResult');
      presence.push(...env.hasResult.blobs);
    }
    return presence;
  }

  /** Fresh board facts (free space, memory, run_joint version). */
  async facts(): Promise<BoardFacts> {
    const env = await this.channel.request('facts', (id) => ({ id, body: 'facts', facts: {} }), 'factsResult');
    return env.factsResult;
  }

  /**
   * Uploads a local file as blob `hash` (its sha256) of `size` bytes. Resumes from what the
   * agent already stored; returns at once when it has the whole blob.
   */
  async putFile(file: string, hash: string, size: number, opts: PutOptions = {}): Promise<PutResult> {
    checkBlobHash(hash);
    return this.put(await fileSource(file, size, this.chunkBytes), hash, size, opts);
  }

  /** Uploads bytes held in memory (small blobs). */
  async putBytes(data: Uint8Array, hash: string, opts: PutOptions = {}): Promise<PutResult> {
    checkBlobHash(hash);
    return this.put(bytesSource(data), hash, data.length, opts);
  }

  /**
   * Downloads blob `hash` of `size` bytes to `toFile`: written beside it, sha256-checked, then
   * renamed into place (never a half-written file). An output that a run of this client got
   * inline is written from memory with the same checks, without asking the agent.
   */
  async getBlob(hash: string, size: number, toFile: string, opts: GetOptions = {}): Promise<void> {
    checkBlobHash(hash);
    const inline = this.inline.get(hash, size);
    if (inline) return writeInlineBlob(hash, inline, toFile);
    return downloadBlob(this.channel, hash, size, toFile, { chunkBytes: this.chunkBytes, windowBytes: this.opts.getWindowBytes ?? DEFAULT_GET_WINDOW }, opts);
  }

  /**
   * The bytes of blob `hash` when a run of this client got it inline (sha256-checked; BLOB_CORRUPT
   * if they are not that blob), for use from memory; undefined when it must be fetched.
   */
  inlineBlob(hash: string, size: number): Uint8Array | undefined {
    checkBlobHash(hash);
    return this.inline.getChecked(hash, size);
  }

  /** Runs run_joint on the board; resolves with the result also for failed runs. */
  async run(req: RunRequest, opts: RunOptions = {}): Promise<RunResult> {
    return runOnAgent(this.channel, req, opts, this.inline);
  }

  /**
   * The model's inputs and outputs as run_joint lists them (the model must be on the board:
   * else BLOB_MISSING). The agent may probe it first, in its run queue. An agent older than
   * protocol 1.1 cannot answer: DescribeUnsupportedError (DESCRIBE_UNSUPPORTED).
   */
  async describeModel(modelHash: string, opts: DescribeOptions = {}): Promise<ModelDescriptionResult> {
    if (this.hello.protocolMinor < DESCRIBE_MIN_MINOR) throw new DescribeUnsupportedError(this.peer, this.hello.agentVersion);
    try {
      return await describeOnAgent(this.channel, modelHash, opts);
    } catch (err) {
      // An agent that announced 1.1 but was built without the request.
      if (err instanceof AxError && err.code === 'UNSUPPORTED_REQUEST') throw new DescribeUnsupportedError(this.peer, this.hello.agentVersion, { cause: err });
      throw err;
    }
  }

  /** Asks the agent to stop request `requestId`; true if it was still in flight. */
  cancel(requestId: number): Promise<boolean> {
    return this.channel.cancel(requestId);
  }

  /** Ends the connection in an orderly way; requests still in flight fail with CONNECTION_LOST. */
  async close(): Promise<void> {
    await this.channel.transport.close();
  }

  private async put(source: BlobSource, hash: string, size: number, opts: PutOptions): Promise<PutResult> {
    const sizing = { chunkBytes: this.chunkBytes, windowBytes: Math.max(this.chunkBytes, this.hello.limits.putWindowBytes) };
    let sentBefore = 0; // by attempts that were begun again
    try {
      for (let attempt = 1; ; attempt++) {
        let sentNow = 0;
        const counted: BlobSource = {
          read: async (offset, length) => {
            const data = await source.read(offset, length);
            sentNow += data.length;
            return data;
          },
          close: () => source.close(),
        };
        try {
          const result = await uploadBlob(this.channel, counted, hash, size, sizing, opts);
          return { ...result, sentBytes: sentBefore + result.sentBytes };
        } catch (err) {
          // Bytes that fail the sha256 (HASH_MISMATCH) may come from our side: a local file
          // changed since it was hashed would fail every attempt alike, so say that, naming it.
          if ((err as AxError).code === 'HASH_MISMATCH') await source.checkUnchanged?.(hash);
          // Else the board's partial changed under this upload: another host's upload of the
          // same blob left bytes in it that fail the sha256 (HASH_MISMATCH: the partial is
          // dropped), or it was dropped or evicted (OFFSET_MISMATCH). Begin again from wherever
          // the agent now says, a few times at most.
          if (!RESTARTABLE.has((err as AxError).code) || attempt >= PUT_ATTEMPTS || opts.signal?.aborted) throw err;
          sentBefore += sentNow;
        }
      }
    } finally {
      await source.close();
    }
  }
}

/** Same as AgentClient.connect. */
export function connect(transport: Transport, opts: ConnectOptions): Promise<AgentClient> {
  return AgentClient.connect(transport, opts);
}
