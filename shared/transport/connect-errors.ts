/**
 * Why a connection could not be made, as a ConnectError (exit 5) with a hint. Shared by every
 * transport that opens a socket (WebSocket now; SSH and TCP relays later).
 */
import { ConnectError, isAxError, type AxError } from '../errors';
import { firstLine } from '../first-line';

export function connectTimeout(target: string, ms: number): ConnectError {
  return new ConnectError('CONNECT_TIMEOUT', `${target}: no connection after ${ms} ms`, {
    hint: 'check that the board is powered, on the network, and that the address and port are right',
  });
}

/** TCP connected, but no WebSocket answer came: the board is there, its agent is not answering. */
export function connectedButSilent(target: string, ms: number): ConnectError {
  return new ConnectError('CONNECT_TIMEOUT', `${target}: connected, but no WebSocket answer after ${ms} ms`, {
    hint: 'something accepts connections on that port but does not answer: a stopped or overloaded axagent, or another program; check the agent on the board (ps, its log)',
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
      // A TLS server drops a plain HTTP request like this: name the wss:// URL to try.
      return new ConnectError('CONNECT_RESET', `${target}: the connection was reset while opening`, {
        hint: `is something other than axagent listening on that port${/^ws:\/\//i.test(target) ? ` (if it serves TLS: ${target.replace(/^ws:/i, 'wss:')})` : ''}, or is the agent at its limit of open connections (see its log)?`,
        cause: err,
      });
    default:
      return handshakeError(target, err) ?? new ConnectError('CONNECT_FAILED', `${target}: cannot connect (${firstLine(detail)})`, {
        hint: 'check the address and that an axagent listens there',
        cause: err,
      });
  }
}

/** Node has no CA option per connection here: its environment variable is the way to trust one. */
const TRUST_CA = 'trust the CA that signed it: run axctl with NODE_EXTRA_CA_CERTS=ca.pem, its PEM file; a self-signed certificate is its own CA';

/** Why a wss:// agent's certificate was refused, by Node's code: what to do. */
const CERT_HINTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: TRUST_CA,
  SELF_SIGNED_CERT_IN_CHAIN: TRUST_CA,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TRUST_CA,
  UNABLE_TO_GET_ISSUER_CERT: TRUST_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TRUST_CA,
  CERT_UNTRUSTED: TRUST_CA,
  CERT_SIGNATURE_FAILURE: TRUST_CA,
  CERT_HAS_EXPIRED: "renew the agent's certificate, or check this computer's clock",
  CERT_NOT_YET_VALID: "check this computer's clock, or the agent certificate's start date",
  ERR_TLS_CERT_ALTNAME_INVALID: 'connect by a name the certificate lists, or give the agent a certificate for this one',
};

/**
 * TLS (wss://) and HTTP failures, undefined for others: OpenSSL's and llhttp's own words name
 * neither the cause a user can act on nor fit on one line ("write EPROTO 80...:SSL
 * routines:...:wrong version number:../deps/openssl/...:350:" and a newline).
 */
export function handshakeError(target: string, err: unknown): AxError | undefined {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const detail = (err as Error | undefined)?.message ?? String(err);
  const certHint = CERT_HINTS[errno];
  if (certHint) {
    return new ConnectError('CONNECT_TLS_CERT', `${target}: its TLS certificate is refused (${firstLine(detail)})`, { hint: certHint, cause: err });
  }
  const sslReason = /SSL routines:[^:]*:([^:]+)/.exec(detail)?.[1];
  if (errno === 'ERR_SSL_WRONG_VERSION_NUMBER' || sslReason === 'wrong version number') {
    return new ConnectError('CONNECT_NOT_TLS', `${target}: the other end does not speak TLS`, {
      hint: `the agent speaks ws://, not wss://: use ${target.replace(/^wss:/i, 'ws:')}`,
      cause: err,
    });
  }
  if (errno === 'EPROTO' || errno.startsWith('ERR_SSL_') || sslReason !== undefined) {
    return new ConnectError('CONNECT_TLS_FAILED', `${target}: the TLS handshake failed (${sslReason ?? firstLine(detail)})`, {
      hint: 'check that the port serves TLS for wss:// (ws:// if it does not)',
      cause: err,
    });
  }
  if (errno.startsWith('HPE_')) {
    return new ConnectError('CONNECT_NOT_AGENT', `${target}: answered something that is not HTTP`, {
      hint: "that port does not speak WebSocket: is it an axagent's --listen port?",
      cause: err,
    });
  }
  return undefined;
}

