/**
 * Errors of the board's blob store. Each carries a stable code (documented in
 * docs/parts/agent-core.md) and, in `details`, the numbers a peer needs to react: the offset an
 * upload must continue from, the sizes that did not fit.
 */
import { AxError, ExitCode } from '../../shared/errors';

export type StoreErrorCode =
  | 'BAD_HASH'
  | 'BAD_SIZE'
  | 'BAD_RANGE'
  | 'BAD_CAP'
  | 'BAD_CHUNK'
  | 'CHUNK_PAST_END'
  | 'OFFSET_MISMATCH'
  | 'HASH_MISMATCH'
  | 'STORE_FULL'
  | 'DISK_FULL'
  | 'BLOB_NOT_FOUND'
  | 'STORE_IO_ERROR';

export interface StoreErrorDetails {
  hash?: string;
  /** OFFSET_MISMATCH: where the upload must continue. */
  expectedOffset?: number;
  /** HASH_MISMATCH: the sha256 the received bytes actually have. */
  actualHash?: string;
  /** STORE_FULL: bytes wanted, the cap, bytes in use, bytes that cannot be evicted. */
  size?: number;
  capBytes?: number;
  usedBytes?: number;
  pinnedBytes?: number;
}

export class StoreError extends AxError {
  override readonly code: StoreErrorCode;
  readonly details: StoreErrorDetails;

  constructor(code: StoreErrorCode, message: string, details: StoreErrorDetails = {}, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, ExitCode.USAGE, options);
    this.code = code;
    this.details = details;
  }
}

/**
 * An errno error from the store's own files, as a StoreError (ENOSPC becomes DISK_FULL). With
 * `storeDir`, the hint names the store folder: such an error nearly always means it was
 * deleted, made read-only or lost its permissions behind the agent's back.
 */
export function storeIoError(what: string, err: unknown, storeDir?: string): StoreError {
  if (err instanceof StoreError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new StoreError('DISK_FULL', `${what}: the board's disk is full`, {}, {
      hint: storeDir === undefined ? 'free space on the board or lower the store cap' : `free space on the board's disk holding ${storeDir}, or lower the agent's store cap below what that disk holds`,
      cause: err,
    });
  }
  return new StoreError('STORE_IO_ERROR', `${what}: ${(err as Error)?.message ?? String(err)}`, {}, {
    ...(storeDir !== undefined && { hint: `the store folder ${storeDir} is gone or not writable on the board: restore it, fix its permissions, or restart axagent` }),
    cause: err,
  });
}
