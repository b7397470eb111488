/**
 * How many operations (put, get, run, describe) one connection may have in flight at once.
 * Each holds memory while it lasts: a download its read buffer and a chunk frame waiting for
 * the socket (~2 MiB), an upload up to its window of unacknowledged chunks (12 MiB). Without a
 * limit one authenticated host could start 600 downloads and never acknowledge them: 1.2 GB.
 * axctl itself runs them one after another; 16 leaves room for other tools and still bounds a
 * connection to ~32 MiB of downloads or ~150 MiB of upload windows.
 *
 * One more is refused with TOO_MANY_OPERATIONS (an Error for that request only): the connection
 * and the operations already running go on. One-shot requests (has, facts, cancel) are not
 * counted: they are answered at once and hold nothing.
 */
import { ConnectError } from '../../shared/errors';

export const MAX_OPERATIONS_PER_SESSION = 16;

/** The refusal of a request that would be operation number `inFlight + 1`. */
export function tooManyOperations(inFlight: number): ConnectError {
  return new ConnectError('TOO_MANY_OPERATIONS', `${inFlight} requests are already in flight on this connection, the most the agent runs at once for one host`, {
    hint: 'wait for one to finish before starting another',
  });
}
