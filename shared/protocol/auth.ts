/**
 * Mutual challenge-response on a shared secret. Each side sends a fresh random nonce; each
 * proves it knows the secret with an HMAC-SHA256 over both nonces and a label naming its
 * direction, so a proof cannot be replayed on another connection nor reflected back to the
 * side that made it. The secret itself never crosses the wire. This authenticates the peers;
 * it does not encrypt the traffic (use an ssh:// connection where that matters).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;
const HOST_LABEL = 'axctl-auth-v1 host\0';
const AGENT_LABEL = 'axctl-auth-v1 agent\0';

export function newNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

/** What the host sends: proves the host knows the secret, bound to this connection's nonces. */
export function hostProof(secret: Uint8Array, agentNonce: Uint8Array, clientNonce: Uint8Array): Uint8Array {
  return createHmac('sha256', secret).update(HOST_LABEL).update(agentNonce).update(clientNonce).digest();
}

/** What the agent answers: proves the agent knows the secret too (the host checks it). */
export function agentProof(secret: Uint8Array, clientNonce: Uint8Array, agentNonce: Uint8Array): Uint8Array {
  return createHmac('sha256', secret).update(AGENT_LABEL).update(clientNonce).update(agentNonce).digest();
}

/** Constant-time comparison; a proof of the wrong length is simply wrong. */
export function proofMatches(expected: Uint8Array, received: Uint8Array): boolean {
  if (expected.length !== received.length) return false;
  return timingSafeEqual(expected, received);
}
