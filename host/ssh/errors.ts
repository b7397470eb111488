/**
 * Why an SSH connection could not be made or broke, as ConnectErrors (exit 5): one line naming
 * the hop (`ssh://user@host:port`, or the gateway it went through) and a hint saying what to do.
 */
import { AxError, ConnectError, isAxError } from '../../shared/errors';
import { fingerprint, keyTypeLabel, keyTypeOf } from './known-hosts';
import type { SshTarget } from './url';

export function hostKeyUnknown(target: SshTarget, key: Buffer, knownHosts: string): ConnectError {
  return new ConnectError(
    'SSH_HOST_KEY_UNKNOWN',
    `${target.label}: unknown host; its ${keyTypeLabel(keyTypeOf(key))} key fingerprint is ${fingerprint(key)} (not in ${knownHosts})`,
    // The board or a --via gateway: the hint names the host, whichever it is.
    { hint: `if that is the key of ${target.host} (on it: ssh-keygen -lf /etc/ssh/ssh_host_${shortType(key)}_key.pub), connect again with --accept-new-host-key to add it` },
  );
}

export function hostKeyChanged(target: SshTarget, key: Buffer, knownHosts: string, line: number, knownTypes: string[]): ConnectError {
  const offered = keyTypeLabel(keyTypeOf(key));
  const what = knownTypes.includes(keyTypeOf(key))
    ? `the ${offered} host key has CHANGED (now ${fingerprint(key)}; ${knownHosts}:${line} lists another)`
    : `offers a ${offered} key (${fingerprint(key)}) but ${knownHosts}:${line} lists only ${knownTypes.map(keyTypeLabel).join('/')} keys for it`;
  return new ConnectError('SSH_HOST_KEY_CHANGED', `${target.label}: ${what}; refusing to connect (someone may be intercepting the connection)`, {
    hint: `if the board was reinstalled, remove the old key with: ssh-keygen -f ${knownHosts} -R '${target.knownHostsName}' and connect again with --accept-new-host-key`,
  });
}

export function hostKeyRevoked(target: SshTarget, key: Buffer, knownHosts: string, line: number): ConnectError {
  return new ConnectError('SSH_HOST_KEY_REVOKED', `${target.label}: its host key ${fingerprint(key)} is marked @revoked in ${knownHosts}:${line}`, {
    hint: 'do not connect; ask whoever administers the board for its new key',
  });
}

export function authFailed(target: SshTarget, offered: string[], methodsLeft: string[] | null): ConnectError {
  const serverWants = methodsLeft && !methodsLeft.includes('publickey') ? `; the server accepts only ${methodsLeft.join(', ')}` : '';
  return new ConnectError('SSH_AUTH_FAILED', `${target.label}: login as ${target.user} refused; tried ${offered.join(', ')}${serverWants}`, {
    hint: `add your public key to ~${target.user}/.ssh/authorized_keys on the board (ssh-copy-id), or name the right key with --identity`,
  });
}

export function connectTimedOut(target: SshTarget, ms: number): ConnectError {
  return new ConnectError('CONNECT_TIMEOUT', `${target.label}: no SSH session after ${ms} ms`, {
    hint: 'check that the board is on, reachable, and that sshd listens on that port',
  });
}

/** An error ssh2 raised while connecting to `target` (through `via`, the previous hop, if any). */
export function sshConnectError(target: SshTarget, err: unknown, via?: SshTarget): AxError {
  if (isAxError(err)) return err;
  const e = err as (Error & { code?: string; level?: string }) | undefined;
  const detail = e?.message ?? String(err);
  const where = via ? ` (through ${via.label})` : '';
  switch (e?.code) {
    case 'ECONNREFUSED':
      return new ConnectError('CONNECT_REFUSED', `${target.label}: connection refused${where}`, { hint: `is sshd running on ${target.host}, and is port ${target.port} right?`, cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectError('CONNECT_HOST_UNKNOWN', `${target.label}: unknown host`, { hint: "check the host name or use the board's IP address", cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return new ConnectError('CONNECT_UNREACHABLE', `${target.label}: host unreachable${where}`, { hint: 'check the network route to the board', cause: err });
    case 'ETIMEDOUT':
      return new ConnectError('CONNECT_TIMEOUT', `${target.label}: connection timed out${where}`, { hint: 'check that the board is on the network', cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new ConnectError('CONNECT_RESET', `${target.label}: the connection was reset while opening${where}`, { hint: 'is that port an SSH server?', cause: err });
  }
  if (e?.level === 'protocol' || /ident|protocol|banner/i.test(detail)) {
    return new ConnectError('SSH_NOT_SSH', `${target.label}: did not answer as an SSH server (${detail})${where}`, { hint: 'check the port: it must be the board\'s sshd', cause: err });
  }
  if (e?.level === 'handshake') {
    return new ConnectError('SSH_HANDSHAKE_FAILED', `${target.label}: the SSH handshake failed (${detail})${where}`, { hint: 'the board may offer only algorithms axctl does not support; check its sshd_config', cause: err });
  }
  return new ConnectError('SSH_FAILED', `${target.label}: ${detail}${where}`, { cause: err });
}

/** The peer closed (or reset) the stream before any SSH was spoken: most likely not an sshd. */
export function closedBeforeHandshake(target: SshTarget, via?: SshTarget): ConnectError {
  const where = via ? ` (through ${via.label})` : '';
  return new ConnectError('CONNECT_CLOSED', `${target.label}: the server closed the connection before the SSH handshake${where}`, {
    hint: "is that port an SSH server? check the port, and that the board's sshd accepts this host (MaxStartups, hosts.allow)",
  });
}

/** A gateway that would not open the tunnel to the next hop. */
export function tunnelRefused(gateway: SshTarget, host: string, port: number, err: unknown): ConnectError {
  const detail = (err as Error | undefined)?.message ?? String(err);
  const hint = /prohibited/i.test(detail)
    ? `the gateway does not allow TCP forwarding: set AllowTcpForwarding yes in its sshd_config`
    : `check that ${host}:${port} is reachable from the gateway`;
  return new ConnectError('SSH_TUNNEL_FAILED', `${gateway.label} could not open a tunnel to ${host}:${port} (${detail})`, { hint, cause: err });
}

/** The connection broke after it was made. */
export function connectionLost(target: SshTarget, detail: string): ConnectError {
  return new ConnectError('SSH_DISCONNECTED', `${target.label}: the SSH connection was lost (${detail})`, { hint: 'check the network and connect again' });
}

function shortType(key: Buffer): string {
  const type = keyTypeOf(key);
  if (type === 'ssh-ed25519') return 'ed25519';
  if (type === 'ssh-rsa') return 'rsa';
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  return '*';
}
