/**
 * Why a connection could not be made, as a ConnectError (exit 5) with a hint. Shared by every
 * transport that opens a socket (WebSocket now; SSH and TCP relays later).
 */
import { ConnectError, isAxError, type AxError } from '../errors';

export function connectTimeout(target: string, ms: number): ConnectError {
  return new ConnectError('CONNECT_TIMEOUT', `${target}: no connection after ${ms} ms`, {
    hint: 'check that the board is powered, on the network, and that the address and port are right',
  });
}

export function socketConnectError(target: string, err: unknown): AxError {
  if (isAxError(err)) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = (err as Error | undefined)?.message ?? String(err);
  switch (errno) {
    case 'ECONNREFUSED':
      return new ConnectError('CONNECT_REFUSED', `${target}: connection refused`, {
        hint: 'is axagent running there (axagent --listen HOST:PORT) and is the port right?',
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectError('CONNECT_HOST_UNKNOWN', `${target}: unknown host`, { hint: 'check the host name or use the board\'s IP address', cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return new ConnectError('CONNECT_UNREACHABLE', `${target}: host unreachable`, { hint: 'check the network route to the board', cause: err });
    case 'ETIMEDOUT':
      return new ConnectError('CONNECT_TIMEOUT', `${target}: connection timed out`, { hint: 'check that the board is on the network', cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new ConnectError('CONNECT_RESET', `${target}: the connection was reset while opening`, {
        hint: 'is something other than axagent listening on that port, or is the agent at its limit of open connections (see its log)?',
        cause: err,
      });
    default:
      return new ConnectError('CONNECT_FAILED', `${target}: cannot connect (${detail})`, { cause: err });
  }
}
