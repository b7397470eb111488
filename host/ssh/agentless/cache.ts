/**
 * The board-side cache of agentless SSH: what the agent's blob store is, kept by the host over
 * SFTP in a folder of the SSH user's (default ~/.cache/axctl):
 *
 *   blobs/<sha256>                 complete blobs, named by the sha256 of their bytes, read-only
 *   partial/<sha256>.<id>.part     an upload in progress, written by one upload only (<id>)
 *   partial/<sha256>.<id>.check    an upload written whole, its content being checked
 *   partial/<sha256>.part          an upload given up (nobody writes it): the next one resumes it
 *   model-io/<sha256>.json         a model's input/output listing (learnt by a probe run)
 *   runs/run-<random>/             one run's folder (run_joint's cwd; out/ holds its dumps)
 *
 * A blob reaches blobs/ only by a rename after its size and content were checked, so a name
 * there is a promise about the content. Asking whether a blob is
 * there checks its size and, with sha256sum, its hash again (once per session), so a file
 * damaged or replaced on the board is never taken for the right one.
 *
 * Hosts may share the cache, and may upload the same blob at the same time: each upload writes
 * its own partial (created exclusively, never truncating or writing into another's). It
 * resumes a partial only once nobody writes it: one given up (renamed to <sha256>.part by an
 * upload that failed or was stopped with the connection still up) or one whose writer died
 * (its time not set for STALE_WRITER_S). A live writer's writes set it, and so does its
 * heartbeat every WRITER_HEARTBEAT_MS whatever the writes do (a slow local disk); a writer
 * whose link stalls gives up within its SFTP request deadline (30 s). It claims it by renaming
 * it to its own name, which only one claimant can do.
 * An upload that finds another's partial of the same blob being written waits for that one
 * to land instead of sending the blob again (waitForOthers), as long as it keeps growing; two
 * hosts that start at the same moment both send it, and both end with the same blob.
 */
import { createHash, randomBytes } from 'node:crypto';
import { settledWithin, sleepUnlessAborted } from '../../../shared/abort';
import { BadFileError, ConnectError } from '../../../shared/errors';
import { looksLikeModelIo, type ModelIo } from '../../../shared/run/model-io';
import type { SshConnection } from '../connection';
import { connectionLost } from '../errors';
import { shellQuote } from '../quote';
import { NO_SUCH_FILE, statusOf, type SftpSession } from '../sftp';

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

/** How long sha256sum of `totalBytes` may take on the board. */
export function hashTimeoutMs(totalBytes: number): number {
  return Math.max(60_000, Math.ceil(totalBytes / 2 ** 20) * HASH_MS_PER_MIB);
}

/** Files for the board's shell to hash along with the facts (see RemoteCache's `shell`). */
export interface HashRequest {
  files: string[];
  totalBytes: number;
}

/** What the cache needs of the board's facts; `sums` (path → sha256) when the call asked for them and the board has sha256sum. */
export interface ShellAnswer {
  facts: { sha256sum: boolean; clockOffsetMs: number };
  sums?: Map<string, string>;
}
/**
 * A partial whose time was not set for this long has lost its writer: a live one sets it at
 * least every WRITER_HEARTBEAT_MS, and gives up when a request goes unanswered for 30 s (the
 * SFTP deadline). The rest is margin for the clock offset (measured to within a round trip)
 * and the whole seconds of SFTP's times. It was 5 minutes: a host killed mid-upload kept the
 * next one from resuming its partial that long.
 */
export const STALE_WRITER_S = 45;
/** How often an upload sets its partial's time while it writes it (see STALE_WRITER_S). */
export const WRITER_HEARTBEAT_MS = 10_000;
/** How often an upload waiting for another host's upload of the same blob looks again. */
const OTHERS_POLL_MS = 500;
/** Another host's partial that has not grown for this long has stalled: the waiting upload sends the blob itself. */
const OTHERS_STALL_MS = 15_000;
/** How long close() lets the uploads in progress give up their partials before it hangs up. */
const RELEASE_GRACE_MS = 3000;

export class RemoteCache {
  readonly layout: CacheLayout;
  /** Blobs whose content this session has checked (or written and checked). */
  private readonly verified = new Set<string>();

  /** The shell has answered: its sweep of old partials is done. */
  private swept = false;

  /** The uploads in progress, so close() can stop them and give up their partials first. */
  private readonly uploads = new Map<AbortController, Promise<unknown>>();

  /**
   * `shell`: what the board's shell tells — whether it has sha256sum, and its clock minus ours
   * (partials' ages are in the board's time) — after sweeping the cache of what sessions cut a
   * day ago left. Asked for only where needed (see partialsOf), so a new blob's upload never
   * waits for it. Files given are hashed by the same command when it has not run yet (has():
   * one command through the login shell instead of two).
   */
  constructor(private readonly ssh: SshConnection, private readonly sftp: SftpSession, root: string, private readonly shell: (hash?: HashRequest) => Promise<ShellAnswer>) {
    this.layout = cacheLayout(root);
  }

  blobPath(hash: string): string {
    return `${this.layout.blobs}/${hash}`;
  }

  /** Which blobs are there, complete and intact (in the order asked). */
  async has(blobs: { hash: string; size: number }[]): Promise<boolean[]> {
    const sized = await Promise.all(blobs.map(async ({ hash, size }) => (await this.sftp.stat(this.blobPath(hash)))?.size === size));
    const toCheck = [...new Set(blobs.filter((b, i) => sized[i] && !this.verified.has(b.hash)).map((b) => b.hash))];
    if (toCheck.length === 0) return blobs.map((b, i) => sized[i]! && this.verified.has(b.hash));
    const files = toCheck.map((h) => this.blobPath(h));
    const totalBytes = blobs.filter((b) => toCheck.includes(b.hash)).reduce((sum, b) => sum + b.size, 0);
    const { facts, sums: hashedWithFacts } = await this.shell({ files, totalBytes });
    if (facts.sha256sum) {
      const sums = hashedWithFacts ?? (await this.sha256(files, totalBytes));
      for (const hash of toCheck) {
        if (sums.get(this.blobPath(hash)) === hash) this.verified.add(hash);
        else await this.sftp.unlink(this.blobPath(hash)); // damaged: drop it, it will be sent again
      }
    } else {
      for (const hash of toCheck) this.verified.add(hash); // size and name are all we can check
    }
    return blobs.map((b, i) => sized[i]! && this.verified.has(b.hash));
  }

  /**
   * Uploads a local file as blob `hash` of `size` bytes, resuming a partial upload of it that
   * nobody writes. Returns the bytes sent. A whole upload is checked by hashing what was sent
   * (SSH itself guards the bytes on the way); a resumed one, whose first part came from an
   * earlier upload, by the board's sha256sum when it has one. When the upload cannot end well
   * but another host has put the blob in place meanwhile, that is success.
   */
  async upload(file: string, hash: string, size: number, onProgress?: (done: number, total: number) => void): Promise<number> {
    const stop = new AbortController();
    const work = this.uploadOnce(file, hash, size, stop.signal, onProgress);
    this.uploads.set(stop, work.catch(() => undefined));
    try {
      return await work;
    } finally {
      this.uploads.delete(stop);
    }
  }

  /**
   * Stops the uploads in progress, which give their partials up for the next session to resume
   * (waiting at most RELEASE_GRACE_MS); for close(), before the connection ends.
   */
  async stopUploads(): Promise<void> {
    if (this.uploads.size === 0) return;
    for (const stop of this.uploads.keys()) stop.abort(connectionLost(this.ssh.target, 'it was closed during an upload'));
    await settledWithin(Promise.all(this.uploads.values()), RELEASE_GRACE_MS);
  }

  private async uploadOnce(file: string, hash: string, size: number, signal: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<number> {
    if (await this.waitForOthers(hash, size, signal)) {
      onProgress?.(size, size);
      return 0;
    }
    const own = `${this.layout.partial}/${hash}.${randomBytes(6).toString('hex')}`;
    const writing = `${own}.part`;
    const claimed = await this.claimPartial(hash, size, writing);
    const start = claimed ?? 0;
    onProgress?.(start, size);
    const sentHash = claimed === null ? createHash('sha256') : undefined;
    let sent = 0;
    const heartbeat = this.heartbeat(writing);
    try {
      if (start < size || size === 0) {
        sent = await this.sftp.put(file, writing, { start, existing: claimed !== null, mode: 0o600, signal, ...(sentHash ? { hash: sentHash } : {}), ...(onProgress ? { onProgress } : {}) });
      }
    } catch (err) {
      heartbeat.stop();
      // A partial taken from under us (the claim lost a race after all) may be another host's
      // whole blob by now.
      if (statusOf(err) === NO_SUCH_FILE && (await this.landedMeanwhile(hash, size))) return sent;
      // What was written is kept for the next upload to resume, when the board can still be told.
      await this.giveUp(hash, writing, err);
      throw err;
    }
    heartbeat.stop();
    const landed = (await this.sftp.stat(writing))?.size;
    if (landed !== size) {
      await this.sftp.unlink(writing);
      if (await this.landedMeanwhile(hash, size)) return sent;
      throw new ConnectError('SSH_UPLOAD_INCOMPLETE', `${this.ssh.target.label}: ${writing} holds ${landed ?? 0} bytes after the upload, ${size} were sent`, {
        hint: 'check free space on the board (df -h) and upload again',
      });
    }
    let done = writing;
    if (sentHash) {
      const actual = sentHash.digest('hex');
      if (actual !== hash) {
        await this.sftp.unlink(writing);
        throw new BadFileError('FILE_CHANGED', file, `changed since it was hashed (sha256 now ${actual.slice(0, 12)}…)`, { hint: 'do not change files while they are deployed; run again' });
      }
    } else if ((await this.shell()).facts.sha256sum) {
      // Out of the partials that may be claimed while sha256sum reads it (that writes nothing).
      done = `${own}.check`;
      await this.sftp.rename(writing, done);
      // A rename keeps the old time: a long sha256sum must not look a day old to a sweep.
      await this.sftp.touch(done, await this.boardNow());
      const sum = (await this.sha256([done], size)).get(done);
      if (sum !== hash) {
        await this.sftp.unlink(done);
        if (await this.landedMeanwhile(hash, size)) return sent;
        throw new ConnectError('SSH_UPLOAD_CORRUPT', `${this.ssh.target.label}: the resumed blob ${hash.slice(0, 12)}… has sha256 ${sum?.slice(0, 12) ?? 'unknown'}… on the board`, {
          hint: 'its first part, left by an earlier upload, did not match; it was removed: upload again',
        });
      }
    }
    try {
      await this.sftp.chmod(done, 0o400); // read by the SSH user only, changed by nobody
      // Another host may have put the same blob there meanwhile: replaced by identical bytes.
      await this.sftp.rename(done, this.blobPath(hash));
    } catch (err) {
      if (statusOf(err) !== NO_SUCH_FILE || !(await this.landedMeanwhile(hash, size))) throw err;
    }
    this.verified.add(hash);
    return sent;
  }

  /**
   * While another upload (another host's) is writing this blob — its partial set in time
   * within STALE_WRITER_S, or being checked — waits for it to land rather than send the same
   * bytes again; true once the blob is in place (checked as has() checks it). False, to upload
   * it ourselves, when there is no such upload, when it ended without the blob (given up or
   * gone stale: its partial is ours to resume then), or when it stalled: not grown for
   * OTHERS_STALL_MS (a stalled link, a long check, or a writer that died: we send it rather
   * than wait for its partial to go stale).
   */
  private async waitForOthers(hash: string, size: number, signal: AbortSignal): Promise<boolean> {
    const someones = new RegExp(`^${hash}\\.[0-9a-f]+\\.(part|check)$`);
    let most = -1;
    let grewAt = Date.now();
    for (let first = true; ; first = false) {
      const { partials, boardNow, waited } = await this.partialsOf(hash);
      const others = partials.filter((e) => someones.test(e.name) && e.mtime >= boardNow - STALE_WRITER_S);
      // Gone while we looked (or waited for the shell): it may have landed.
      if (others.length === 0) return (!first || waited) && (await this.landedMeanwhile(hash, size));
      const written = Math.max(...others.map((e) => e.size));
      if (written > most) {
        most = written;
        grewAt = Date.now();
      } else if (Date.now() - grewAt > OTHERS_STALL_MS) {
        return false;
      }
      await sleepUnlessAborted(OTHERS_POLL_MS, signal);
      signal.throwIfAborted();
      if ((await this.sftp.stat(this.blobPath(hash)))?.size === size) return this.landedMeanwhile(hash, size);
    }
  }

  /**
   * Takes over a partial of `hash` that nobody writes, by renaming it to `to`; returns its size,
   * or null when there is none (`to` does not exist then).
   */
  private async claimPartial(hash: string, size: number, to: string): Promise<number | null> {
    const givenUp = `${hash}.part`;
    const someones = new RegExp(`^${hash}\\.[0-9a-f]+\\.part$`);
    const { partials, boardNow } = await this.partialsOf(hash);
    const candidates = partials.filter((e) => e.name === givenUp || (someones.test(e.name) && e.mtime < boardNow - STALE_WRITER_S));
    for (const candidate of candidates.sort((a, b) => b.size - a.size)) {
      try {
        await this.sftp.rename(`${this.layout.partial}/${candidate.name}`, to);
      } catch (err) {
        if (statusOf(err) === NO_SUCH_FILE) continue; // claimed by someone else first
        throw err;
      }
      // A rename keeps the old time: until our first write, another host would take the file
      // for a dead writer's (or a sweep for an abandoned one) and claim it from under us.
      await this.sftp.touch(to, await this.boardNow()).catch((err: unknown) => {
        if (statusOf(err) !== NO_SUCH_FILE) throw err;
      });
      const held = (await this.sftp.stat(to))?.size;
      if (held === undefined) continue; // taken over in that moment after all: try the next
      if (held <= size) return held;
      await this.sftp.unlink(to); // longer than the blob: not a part of it
    }
    return null;
  }

  /**
   * After a failed write: renames our partial to the name the next upload resumes at once,
   * when SFTP still answers (not after the connection was lost or stalled: that partial is
   * resumed once it is STALE_WRITER_S old).
   */
  private async giveUp(hash: string, writing: string, err: unknown): Promise<void> {
    // A lost or stalled link would not answer (a stalled one only after another 30 s).
    if (this.ssh.lostError || (err instanceof ConnectError && err.code === 'SSH_SFTP_TIMEOUT')) return;
    if (!(err instanceof ConnectError)) {
      // The local file failed us (changed, unreadable): what was sent may not be this blob's.
      await this.sftp.unlink(writing).catch(() => undefined);
      return;
    }
    await this.sftp.rename(writing, `${this.layout.partial}/${hash}.part`).catch(() => undefined);
  }

  /**
   * Sets the time of the partial being written every WRITER_HEARTBEAT_MS until stopped, so it
   * never looks like a dead writer's while this upload lives, even when no write lands for a
   * while. One touch at a time; a failed one (the partial claimed or given up meanwhile, a
   * link that stalled) changes nothing: the upload's own requests tell what went wrong.
   */
  private heartbeat(file: string): { stop(): void } {
    let touching = false;
    const timer = setInterval(() => {
      if (touching) return;
      touching = true;
      void this.boardNow().then((now) => this.sftp.touch(file, now)).catch(() => undefined).finally(() => (touching = false));
    }, WRITER_HEARTBEAT_MS);
    return { stop: () => clearInterval(timer) };
  }

  /** Now by the board's clock, in seconds (the clock partials' times are compared with). */
  private async boardNow(): Promise<number> {
    const { clockOffsetMs } = (await this.shell()).facts;
    return (Date.now() + clockOffsetMs) / 1000;
  }

  /**
   * The files in partial/ of blob `hash` (`<hash>.*`), the board's time to judge their age by,
   * and whether it waited for the shell. When
   * there are any, they are listed again once the shell has answered, whose sweep removes
   * partials a day old: until then one of those could be taken for a given-up partial to
   * resume, and vanish under the upload.
   */
  private async partialsOf(hash: string): Promise<{ partials: { name: string; size: number; mtime: number }[]; boardNow: number; waited: boolean }> {
    const ofHash = async () => (await this.sftp.list(this.layout.partial)).filter((e) => e.isFile && e.name.startsWith(`${hash}.`));
    const first = await ofHash();
    if (first.length === 0) return { partials: first, boardNow: 0, waited: false }; // no age to judge
    if (this.swept) return { partials: first, boardNow: await this.boardNow(), waited: false };
    await this.shell();
    this.swept = true;
    return { partials: await ofHash(), boardNow: await this.boardNow(), waited: true };
  }

  /** Whether another upload (another host's) has put the blob in place, whole. */
  private async landedMeanwhile(hash: string, size: number): Promise<boolean> {
    return (await this.has([{ hash, size }]))[0]!;
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
    const result = await this.ssh.exec(`sha256sum -- ${files.map(shellQuote).join(' ')}`, { timeoutMs: hashTimeoutMs(totalBytes) });
    return sumsIn(result.stdout);
  }
}

/** sha256sum's lines in `text`: path → sha256. */
export function sumsIn(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) sums.set(m[2]!, m[1]!);
  }
  return sums;
}
