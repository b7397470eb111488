/**
 * A reliable, in-order, exactly-once byte stream over an unreliable byte line (a serial port).
 * Pure: bytes go in with `receive()`, frames come out with `pull()`; time comes from an
 * injected clock. No port, no stream: the line driver (line-driver.ts) wires a real port in.
 *
 * What it does, and why:
 * - COBS frames with a CRC-32 (cobs.ts, frame.ts): garbage, a cut or a flipped bit costs
 *   the frames it touches and nothing else; the receiver re-synchronises at the next 0x00.
 * - A handshake (HELLO) with a random session id on each side: a restarted peer is noticed
 *   (SERIAL_PEER_RESTARTED) instead of being fed sequence numbers from its previous life.
 * - Selective repeat (send-window.ts, receive-window.ts) with exact loss detection from
 *   echoed transmission numbers; a retransmission timer for lost tails and dead lines.
 * - Output is paced at the line rate, so at most ~2 frames wait in the OS and a resend or an
 *   acknowledgement never queues behind a whole window of data (the window stays ahead of
 *   the round trip and a loss costs one frame time, not a stall).
 * - Keepalive PINGs: a pulled cable shows as 'down' after downAfterMs of silence; the link
 *   keeps probing and carries on where it stopped when the peer is heard again ('up');
 *   after giveUpAfterMs it fails with SERIAL_LINK_LOST.
 * - Graceful close: FIN after the last byte, both ways; the side that owes the last ACK
 *   lingers to repeat it until the other says bye. destroy() sends a RESET instead.
 *
 * Events: 'established', 'data' (Uint8Array; call pauseDelivery() to apply backpressure),
 * 'end' (the peer finished), 'drain', 'output' (pull() has something), 'heard' (a valid
 * frame from the peer: it is alive), 'down', 'up', 'close' (error?: SerialLinkError).
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from './clock';
import { CobsDeframer, cobsDecode, cobsFrame, cobsMaxEncodedLength } from './cobs';
import { SerialLinkError, serialErrors } from './errors';
import { FRAME_OVERHEAD, decodeFrame, encodeFrame, type LinkFrame } from './frame';
import { Handshake, type HelloFrame } from './handshake';
import { resolveLinkOptions, type LinkOptions } from './options';
import { LinePacer } from './pacer';
import { ReceiveWindow } from './receive-window';
import { RetransmitTimer } from './rtt';
import { SendWindow } from './send-window';

export type LinkRole = 'initiator' | 'responder';

export interface LinkInit {
  /** The initiator (host) sends HELLO until answered; the responder (agent) waits for one. */
  role: LinkRole;
  /** Names the line in error messages, e.g. "/dev/ttyUSB0 (921600 baud)". */
  label: string;
  options?: Partial<LinkOptions>;
  clock?: Clock;
  /** A non-zero u32 session id; injectable so tests are deterministic. */
  randomSession?: () => number;
}

export interface LinkStats {
  wireBytesSent: number;
  wireBytesReceived: number;
  dataFramesSent: number;
  framesResent: number;
  timeouts: number;
  /** Frames that failed COBS or CRC checks (noise, corruption, cuts). */
  badFrames: number;
  duplicates: number;
  /** Smoothed round trip, once measured. */
  srttMs: number | undefined;
}

/** lingering: closed for the user, still answering the peer's last resends (see finish()). */
type LinkState = 'connecting' | 'established' | 'lingering' | 'closed';

export class ReliableLink extends EventEmitter {
  readonly options: LinkOptions;
  readonly label: string;
  readonly stats: LinkStats = {
    wireBytesSent: 0, wireBytesReceived: 0, dataFramesSent: 0, framesResent: 0,
    timeouts: 0, badFrames: 0, duplicates: 0, srttMs: undefined,
  };
  private readonly clock: Clock;
  private readonly handshake: Handshake;
  private readonly pacer: LinePacer;
  private state: LinkState = 'connecting';
  private closeError: SerialLinkError | undefined;
  private readonly deframer: CobsDeframer;
  private readonly sendWindow: SendWindow;
  private readonly receiveWindow: ReceiveWindow;
  private readonly rto: RetransmitTimer;
  private ackDue = false;
  private pingDue = false;
  private resetDue = false;
  private deliveryPaused = false;
  private drainWanted = false;
  private endRequested = false;
  private peerEnded = false;
  private lineUp = true;
  private lastHeard = 0;
  private lastPingAt = 0;
  private rtoAt: number | undefined;
  private lingerUntil = 0;
  private timer: unknown;
  private timerDeadline = 0;
  private paceTimer: unknown;

  constructor(init: LinkInit) {
    super();
    this.options = resolveLinkOptions(init.options);
    this.label = init.label;
    this.clock = init.clock ?? systemClock;
    const session = (init.randomSession ?? (() => randomInt(1, 0xffffffff)))() >>> 0 || 1;
    this.handshake = new Handshake(init.role, session, this.options, this.label);
    const { maxPayload, window, baud, bitsPerByte } = this.options;
    const maxWire = cobsMaxEncodedLength(maxPayload + FRAME_OVERHEAD) + 2;
    this.deframer = new CobsDeframer(maxWire);
    this.sendWindow = new SendWindow(maxPayload, window);
    this.receiveWindow = new ReceiveWindow(window);
    this.pacer = new LinePacer(baud, bitsPerByte, maxWire);
    const frameMs = this.pacer.frameMs;
    const floor = Math.max(this.options.rtoMinMs, 3 * frameMs);
    const ceiling = Math.max(this.options.rtoMaxMs, 4 * frameMs);
    this.rto = new RetransmitTimer(floor, ceiling, Math.min(ceiling, Math.max(floor, 500)));
  }

  get established(): boolean {
    return this.state === 'established';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** write() would accept bytes: established and not finishing. */
  get writable(): boolean {
    return this.state === 'established' && !this.endRequested;
  }

  /** Starts the timers; the initiator starts saying HELLO. */
  start(): void {
    this.handshake.start(this.clock.now());
    this.afterEvent();
  }

  /** Queues bytes to send; false when the queue is past sendHighWater (wait for 'drain'). */
  write(bytes: Uint8Array): boolean {
    if (this.state === 'closed' || this.endRequested) throw this.closeError ?? serialErrors.closed(this.label);
    this.sendWindow.enqueue(bytes);
    this.afterEvent();
    const below = this.sendWindow.queuedBytes < this.options.sendHighWater;
    if (!below) this.drainWanted = true;
    return below;
  }

  /** Graceful close: everything queued goes, then a FIN; 'close' once both sides finished. */
  end(): void {
    if (this.state === 'closed' || this.endRequested) return;
    if (this.state === 'connecting') return this.closeNow(undefined);
    this.endRequested = true;
    this.sendWindow.finish();
    this.afterEvent();
  }

  /** Abrupt close: a RESET tells the peer (best effort); 'close' at once. */
  destroy(error?: SerialLinkError): void {
    if (this.state === 'closed') return;
    this.resetDue = this.handshake.peerSession !== 0;
    this.closeNow(error);
  }

  pauseDelivery(): void {
    this.deliveryPaused = true;
  }

  resumeDelivery(): void {
    if (!this.deliveryPaused) return;
    this.deliveryPaused = false;
    this.deliver();
    this.ackDue = true;
    this.afterEvent();
  }

  /** Bytes that arrived from the line. */
  receive(chunk: Uint8Array): void {
    this.stats.wireBytesReceived += chunk.length;
    this.deframer.push(chunk, (encoded) => {
      const raw = cobsDecode(encoded);
      const frame = raw && decodeFrame(raw);
      if (frame) this.onFrame(frame);
      else this.stats.badFrames++;
    });
    this.afterEvent();
  }

  /** The port was reopened: a partial frame cannot continue, and what was in flight is lost. */
  lineReopened(): void {
    this.deframer.reset();
    this.pacer.reset(this.clock.now());
    if (this.state === 'established') this.rtoAt = this.clock.now();
    this.afterEvent();
  }

  /** The port itself went away (USB adapter unplugged): report the line down at once. */
  lineLost(): void {
    if (this.state === 'established' && this.lineUp) {
      this.lineUp = false;
      this.emit('down');
    }
  }

  /**
   * The next frame's wire bytes, or undefined when there is nothing to send or the line
   * rate says to wait (an 'output' event follows when that changes). After 'close' it hands
   * out the last RESET or acknowledgement, then nothing.
   */
  pull(): Uint8Array | undefined {
    const now = this.clock.now();
    if (this.state === 'closed') {
      const last = this.finalFrame();
      return last && this.account(cobsFrame(encodeFrame(last)), now);
    }
    const wait = this.pacer.waitMs(now);
    if (wait > 0) {
      if (this.hasOutput()) this.armPaceTimer(wait);
      return undefined;
    }
    const frame = this.nextFrame(now);
    return frame && this.account(cobsFrame(encodeFrame(frame)), now);
  }

  private nextFrame(now: number): LinkFrame | undefined {
    if (this.handshake.due) return this.handshake.take();
    if (this.state === 'lingering') return this.finalFrame();
    if (this.state !== 'established') return undefined;
    const data = this.sendWindow.takeNext(now);
    if (data) {
      this.ackDue = this.pingDue = false;
      this.stats.dataFramesSent++;
      if (data.resent) this.stats.framesResent++;
      if (this.rtoAt === undefined) this.rtoAt = now + this.rto.timeoutMs;
      if (this.drainWanted && this.sendWindow.queuedBytes < this.options.sendHighWater) {
        this.drainWanted = false;
        queueMicrotask(() => this.emit('drain'));
      }
      return { type: 'data', seq: data.seq, tx: data.tx, ack: this.receiveWindow.ackInfo(), fin: data.fin, payload: data.payload };
    }
    if (this.ackDue || this.pingDue) {
      const type = this.ackDue ? 'ack' : 'ping';
      this.ackDue = this.pingDue = false;
      return { type, ack: this.receiveWindow.ackInfo() };
    }
    return undefined;
  }

  private finalFrame(): LinkFrame | undefined {
    if (this.resetDue) {
      this.resetDue = this.ackDue = false;
      return { type: 'reset', session: this.handshake.session };
    }
    if (this.ackDue) {
      this.ackDue = false;
      return { type: 'ack', ack: this.receiveWindow.ackInfo() };
    }
    return undefined;
  }

  private account(wire: Uint8Array, now: number): Uint8Array {
    this.stats.wireBytesSent += wire.length;
    this.pacer.sent(wire.length, now);
    return wire;
  }

  private onFrame(frame: LinkFrame): void {
    if (this.state === 'closed') return;
    if (this.state === 'lingering') return this.onFrameLingering(frame);
    if (frame.type === 'hello') return this.onHello(frame);
    if (frame.type === 'reset') {
      if (this.state !== 'established' || frame.session !== this.handshake.peerSession) return;
      // A bye after both FINs (our last ACK to it was lost): nothing is missing if only our
      // FIN was unacknowledged. Otherwise the peer aborted.
      const bye = this.peerEnded && this.sendWindow.onlyFinOutstanding;
      if (bye) this.closeNow(undefined);
      else this.fail(serialErrors.peerReset(this.label));
      return;
    }
    // Before the handshake completes, anything else is left over from another session.
    if (this.state !== 'established') return;
    const now = this.clock.now();
    this.heard(now);
    const outcome = this.sendWindow.onAck(frame.ack, now);
    if (outcome.rttSample !== undefined) {
      this.rto.sample(outcome.rttSample);
      this.stats.srttMs = this.rto.smoothedRtt;
    }
    if (outcome.progress) {
      this.rto.progressed();
      this.rtoAt = undefined;
    }
    if (frame.type === 'ping') this.ackDue = true;
    if (frame.type === 'data') {
      this.ackDue = true;
      const arrival = this.receiveWindow.accept(frame.seq, frame.tx, frame.payload, frame.fin);
      if (arrival === 'duplicate') this.stats.duplicates++;
      this.deliver();
    }
    this.checkClosed(now);
  }

  /** The peer resends because our last ACK was lost: ACK again. Its RESET (bye) ends it. */
  private onFrameLingering(frame: LinkFrame): void {
    if (frame.type === 'data' || frame.type === 'ping') this.ackDue = true;
    else if (frame.type === 'hello' || (frame.type === 'reset' && frame.session === this.handshake.peerSession)) this.closeNow(undefined);
  }

  private onHello(hello: HelloFrame): void {
    const now = this.clock.now();
    const outcome = this.handshake.onHello(hello, now);
    if (outcome.kind === 'failed') return this.fail(outcome.error);
    if (outcome.kind === 'ignored' && this.state === 'established' && hello.session === this.handshake.peerSession) this.heard(now);
    if (outcome.kind !== 'established') return;
    this.state = 'established';
    const theirs = outcome.hello;
    this.sendWindow.limit(Math.min(this.options.maxPayload, theirs.maxPayload), Math.max(1, Math.min(this.options.window, theirs.window)));
    this.lastHeard = this.lastPingAt = now;
    this.emit('established');
  }

  private heard(now: number): void {
    this.lastHeard = now;
    this.emit('heard');
    if (this.lineUp) return;
    this.lineUp = true;
    // Whatever was in flight during the outage is gone: resend the oldest now; the echo of
    // that resend then flags the rest as lost.
    this.rto.progressed();
    this.rtoAt = now;
    this.emit('up');
  }

  private deliver(): void {
    if (this.deliveryPaused) return;
    this.receiveWindow.deliver(
      (payload) => {
        this.emit('data', payload);
        return !this.deliveryPaused && this.state !== 'closed';
      },
      () => {
        this.peerEnded = true;
        this.emit('end');
        if (!this.endRequested) {
          this.endRequested = true;
          this.sendWindow.finish();
        }
      },
    );
  }

  private onTimer(): void {
    this.timer = undefined;
    // A timer may fire a hair before its deadline (float rounding, coarse OS timers): count
    // it as on time, or the same deadline would be re-armed forever.
    const now = Math.max(this.clock.now(), this.timerDeadline);
    if (this.state === 'connecting') this.connectingTimers(now);
    else if (this.state === 'established') this.establishedTimers(now);
    else if (this.state === 'lingering' && now >= this.lingerUntil) this.closeNow(undefined);
    this.afterEvent();
  }

  private connectingTimers(now: number): void {
    const error = this.handshake.onTimer(now);
    if (error) this.fail(error);
  }

  private establishedTimers(now: number): void {
    // Deadlines are compared in the form nextDeadline() computes them, so a timer set for
    // one always finds it due (a + b - a is not always b in floating point).
    if (now >= this.lastHeard + this.options.giveUpAfterMs) return this.fail(serialErrors.linkLost(this.label, now - this.lastHeard));
    if (this.lineUp && now >= this.lastHeard + this.options.downAfterMs) {
      this.lineUp = false;
      this.emit('down');
    }
    if (this.rtoAt !== undefined && now >= this.rtoAt) {
      this.rtoAt = undefined;
      if (this.sendWindow.resendOldest()) {
        this.stats.timeouts++;
        this.rto.expired();
      } else if (this.sendWindow.stalledOnHeld) {
        this.pingDue = true; // the peer holds everything but delivers nothing: ask again
        this.rto.expired();
      }
    }
    if (now >= Math.max(this.lastHeard, this.lastPingAt) + this.options.keepaliveMs) {
      this.pingDue = true;
      this.lastPingAt = now;
    }
    this.checkClosed(now);
  }

  /**
   * Closing, once both sides have sent a FIN. Done when ours is acknowledged; then whoever
   * still owes the peer the ACK of its FIN lingers (closeTimeoutMs at most) to repeat that
   * ACK should it be lost, and the other side, which has its ACK, says bye (RESET) so the
   * lingering side can stop at once. If the peer falls silent for closeTimeoutMs meanwhile,
   * stop anyway: cleanly when only our FIN was unacknowledged (all our data arrived), with
   * SERIAL_LINK_LOST when data was still unacknowledged.
   */
  private checkClosed(now: number): void {
    if (this.state !== 'established' || !this.endRequested || !this.peerEnded) return;
    if (this.sendWindow.finDelivered) {
      if (this.ackDue) {
        this.state = 'lingering';
        this.lingerUntil = now + this.options.closeTimeoutMs;
      } else {
        this.resetDue = true;
        this.closeNow(undefined);
      }
    } else if (now >= this.lastHeard + this.options.closeTimeoutMs) {
      this.resetDue = true;
      this.closeNow(this.sendWindow.onlyFinOutstanding ? undefined : serialErrors.linkLost(this.label, now - this.lastHeard));
    }
  }

  private fail(error: SerialLinkError): void {
    const peerGone = error.code === 'SERIAL_PEER_RESET' || error.code === 'SERIAL_PEER_RESTARTED' || error.code === 'SERIAL_VERSION_MISMATCH';
    this.resetDue = !peerGone && this.handshake.peerSession !== 0;
    this.closeNow(error);
  }

  private closeNow(error: SerialLinkError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeError = error;
    this.clock.clearTimer(this.timer);
    this.clock.clearTimer(this.paceTimer);
    this.timer = this.paceTimer = undefined;
    this.emit('close', error);
  }

  /** After every outside event: re-arm the one timer, and tell the driver about output. */
  private afterEvent(): void {
    if (this.state === 'closed') return;
    const now = this.clock.now();
    if (this.state === 'established' && this.rtoAt === undefined && this.sendWindow.inFlight > 0) {
      this.rtoAt = now + this.rto.timeoutMs;
    }
    const deadline = this.nextDeadline(now);
    this.timerDeadline = deadline;
    this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => this.onTimer(), Math.max(0, deadline - now));
    if (this.hasOutput()) this.emit('output');
  }

  private hasOutput(): boolean {
    return this.handshake.due || this.ackDue || this.pingDue || (this.state === 'established' && this.sendWindow.hasOutput());
  }

  private nextDeadline(now: number): number {
    const o = this.options;
    if (this.state === 'lingering') return this.lingerUntil;
    if (this.state === 'connecting') return this.handshake.deadline(now);
    let deadline = Math.min(this.lastHeard + o.giveUpAfterMs, Math.max(this.lastHeard, this.lastPingAt) + o.keepaliveMs);
    if (this.lineUp) deadline = Math.min(deadline, this.lastHeard + o.downAfterMs);
    if (this.rtoAt !== undefined) deadline = Math.min(deadline, this.rtoAt);
    if (this.peerEnded && this.endRequested) deadline = Math.min(deadline, this.lastHeard + o.closeTimeoutMs);
    return deadline;
  }

  private armPaceTimer(ms: number): void {
    if (this.paceTimer !== undefined) return;
    this.paceTimer = this.clock.setTimer(() => {
      this.paceTimer = undefined;
      this.emit('output');
    }, ms);
  }
}
