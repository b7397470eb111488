/**
 * The host's side of request multiplexing over a Transport: allocates request ids, routes
 * every incoming Envelope to the call with that id, turns Error envelopes into AgentErrors,
 * times out calls nothing arrived for, and fails every call when the connection ends.
 * Envelopes with id 0 (the connection itself) go to the connection handler (the handshake);
 * an Error with id 0 fails every call.
 */
import type { AxError } from '../../shared/errors';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { ProtocolError } from '../../shared/protocol/errors';
import type { CloseInfo, Transport } from '../../shared/transport/transport';
import { AgentError, connectionLost, requestTimeout, type CallPhase } from './errors';

/**
 * Largest message read from an agent that has not proven it knows the token: AgentHello and
 * AuthOk (board facts, limits) take a few hundred bytes.
 */
export const UNVERIFIED_MAX_BYTES = 64 * 1024;

export interface CallHandlers {
  /** Every envelope of the call except Errors. */
  onEnvelope(env: Envelope): void;
  /** An Error envelope, a timeout or the connection's end; the call is already closed. */
  onError(err: AxError): void;
}

export interface CallHandle {
  readonly id: number;
  /** The call is over (success): stop routing and timing it. */
  close(): void;
}

interface CallState {
  handlers: CallHandlers;
  what: string;
  phase: CallPhase | undefined;
  timeoutMs: number;
  timer: NodeJS.Timeout;
}

export class Channel {
  private nextId = 1;
  private readonly calls = new Map<number, CallState>();
  private lost: AxError | null = null;
  private connectionHandler: ((env: Envelope) => void) | null = null;
  private connectionError: AxError | null = null;
  private verified = false;
  /** Resolves when the transport has closed. */
  readonly closed: Promise<CloseInfo>;

  constructor(readonly transport: Transport, readonly defaultTimeoutMs: number) {
    transport.on('message', (bytes) => this.onMessage(bytes));
    this.closed = new Promise((resolve) => {
      let seen = false;
      const closedWith = (info: CloseInfo) => {
        if (seen) return;
        seen = true;
        resolve(this.onClose(info));
      };
      transport.once('close', closedWith);
      // A transport that failed before this channel was made (an SSH agent command that died,
      // a shell's text instead of frames) emitted 'close' to nobody: its reason must still be
      // the one every call and the handshake report, not a bare "closed" from a later send.
      const already = transport.state === 'closed' ? transport.closeInfo : undefined;
      if (already) queueMicrotask(() => closedWith(already));
    });
  }

  get peer(): string {
    return this.transport.peer;
  }

  /** Why the channel can no longer be used, or null while it can. */
  get failure(): AxError | null {
    return this.lost;
  }

  /** Receives envelopes with id 0 other than Errors (the handshake). */
  setConnectionHandler(handler: ((env: Envelope) => void) | null): void {
    this.connectionHandler = handler;
  }

  /**
   * Registers a call under a fresh id; send its first request with that id afterwards.
   * `phase`: what the call does, so a lost connection advises what applies to it.
   */
  open(what: string, handlers: CallHandlers, timeoutMs = this.defaultTimeoutMs, phase?: CallPhase): CallHandle {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    if (this.lost) {
      const err = this.lost;
      queueMicrotask(() => handlers.onError(err));
      return { id, close: () => undefined };
    }
    const state: CallState = { handlers, what, phase, timeoutMs, timer: this.startTimer(id, what, timeoutMs) };
    this.calls.set(id, state);
    return { id, close: () => this.closeCall(id) };
  }

  /** One request, one answer of the body `expect`. */
  request<B extends NonNullable<Envelope['body']>>(what: string, build: (id: number) => Envelope, expect: B, timeoutMs?: number): Promise<Envelope & { body: B }> {
    return new Promise((resolve, reject) => {
      const call = this.open(what, {
        onEnvelope: (env) => {
          call.close();
          if (env.body === expect) resolve(env as Envelope & { body: B });
          else reject(new ProtocolError('PROTO_UNEXPECTED', `${this.peer} answered ${what} with ${env.body ?? 'an unknown message'}`));
        },
        onError: reject,
      }, timeoutMs);
      this.send(build(call.id)).catch((err: AxError) => {
        call.close();
        reject(err);
      });
    });
  }

  /** Asks the agent to stop the call `targetId`; true if it was still in flight there. */
  async cancel(targetId: number): Promise<boolean> {
    const env = await this.request(`cancelling request ${targetId}`, (id) => ({ id, body: 'cancel', cancel: { targetId } }), 'cancelResult');
    return env.cancelResult.found;
  }

  /**
   * After a call failed on this side (timeout, local error), tells the agent to drop it too,
   * best effort; not needed when the agent ended it (AgentError) or the connection is gone.
   */
  abandon(targetId: number, err: AxError): void {
    if (this.lost || err instanceof AgentError) return;
    this.cancel(targetId).catch(() => undefined);
  }

  /** Sends an envelope; rejects with CONNECTION_LOST once the connection is gone. */
  async send(env: Envelope): Promise<void> {
    if (this.lost) throw this.lost;
    try {
      await this.transport.send(encodeEnvelope(env));
    } catch (err) {
      throw this.lost ?? err;
    }
  }

  /**
   * The handshake has checked the agent's proof: from now on its messages may be as large as
   * the transport carries (a run's result with its logs, download chunks).
   */
  agentVerified(): void {
    this.verified = true;
    this.transport.authenticated?.();
  }

  private onMessage(bytes: Uint8Array): void {
    // Before its proof, the peer might be anyone: its few handshake messages are small, and
    // nothing larger is decoded (protobufjs builds an object per repeated entry).
    if (!this.verified && bytes.length > UNVERIFIED_MAX_BYTES) {
      this.transport.destroy(new ProtocolError('PROTO_MESSAGE_TOO_LARGE', `${this.peer} sent a ${bytes.length}-byte message before proving it is the agent (at most ${UNVERIFIED_MAX_BYTES} bytes until then)`));
      return;
    }
    let env: Envelope;
    try {
      env = decodeEnvelope(bytes);
    } catch (err) {
      this.transport.destroy(err as ProtocolError);
      return;
    }
    if (env.id === 0) {
      if (env.body === 'error') {
        // The agent is about to hang up and says why: that is the reason every call fails.
        this.connectionError = new AgentError(env.error, this.peer);
        this.failAll(this.connectionError);
      }
      this.connectionHandler?.(env);
      return;
    }
    const call = this.calls.get(env.id);
    if (!call) return; // a late message of a call that has ended (timeout, cancel)
    clearTimeout(call.timer);
    call.timer = this.startTimer(env.id, call.what, call.timeoutMs);
    if (env.body === 'error') {
      this.closeCall(env.id);
      call.handlers.onError(new AgentError(env.error, this.peer));
    } else {
      call.handlers.onEnvelope(env);
    }
  }

  private startTimer(id: number, what: string, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const call = this.calls.get(id);
      if (!call) return;
      this.closeCall(id);
      call.handlers.onError(requestTimeout(this.peer, what, ms));
    }, ms);
    timer.unref();
    return timer;
  }

  private closeCall(id: number): void {
    const call = this.calls.get(id);
    if (!call) return;
    clearTimeout(call.timer);
    this.calls.delete(id);
  }

  /** `forCall`: the error for each call in flight (default `err`). */
  private failAll(err: AxError, forCall: (call: CallState) => AxError = () => err): void {
    this.lost = this.lost ?? err;
    for (const [id, call] of [...this.calls]) {
      this.closeCall(id);
      call.handlers.onError(forCall(call));
    }
  }

  private onClose(info: CloseInfo): CloseInfo {
    if (this.connectionError) this.failAll(this.connectionError);
    else this.failAll(connectionLost(this.peer, info), (call) => connectionLost(this.peer, info, call.phase));
    return info;
  }
}
