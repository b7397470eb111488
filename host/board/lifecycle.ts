/** Opening and closing a BoardSession around the work of a command, with Ctrl-C in mind. */
import { orAbort } from '../../shared/abort';
import type { BoardSession } from './session';

/** Closes without letting a failure to close hide the error that made us close. */
export async function closeQuietly(session: BoardSession): Promise<void> {
  await session.close().catch(() => undefined);
}

/**
 * Runs `open` (which should pass `signal` on to the transport and the handshake); when `signal`
 * aborts first, throws its reason at once instead of waiting for the connection attempt to end
 * (a board that accepts TCP and never answers would hold Ctrl-C for the whole connect timeout).
 * A session that `open` yields all the same is closed as soon as it comes.
 */
export async function withAbort(signal: AbortSignal | undefined, open: () => Promise<BoardSession>): Promise<BoardSession> {
  if (!signal) return open();
  signal.throwIfAborted();
  const opening = open();
  try {
    const session = await orAbort(opening, signal);
    if (signal.aborted) {
      // Aborted as the session came: the caller would never hear of the abort.
      await closeQuietly(session);
      throw signal.reason;
    }
    return session;
  } catch (err) {
    if (signal.aborted) void opening.then(closeQuietly, () => undefined);
    throw err;
  }
}
