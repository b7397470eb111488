/**
 * One SSH hop: an ssh2 Client over a byte stream (a TCP socket, or a tunnel through the previous
 * hop), with the host key checked against known_hosts before any credential is sent and key
 * authentication. Resolves when the session is ready; every failure is one ConnectError.
 */
import type { Duplex } from 'node:stream';
import { Client, type AnyAuthMethod, type AuthenticationType, type ServerHostKeyAlgorithm } from 'ssh2';
import type { AxError } from '../../shared/errors';
import { planAuth, type AuthSources } from './auth';
import { authFailed, closedBeforeHandshake, connectTimedOut, hostKeyChanged, hostKeyRevoked, hostKeyUnknown, sshConnectError } from './errors';
import { algorithmsFor, appendKnownHost, checkHostKey, knownKeyTypes, readKnownHosts } from './known-hosts';
import type { SshTarget } from './url';
import { untilSettled } from '../../shared/abort';

export interface HopSettings {
  knownHosts: string;
  acceptNewHostKey: boolean;
  auth: AuthSources;
  /** Deadline for the whole hop: handshake, host key, login. */
  timeoutMs: number;
  /** SSH keepalive interval; the connection is dropped after 3 unanswered. 0 = off. */
  keepaliveMs: number;
  /** Ends the login at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Logs in to `target` over `sock`. On failure the socket is destroyed. `via` names the previous hop for messages. */
export async function connectHop(target: SshTarget, sock: Duplex, settings: HopSettings, via?: SshTarget): Promise<Client> {
  // The stream is connected while known_hosts and the keys are read, and ssh2 listens to it only
  // from connect() on: a peer that closes or resets it meanwhile (a port that is no sshd, an
  // sshd over its MaxStartups) would go unseen until the login timeout, and a reset would be an
  // unhandled 'error' event. Watched from here, it fails the login at once.
  let early: AxError | null = null;
  const onEarlyError = (err: Error) => (early ??= sshConnectError(target, err, via));
  const onEarlyEnd = () => (early ??= closedBeforeHandshake(target, via));
  sock.on('error', onEarlyError).once('end', onEarlyEnd).once('close', onEarlyEnd);
  const stopWatchingEarly = () => sock.off('error', onEarlyError).off('end', onEarlyEnd).off('close', onEarlyEnd);
  let known;
  let auth;
  try {
    [known, auth] = await Promise.all([readKnownHosts(settings.knownHosts), planAuth(target.user, settings.auth)]);
    // Also one that ended before this function was called (it had no listener then).
    if (early || sock.destroyed || sock.readableEnded) throw early ?? closedBeforeHandshake(target, via);
  } catch (err) {
    stopWatchingEarly();
    sock.on('error', () => undefined); // destroyed below; a late reset no longer matters
    sock.destroy();
    throw err;
  }
  // Ask for the key types known_hosts already lists for this host first, as OpenSSH does, so
  // a host with several keys is checked against the one we know.
  const preferred = knownKeyTypes(known, target.knownHostsName).flatMap(algorithmsFor) as ServerHostKeyAlgorithm[];
  const serverHostKey = [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];

  const client = new Client();
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    let keyProblem: AxError | null = null;
    let newKey: Buffer | null = null;
    let saving: Promise<void> = Promise.resolve();
    let methodsLeft: string[] | null = null;
    const attempts = [...auth.methods];

    const fail = (err: AxError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopWatchingAbort();
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(connectTimedOut(target, settings.timeoutMs)), settings.timeoutMs);
    const stopWatchingAbort = untilSettled(settings.signal, () => fail(settings.signal!.reason as AxError));

    client.on('handshake', () => {
      // The server has proved it holds the key (signature checked): only now remember it.
      if (newKey && !settled) {
        saving = appendKnownHost(settings.knownHosts, target.knownHostsName, newKey);
        saving.catch((err: AxError) => fail(err)); // e.g. a known_hosts file we may not write
      }
    });
    client.once('ready', () => {
      saving.then(() => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopWatchingAbort();
        client.removeAllListeners('error').removeAllListeners('close');
        resolve(client);
      }, () => undefined /* failed above */);
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (keyProblem) fail(keyProblem);
      else if (err.level === 'client-authentication') fail(authFailed(target, auth.offered, methodsLeft));
      else if (err.level === 'client-timeout') fail(connectTimedOut(target, settings.timeoutMs));
      else fail(sshConnectError(target, err, via));
    });
    let handshaken = false;
    client.once('handshake', () => (handshaken = true));
    client.on('close', () => fail(keyProblem ?? (handshaken ? sshConnectError(target, new Error('the server closed the connection'), via) : closedBeforeHandshake(target, via))));

    stopWatchingEarly(); // ssh2 listens from here on
    client.connect({
      sock: sock as unknown as NodeJS.ReadableStream,
      username: target.user,
      readyTimeout: settings.timeoutMs + 1000, // our own timer speaks first, with a better message
      keepaliveInterval: settings.keepaliveMs,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey },
      hostVerifier: (key: Buffer) => {
        if (newKey?.equals(key)) return true; // a re-key presents the key we just accepted
        const verdict = checkHostKey(known, target.knownHostsName, key);
        if (verdict.status === 'known') return true;
        if (verdict.status === 'unknown' && settings.acceptNewHostKey) {
          newKey = Buffer.from(key);
          return true;
        }
        keyProblem =
          verdict.status === 'unknown'
            ? hostKeyUnknown(target, key, settings.knownHosts)
            : verdict.status === 'revoked'
              ? hostKeyRevoked(target, key, settings.knownHosts, verdict.line)
              : hostKeyChanged(target, key, settings.knownHosts, verdict.line, verdict.knownTypes);
        return false;
      },
      authHandler: (left: AuthenticationType[] | null, _partial: boolean, next: (m: AnyAuthMethod | false) => void) => {
        if (left) methodsLeft = left;
        const method = attempts.shift();
        next(method ?? false);
      },
    } as Parameters<Client['connect']>[0]);
  });
}
