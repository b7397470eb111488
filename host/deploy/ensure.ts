/**
 * Getting blobs onto the board: one has() round trip for all of them, then an upload of each
 * one the board lacks (resuming what it holds of it). A blob the board already has costs
 * nothing more; the same file listed twice is sent once.
 */
import * as path from 'node:path';
import { UsageError } from '../../shared/errors';
import { boardLabel, type BoardSession } from '../board/session';
import { formatBytes, type Progress } from './progress';

export interface BlobFile {
  /** For messages: 'model', or the input's name. */
  label: string;
  path: string;
  hash: string;
  size: number;
}

export interface BlobOutcome extends BlobFile {
  /** The board held the whole blob before. */
  present: boolean;
  /** Data bytes sent now. */
  sentBytes: number;
  /** Where the upload started: bytes of an earlier, cut-off upload the board kept. */
  resumedFrom: number;
}

/** Asks the board which of `files` it holds (one round trip), in order. */
export function presentOnBoard(session: BoardSession, files: BlobFile[]): Promise<boolean[]> {
  return session.has(files.map(({ hash, size }) => ({ hash, size })));
}

/**
 * Blobs that must be on the board together (a model and its inputs) must fit under the agent's
 * store cap together: past it, each upload evicts the least recently used blob, which would be
 * one of these (the model, sent first), and deploy would say "deployed" of a board that no
 * longer holds it, or verify's run would miss it however often it is sent. Refused before a
 * byte is sent: STORE_FULL, exit 2 (the cap is the user's to raise).
 */
export function checkFitsStore(session: BoardSession, files: BlobFile[]): void {
  const cap = session.storeCapBytes;
  const total = totalOf(files);
  if (cap === undefined || total <= cap) return;
  throw new UsageError(
    'STORE_FULL',
    `the model and its inputs take ${bytes(total)}, more than the ${boardLabel(session.identity)} agent's store cap of ${bytes(cap)}: uploading the last would evict the first`,
    { hint: "raise the agent's store cap (axagent --store-cap; by default 80% of what the store holds plus the disk's free space), or free room on the board's disk" },
  );
}

/** Bytes `files` take in a store (each blob once). */
function totalOf(files: Pick<BlobFile, 'hash' | 'size'>[]): number {
  return [...new Map(files.map((f) => [f.hash, f.size])).values()].reduce((sum, size) => sum + size, 0);
}

const bytes = (n: number) => (n < 1024 ? `${n} bytes` : `${n} bytes (${formatBytes(n)})`);

/** "they take N bytes (…) of its store cap of M bytes (…)", or without the cap where the agent has none. */
export function storeShareText(session: BoardSession, files: Pick<BlobFile, 'hash' | 'size'>[]): string {
  const cap = session.storeCapBytes;
  return `they take ${bytes(totalOf(files))}${cap === undefined ? '' : ` of its store cap of ${bytes(cap)}`}`;
}

/**
 * `known`: what presentOnBoard said of these very files, when the caller asked already. All of
 * `files` must fit in the board's store together (checkFitsStore), checked before anything is sent.
 */
export async function ensureOnBoard(session: BoardSession, files: BlobFile[], progress: Progress, known?: boolean[]): Promise<BlobOutcome[]> {
  checkFitsStore(session, files);
  const knownByHash = known && new Map(files.map((f, i) => [f.hash, known[i]!]));
  const unique = [...new Map(files.map((f) => [f.hash, f])).values()];
  const present = knownByHash ? unique.map((f) => knownByHash.get(f.hash)!) : await presentOnBoard(session, unique);
  const missing = unique.filter((_, i) => !present[i]);
  const outcomes = new Map<string, BlobOutcome>(unique.map((f, i) => [f.hash, { ...f, present: present[i]!, sentBytes: 0, resumedFrom: present[i] ? f.size : 0 }]));
  if (missing.length > 0) {
    const total = missing.reduce((sum, f) => sum + f.size, 0);
    let before = 0;
    progress.startBytes(missing.length === 1 ? path.basename(missing[0]!.path) : `${missing.length} files`, total);
    try {
      for (const file of missing) {
        const name = path.basename(file.path);
        const { sentBytes } = await session.upload(file.path, file.hash, file.size, (p) => progress.updateBytes(before + p.doneBytes, name));
        before += file.size;
        outcomes.set(file.hash, { ...file, present: false, sentBytes, resumedFrom: file.size - sentBytes });
      }
    } finally {
      progress.endBytes();
    }
  }
  return files.map((f) => ({ ...outcomes.get(f.hash)!, label: f.label, path: f.path }));
}
