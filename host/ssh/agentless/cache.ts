/**
 * The board-side cache of agentless SSH: what the agent's blob store is, kept by the host over
 * SFTP in a folder of the SSH user's (default ~/.cache/axctl):
 *
 *   blobs/<sha256>            complete blobs, named by the sha256 of their bytes, read-only
 *   partial/<sha256>.part     an upload in progress; the next upload of that blob resumes it
 *   model-io/<sha256>.json    a model's input/output listing (learnt by a probe run)
 *   runs/run-<random>/        one run's folder (run_joint's cwd; out/ holds its dumps)
 *
 * A blob reaches blobs/ only by a rename after its size and content were checked, so a name
 * there is a promise about the content. Asking whether a blob is
 * there checks its size and, with sha256sum, its hash again (once per session), so a file
 * damaged or replaced on the board is never taken for the right one.
 */
import { createHash } from 'node:crypto';
import { BadFileError, ConnectError } from '../../../shared/errors';
import { looksLikeModelIo, type ModelIo } from '../../../shared/run/model-io';
import type { SshConnection } from '../connection';
import { shellQuote } from '../quote';
import type { SftpSession } from '../sftp';

export interface CacheLayout {
  root: string;
  blobs: string;
  partial: string;
  modelIo: string;
  runs: string;
  /** Locked (flock) by every run of run_joint from this cache, so hosts sharing it take turns. */
  runLock: string;
}

export function cacheLayout(root: string): CacheLayout {
  const r = root.replace(/(.)\/+$/, '$1');
  return { root: r, blobs: `${r}/blobs`, partial: `${r}/partial`, modelIo: `${r}/model-io`, runs: `${r}/runs`, runLock: `${r}/run.lock` };
}

/** Hashing a big blob on a slow board takes a while: allow this much per MiB, at least a minute. */
const HASH_MS_PER_MIB = 1000;

export class RemoteCache {
  readonly layout: CacheLayout;
  /** Blobs whose content this session has checked (or written and checked). */
  private readonly verified = new Set<string>();

  constructor(private readonly ssh: SshConnection, private readonly sftp: SftpSession, root: string, private readonly canHash: boolean) {
    this.layout = cacheLayout(root);
  }

  blobPath(hash: string): string {
    return `${this.layout.blobs}/${hash}`;
  }

  /** Which blobs are there, complete and intact (in the order asked). */
  async has(blobs: { hash: string; size: number }[]): Promise<boolean[]> {
    const sized = await Promise.all(blobs.map(async ({ hash, size }) => (await this.sftp.stat(this.blobPath(hash)))?.size === size));
    const toCheck = [...new Set(blobs.filter((b, i) => sized[i] && !this.verified.has(b.hash)).map((b) => b.hash))];
    if (toCheck.length > 0 && this.canHash) {
      const total = blobs.filter((b) => toCheck.includes(b.hash)).reduce((sum, b) => sum + b.size, 0);
      const sums = await this.sha256(toCheck.map((h) => this.blobPath(h)), total);
      for (const hash of toCheck) {
        if (sums.get(this.blobPath(hash)) === hash) this.verified.add(hash);
        else await this.sftp.unlink(this.blobPath(hash)); // damaged: drop it, it will be sent again
      }
    } else if (!this.canHash) {
      for (const hash of toCheck) this.verified.add(hash); // size and name are all we can check
    }
    return blobs.map((b, i) => sized[i]! && this.verified.has(b.hash));
  }

  /**
   * Uploads a local file as blob `hash` of `size` bytes, resuming a partial upload of it.
   * Returns the bytes sent. A whole upload is checked by hashing what was sent (SSH itself
   * guards the bytes on the way); a resumed one, whose first part came from an earlier
   * session, by the board's sha256sum when it has one.
   */
  async upload(file: string, hash: string, size: number, onProgress?: (done: number, total: number) => void): Promise<number> {
    const partial = `${this.layout.partial}/${hash}.part`;
    const held = (await this.sftp.stat(partial))?.size ?? 0;
    const start = held <= size ? held : 0;
    if (held > size) await this.sftp.unlink(partial);
    onProgress?.(start, size);
    const sentHash = start === 0 ? createHash('sha256') : undefined;
    const sent = start < size || size === 0
      ? await this.sftp.put(file, partial, { start, mode: 0o644, ...(sentHash ? { hash: sentHash } : {}), ...(onProgress ? { onProgress } : {}) })
      : 0;
    const landed = (await this.sftp.stat(partial))?.size;
    if (landed !== size) {
      await this.sftp.unlink(partial);
      throw new ConnectError('SSH_UPLOAD_INCOMPLETE', `${this.ssh.target.label}: ${partial} holds ${landed ?? 0} bytes after the upload, ${size} were sent`, {
        hint: 'check free space on the board (df -h) and upload again',
      });
    }
    if (sentHash) {
      const actual = sentHash.digest('hex');
      if (actual !== hash) {
        await this.sftp.unlink(partial);
        throw new BadFileError('FILE_CHANGED', file, `changed since it was hashed (sha256 now ${actual.slice(0, 12)}…)`, { hint: 'do not change files while they are deployed; run again' });
      }
    } else if (this.canHash) {
      const sum = (await this.sha256([partial], size)).get(partial);
      if (sum !== hash) {
        await this.sftp.unlink(partial);
        throw new ConnectError('SSH_UPLOAD_CORRUPT', `${this.ssh.target.label}: the resumed blob ${hash.slice(0, 12)}… has sha256 ${sum?.slice(0, 12) ?? 'unknown'}… on the board`, {
          hint: 'its first part, left by an earlier upload, did not match; it was removed: upload again',
        });
      }
    }
    await this.sftp.chmod(partial, 0o444);
    await this.sftp.rename(partial, this.blobPath(hash));
    this.verified.add(hash);
    return sent;
  }

  /** A model's listing saved by an earlier probe; null when there is none (or it is damaged). */
  async readModelIo(modelHash: string): Promise<ModelIo | null> {
    const text = await this.sftp.readText(`${this.layout.modelIo}/${modelHash}.json`).catch(() => null);
    if (text === null) return null;
    try {
      const io = JSON.parse(text) as unknown;
      return looksLikeModelIo(io) ? io : null;
    } catch {
      return null; // a damaged file costs one probe, nothing more
    }
  }

  /** Best effort: a failed write only means the next session probes again. */
  async saveModelIo(modelHash: string, io: ModelIo): Promise<void> {
    await this.sftp.writeTextAtomic(`${this.layout.modelIo}/${modelHash}.json`, JSON.stringify(io)).catch(() => undefined);
  }

  /** sha256 of remote files, by path, with `sha256sum` on the board. */
  private async sha256(files: string[], totalBytes: number): Promise<Map<string, string>> {
    const timeoutMs = Math.max(60_000, Math.ceil(totalBytes / 2 ** 20) * HASH_MS_PER_MIB);
    const result = await this.ssh.exec(`sha256sum -- ${files.map(shellQuote).join(' ')}`, { timeoutMs });
    const sums = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (m) sums.set(m[2]!, m[1]!);
    }
    return sums;
  }
}
