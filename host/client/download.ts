/**
 * Download of one blob into a local file: chunks are written in order to a temporary file
 * beside the target and acknowledged once written (the agent sends no further ahead than its
 * window); the sha256 is checked before the file is renamed into place, so the target is
 * either the whole verified blob or untouched.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AxError, RunFailedError, UsageError, fileWriteError } from '../../shared/errors';
import { makeFolder, tempPathFor } from '../../shared/fs/atomic';
import { ProtocolError } from '../../shared/protocol/errors';
import type { Channel } from './channel';
import { streamedCall } from './streamed-call';

export interface GetOptions {
  onProgress?: (progress: { received: number; total: number }) => void;
  signal?: AbortSignal;
  /** Inactivity limit for this download (default: the client's request timeout). */
  timeoutMs?: number;
}

export interface DownloadSizing {
  chunkBytes: number;
  windowBytes: number;
}

export async function downloadBlob(channel: Channel, hash: string, size: number, toFile: string, sizing: DownloadSizing, opts: GetOptions = {}): Promise<void> {
  await writeBlobFile(hash, toFile, (sink) => receive(channel, hash, size, sizing, opts, sink));
}

/** A blob whose bytes came with sha256 `actual` must be blob `hash`: else BLOB_CORRUPT. */
export function checkArrived(hash: string, actual: string): void {
  if (actual !== hash) {
    throw new RunFailedError('BLOB_CORRUPT', `blob ${hash} arrived with sha256 ${actual}`, { hint: 'the board\'s copy may be damaged; run again' });
  }
}

/** A blob the agent sent inside its RunResult: the same checks and atomic write as a download. */
export async function writeInlineBlob(hash: string, data: Uint8Array, toFile: string): Promise<void> {
  await writeBlobFile(hash, toFile, (sink) => sink(0, data));
}

/** Writes what `fill` passes to its sink into a temporary file beside `toFile`, checks the sha256, renames it into place. */
async function writeBlobFile(hash: string, toFile: string, fill: (sink: Sink) => Promise<void>): Promise<void> {
  const temp = tempPathFor(toFile);
  let handle: fsp.FileHandle;
  try {
    await makeFolder(path.dirname(toFile));
    handle = await fsp.open(temp, 'w');
  } catch (err) {
    throw fileWriteError(toFile, err);
  }
  let ok = false;
  try {
    const hasher = createHash('sha256');
    await fill(async (offset, data) => {
      hasher.update(data);
      try {
        let written = 0;
        while (written < data.length) written += (await handle.write(data, written, data.length - written, offset + written)).bytesWritten;
      } catch (err) {
        throw fileWriteError(toFile, err);
      }
    });
    checkArrived(hash, hasher.digest('hex'));
    try {
      await handle.close();
      await fsp.rename(temp, toFile);
    } catch (err) {
      throw fileWriteError(toFile, err);
    }
    ok = true;
  } finally {
    if (!ok) {
      await handle.close().catch(() => undefined);
      await fsp.rm(temp, { force: true });
    }
  }
}

type Sink = (offset: number, data: Uint8Array) => Promise<void>;

function receive(channel: Channel, hash: string, size: number, sizing: DownloadSizing, opts: GetOptions, sink: Sink): Promise<void> {
  let expected = 0;
  let writes = Promise.resolve();
  const cancelled = () => new UsageError('CANCELLED', `download of ${hash} was cancelled`);
  return streamedCall<void>(channel, `the download of ${hash}`, {
    phase: 'download',
    request: (id) => ({ id, body: 'get', get: { hash, offset: 0, length: 0, chunkBytes: sizing.chunkBytes, windowBytes: sizing.windowBytes } }),
    onEnvelope: (env, call) => {
      if (env.body !== 'getChunk') throw new ProtocolError('PROTO_UNEXPECTED', `${channel.peer} sent ${env.body} during the download of ${hash}`);
      const { offset, data, last, blobSize } = env.getChunk;
      if (blobSize !== size) throw new RunFailedError('BLOB_SIZE_MISMATCH', `blob ${hash} is ${blobSize} bytes on the board, expected ${size}`);
      if (offset !== expected) throw new ProtocolError('PROTO_UNEXPECTED', `download of ${hash}: chunk at offset ${offset}, expected ${expected}`);
      expected += data.length;
      const received = expected;
      writes = writes
        .then(() => (call.finished ? undefined : sink(offset, data)))
        .then(() => {
          if (call.finished) return;
          opts.onProgress?.({ received, total: size });
          if (!last) void channel.send({ id: call.id, body: 'getAck', getAck: { received } }).catch(() => undefined);
          else if (received === size) call.done();
          else call.fail(new RunFailedError('BLOB_SIZE_MISMATCH', `blob ${hash} ended after ${received} of ${size} bytes`));
        })
        .catch((err: AxError) => call.fail(err));
    },
    signal: opts.signal,
    abortedError: cancelled,
    notStartedError: cancelled,
    timeoutMs: opts.timeoutMs,
  });
}
