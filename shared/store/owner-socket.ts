/**
 * Where a store's owning agent process listens for the store's other agent processes (see
 * agent/store-owner.ts), as far as both sides can tell from the store's path alone: beside
 * the store when the path fits a unix socket address. The agent falls back to a socket in its
 * user's private temp folder otherwise (or where the store's filesystem cannot hold a socket);
 * the host, which cannot know the board's temp folder, then has no socket to name.
 */
import * as path from 'node:path';

/** sun_path holds 108 bytes on Linux; longer store paths get a socket in the temp folder. */
export const MAX_SOCKET_PATH_BYTES = 100;
export const OWNER_SOCKET_NAME = 'agent.sock';

/** `<store>/agent.sock` for an absolute store path, or null when that is too long for a socket. */
export function socketBesideStore(absoluteStoreDir: string): string | null {
  const beside = path.posix.join(absoluteStoreDir, OWNER_SOCKET_NAME);
  return Buffer.byteLength(beside) <= MAX_SOCKET_PATH_BYTES ? beside : null;
}
