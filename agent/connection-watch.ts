/**
 * What the agent tells a host about the connection as a whole, seen on its way out: AuthOk
 * (the host proved it knows the token) and an Error with id 0 (why the agent hangs up:
 * AUTH_TIMEOUT, AUTH_FAILED, PROTOCOL_MISMATCH...). The code that serves connections needs
 * both and the session does not report them: --listen keeps its limits on a connection until
 * its host has authenticated, and --stdio exits 1 when the agent hung up on its host. Reading
 * them off the wire also serves a connection relayed to another agent process, whose session
 * is over there.
 *
 * Only envelopes of id 0 are decoded (a handful per connection, told apart by their first two
 * bytes); chunks and results pass untouched.
 */
import { decodeEnvelope, isConnectionEnvelope, type Error as WireError } from '../shared/protocol/envelope';
import type { AxError } from '../shared/errors';
import type { Transport, TransportEvents } from '../shared/transport/transport';

/** A transport that notes the connection-level messages sent over it; otherwise `inner` itself. */
export class WatchedTransport implements Transport {
  /** Resolves once AuthOk has been sent; stays pending if the connection ends before. */
  readonly authOkSent: Promise<void>;
  private onAuthenticated: () => void = () => undefined;
  /** The last message sent, when it was an Error for id 0. */
  private lastSentError: WireError | null = null;
  private hangUp: WireError | null = null;

  constructor(private readonly inner: Transport) {
    this.authOkSent = new Promise((resolve) => (this.onAuthenticated = resolve));
  }

  /**
   * Why the agent hung up, if it did: the Error for id 0 it sent just before closing. (An
   * Error for id 0 followed by more messages only refused a request the host gave id 0.)
   */
  get hangUpError(): WireError | null {
    return this.hangUp;
  }

  get kind(): string {
    return this.inner.kind;
  }
  get peer(): string {
    return this.inner.peer;
  }
  get state(): Transport['state'] {
    return this.inner.state;
  }
  get closeInfo(): Transport['closeInfo'] {
    return this.inner.closeInfo;
  }
  get maxMessageBytes(): number {
    return this.inner.maxMessageBytes;
  }
  get preferredChunkBytes(): number | undefined {
    return this.inner.preferredChunkBytes;
  }

  send(message: Uint8Array): Promise<void> {
    this.lastSentError = isConnectionEnvelope(message) ? this.sentError(message) : null;
    return this.inner.send(message);
  }

  close(): Promise<void> {
    this.hangUp ??= this.lastSentError;
    return this.inner.close();
  }

  destroy(error?: AxError): void {
    this.inner.destroy(error);
  }

  on<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this {
    this.inner.on(event, listener);
    return this;
  }

  once<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this {
    this.inner.once(event, listener);
    return this;
  }

  off<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this {
    this.inner.off(event, listener);
    return this;
  }

  removeAllListeners(event?: string | symbol): ReturnType<Transport['removeAllListeners']> {
    return this.inner.removeAllListeners(event);
  }

  listenerCount(event: string | symbol): number {
    return this.inner.listenerCount(event);
  }

  /** Notes AuthOk; returns the Error, when `message` is one. */
  private sentError(message: Uint8Array): WireError | null {
    let env;
    try {
      env = decodeEnvelope(message);
    } catch {
      return null; // not ours to judge: the peer's decoder will say what is wrong with it
    }
    if (env.body === 'authOk') this.onAuthenticated();
    return env.body === 'error' ? env.error : null;
  }
}
