/**
 * The link's HELLO exchange, before any data. Each side has a random 32-bit session id:
 *
 *   initiator (host)  HELLO(h, 0, need reply)      every helloIntervalMs until answered
 *   responder (agent) HELLO(a, h, need reply)      "I know you; do you know me?"
 *   initiator         HELLO(h, a, no reply)        established on both sides
 *
 * The initiator gives up after connectTimeoutMs (SERIAL_NO_PEER); the responder waits for
 * hosts forever, and forgets one that never confirms. Once established, a HELLO from another
 * session means the peer restarted (or another host took over the line).
 */
import { serialErrors, type SerialLinkError } from './errors';
import { LINK_VERSION, type LinkFrame } from './frame';
import type { LinkOptions } from './options';

export type HelloFrame = Extract<LinkFrame, { type: 'hello' }>;

export type HelloOutcome =
  | { kind: 'ignored' }
  | { kind: 'failed'; error: SerialLinkError }
  /** The handshake completed with this HELLO (its maxPayload and window apply). */
  | { kind: 'established'; hello: HelloFrame }
  | { kind: 'pending' };

export class Handshake {
  /** The established peer, or (responder) the host whose HELLO is being answered. */
  peerSession = 0;
  /** A HELLO should go out at the next chance. */
  due = false;
  private established = false;
  private startedAt = 0;
  private candidateSince = 0;
  private nextHelloAt = 0;

  constructor(
    readonly role: 'initiator' | 'responder',
    readonly session: number,
    private readonly options: Pick<LinkOptions, 'connectTimeoutMs' | 'helloIntervalMs' | 'keepaliveMs' | 'maxPayload' | 'window'>,
    private readonly label: string,
  ) {}

  start(now: number): void {
    this.startedAt = now;
    if (this.role === 'initiator') this.sayHello(now);
  }

  /** The HELLO to send now (clears `due`). */
  take(): HelloFrame {
    this.due = false;
    const { maxPayload, window } = this.options;
    return { type: 'hello', version: LINK_VERSION, session: this.session, peerSession: this.peerSession, needReply: !this.established, maxPayload, window };
  }

  onHello(hello: HelloFrame, now: number): HelloOutcome {
    if (hello.version !== LINK_VERSION) return { kind: 'failed', error: serialErrors.versionMismatch(this.label, LINK_VERSION, hello.version) };
    if (this.established) {
      if (hello.session !== this.peerSession) return { kind: 'failed', error: serialErrors.peerRestarted(this.label) };
      if (hello.needReply) this.due = true;
      return { kind: 'ignored' };
    }
    if (this.role === 'initiator') {
      if (hello.peerSession !== this.session) return { kind: 'ignored' }; // an answer to someone else
      this.peerSession = hello.session;
    } else if (hello.session !== this.peerSession) {
      this.peerSession = hello.session;
      this.candidateSince = now;
    }
    const knowsUs = hello.peerSession === this.session;
    this.established = knowsUs;
    // Unestablished, the responder answers asking for confirmation; established, either
    // side confirms once if asked.
    if (hello.needReply || !knowsUs) this.sayHello(now);
    return knowsUs ? { kind: 'established', hello } : { kind: 'pending' };
  }

  /** Before establishment: repeats, and the initiator's give-up. */
  onTimer(now: number): SerialLinkError | undefined {
    if (this.established) return undefined;
    const { connectTimeoutMs } = this.options;
    if (this.role === 'initiator') {
      if (now >= this.startedAt + connectTimeoutMs) return serialErrors.noPeer(this.label, now - this.startedAt);
    } else if (this.peerSession === 0) {
      return undefined;
    } else if (now >= this.candidateSince + connectTimeoutMs) {
      this.peerSession = 0; // that host never confirmed: listen for the next one
      return undefined;
    }
    if (now >= this.nextHelloAt) this.sayHello(now);
    return undefined;
  }

  /** When onTimer() has something to do next (before establishment). */
  deadline(now: number): number {
    const { connectTimeoutMs, keepaliveMs } = this.options;
    if (this.role === 'initiator') return Math.min(this.startedAt + connectTimeoutMs, this.nextHelloAt);
    return this.peerSession ? Math.min(this.candidateSince + connectTimeoutMs, this.nextHelloAt) : now + keepaliveMs;
  }

  private sayHello(now: number): void {
    this.due = true;
    this.nextHelloAt = now + this.options.helloIntervalMs;
  }
}
