/**
 * Upload of one blob: PutBegin, then chunks from the offset the agent names (so an upload cut
 * off earlier resumes without re-sending what the agent has stored), never more than the
 * window ahead of the agent's acknowledgements, until the agent reports the blob complete.
 */
import { promises as fsp, type Stats } from 'node:fs';
import { BadFileError, UsageError, fileSystemError, type AxError } from '../../shared/errors';
import { fileVersion, sameFileVersion } from '../../shared/fs/file-version';
import { sha256File } from '../../shared/fs/sha256-file';
import { ProtocolError } from '../../shared/protocol/errors';
import type { Channel } from './channel';

/** Where an upload's bytes come from. */
export interface BlobSource {
  /** `length` bytes at `offset` (may reuse one buffer between calls). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
  /**
   * Throws FILE_CHANGED when the bytes are no longer what was hashed as `hash`. Asked when the
   * agent says the bytes it received hash to something else (HASH_MISMATCH): for a local file
   * that changed, every attempt would fail alike, and only the host can say which file it was.
   */
  checkUnchanged?(hash: string): Promise<void>;
}

export interface PutProgress {
  /** Bytes the agent has stored (acknowledged). */
  stored: number;
  total: number;
  /** Where this upload started (bytes already on the board). */
  resumedFrom: number;
}

export interface PutOptions {
  onProgress?: (progress: PutProgress) => void;
  signal?: AbortSignal;
  /** Inactivity limit for this upload (default: the client's request timeout). */
  timeoutMs?: number;
}

export interface PutResult {
  hash: string;
  size: number;
  /** Offset the agent told us to start from (size when it already had the blob). */
  resumedFrom: number;
  /** Data bytes this call sent. */
  sentBytes: number;
  alreadyPresent: boolean;
}

export interface UploadSizing {
  chunkBytes: number;
  windowBytes: number;
}

export function fileSource(file: string, size: number, chunkBytes: number): Promise<BlobSource> {
  return (async () => {
    let handle: fsp.FileHandle;
    let opened: Stats;
    try {
      handle = await fsp.open(file, 'r');
      opened = await handle.stat();
      if (opened.size !== size) {
        await handle.close();
        throw new BadFileError('FILE_CHANGED', file, `is ${opened.size} bytes, expected ${size}`, { hint: 'the file changed since it was hashed; run again' });
      }
    } catch (err) {
      throw fileSystemError(file, err);
    }
    const buffer = Buffer.allocUnsafe(Math.max(1, chunkBytes));
    return {
      async read(offset, length) {
        let got = 0;
        try {
          while (got < length) {
            const { bytesRead } = await handle.read(buffer, got, length - got, offset + got);
            if (bytesRead === 0) throw new BadFileError('FILE_CHANGED', file, `ended at ${offset + got} bytes while being uploaded`, { hint: 'do not change files while they are deployed' });
            got += bytesRead;
          }
        } catch (err) {
          throw fileSystemError(file, err);
        }
        return buffer.subarray(0, length);
      },
      close: () => handle.close(),
      checkUnchanged: fileChecker(file, opened),
    };
  })();
}

const FILE_CHANGED_HINT = 'do not change files while they are deployed; run again';

/**
 * checkUnchanged for a file opened with stats `opened`: it changed when its stats differ now
 * (written, or replaced by a rename, during the upload) or its bytes do not hash to `hash`
 * (changed after it was hashed, before the upload began). Once the bytes matched, equal stats
 * are enough: the file is read whole only once, however many times the upload is begun again.
 */
function fileChecker(file: string, opened: Stats): (hash: string) => Promise<void> {
  let bytesMatched = false;
  return async (hash) => {
    const now = await statIfExists(file);
    if (!now) throw new BadFileError('FILE_CHANGED', file, 'was removed while being uploaded', { hint: FILE_CHANGED_HINT });
    if (!sameFileVersion(fileVersion(opened), fileVersion(now))) throw new BadFileError('FILE_CHANGED', file, 'was modified or replaced while being uploaded', { hint: FILE_CHANGED_HINT });
    if (bytesMatched) return;
    const actual = await hashOf(file);
    if (actual !== hash) {
      throw new BadFileError('FILE_CHANGED', file, `changed since it was hashed (sha256 now ${actual.slice(0, 12)}…, not ${hash.slice(0, 12)}…)`, { hint: FILE_CHANGED_HINT });
    }
    bytesMatched = true;
  };
}

async function hashOf(file: string): Promise<string> {
  try {
    return await sha256File(file);
  } catch (err) {
    throw fileSystemError(file, err);
  }
}

async function statIfExists(file: string): Promise<Stats | null> {
  try {
    return await fsp.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileSystemError(file, err);
  }
}

export function bytesSource(data: Uint8Array): BlobSource {
  return { read: async (offset, length) => data.subarray(offset, offset + length), close: async () => undefined };
}

export function uploadBlob(channel: Channel, source: BlobSource, hash: string, size: number, sizing: UploadSizing, opts: PutOptions = {}): Promise<PutResult> {
  return new Promise<PutResult>((resolve, reject) => {
    let acked = 0;
    let sentTo = 0;
    let resumedFrom = 0;
    let sentBytes = 0;
    let started = false;
    let finished = false;
    let wake: (() => void) | null = null;
    const wakeUp = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const finish = (err: AxError | null, alreadyPresent = false) => {
      if (finished) return;
      finished = true;
      call.close();
      opts.signal?.removeEventListener('abort', onAbort);
      wakeUp();
      if (err) channel.abandon(call.id, err);
      if (err) reject(err);
      else resolve({ hash, size, resumedFrom, sentBytes, alreadyPresent });
    };
    const onAbort = () => finish(new UsageError('CANCELLED', `upload of ${hash} was cancelled`));
    const call = channel.open(`the upload of ${hash}`, {
      onEnvelope: (env) => {
        if (env.body === 'putReady' && !started) {
          started = true;
          acked = sentTo = resumedFrom = env.putReady.offset;
          opts.onProgress?.({ stored: acked, total: size, resumedFrom });
          if (env.putReady.complete) finish(null, true);
          else void pump();
        } else if (env.body === 'putAck' && started) {
          acked = Math.max(acked, env.putAck.received);
          opts.onProgress?.({ stored: acked, total: size, resumedFrom });
          if (env.putAck.complete) finish(null);
          else wakeUp();
        } else {
          finish(new ProtocolError('PROTO_UNEXPECTED', `${channel.peer} sent ${env.body} during the upload of ${hash}`));
        }
      },
      onError: (err) => finish(err),
    }, opts.timeoutMs, 'upload');

    async function pump(): Promise<void> {
      try {
        // At least one chunk: an empty blob, or a partial the agent holds in full but has not
        // verified yet, is finished by an empty chunk.
        do {
          while (sentTo - acked >= sizing.windowBytes && !finished) await new Promise<void>((r) => (wake = r));
          if (finished) return;
          const length = Math.min(sizing.chunkBytes, size - sentTo);
          const data = length > 0 ? await source.read(sentTo, length) : new Uint8Array(0);
          if (finished) return;
          await channel.send({ id: call.id, body: 'putChunk', putChunk: { offset: sentTo, data } });
          sentTo += length;
          sentBytes += length;
        } while (sentTo < size);
      } catch (err) {
        finish(err as AxError);
      }
    }

    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    channel.send({ id: call.id, body: 'putBegin', putBegin: { hash, size } }).catch((err: AxError) => finish(err));
  });
}
