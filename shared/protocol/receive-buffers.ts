/**
 * Memory a transport may assemble large incoming frames in, lent by the frames' consumer (the
 * agent's upload slabs, agent/session/transfer-memory.ts), so that an upload chunk lands once,
 * where it will wait for the disk, instead of in a fresh buffer that is then copied again.
 * A 1 MiB WebSocket message or stdio/SSH frame arrives in 64 KiB socket reads and must be
 * joined into one buffer anyway; into fresh memory that join costs page faults, ~6× the copy
 * itself (measured: 0.33 ms/MB against 0.05 into warm memory).
 *
 * Only for a transport whose every 'message' listener is done with the bytes when it returns,
 * or keeps them through the lender (hold() adopting the buffer): the agent's sessions. A relay
 * or the host keeps message bytes past the handler and must not use it.
 */
export interface ReceiveBuffers {
  /**
   * A buffer of exactly `bytes` bytes to assemble one incoming frame in, lent until settle();
   * null: use fresh memory. Each call lends another buffer.
   */
  take(bytes: number): Uint8Array | null;
  /**
   * The 'message' handling of what was assembled is over (called synchronously after it):
   * every buffer lent since the last settle() that the consumer did not adopt is given back
   * and may be overwritten.
   */
  settle(): void;
}

/** Frames from this size up are worth assembling in lent memory (the upload chunks). */
export const LEND_FROM_BYTES = 64 * 1024;
