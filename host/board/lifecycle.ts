/** Opening and closing a BoardSession around the work of a command, with Ctrl-C in mind. */
import type { BoardSession } from './session';

/** Closes without letting a failure to close hide the error that made us close. */
export async function closeQuietly(session: BoardSession): Promise<void> {
  await session.close().catch(() => undefined);
}

/** Runs `open`; if `signal` aborted meanwhile, the session it yields is closed at once and the abort thrown. */
export async function withAbort(signal: AbortSignal | undefined, open: () => Promise<BoardSession>): Promise<BoardSession> {
  const session = await open();
  if (signal?.aborted) {
    await closeQuietly(session);
    throw signal.reason;
  }
  return session;
}
