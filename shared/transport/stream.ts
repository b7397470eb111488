/**
 * Transport over any duplex byte stream: the agent's stdin/stdout, a child process's pipes,
 * an SSH channel, a TCP socket. The frame codec delimits messages; ping/pong frames keep the
 * idle check honest. Closing ends our direction and waits for the peer to end its own (or for
 * closeTimeoutMs), so a last message (an Error before hanging up) is never cut off.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { AxError } from '../errors';
import { FrameDecoder } from '../protocol/frame';
import type { ProtocolError } from '../protocol/errors';
import { FramedTransport } from './framed';
import type { ReceiveBuffers } from '../protocol/receive-buffers';
import { TransportError, type TransportOptions } from './transport';

export interface StreamTransportOptions extends TransportOptions {
  /** Who is on the other end, for messages (default 'stream'). */
  peer?: string;
  /** Reported as Transport.kind (default 'stream'; an SSH channel may say 'ssh'). */
  kind?: string;
  /**
   * The output is done with a written chunk when its write callback fires (a socket, a pipe,
   * an SSH channel: the bytes are in the kernel or copied into packets), so chunk frames can be
   * reused (FramedTransport.recyclesFrames). Default false: an in-memory stream (PassThrough)
   * hands the very buffer to its reader, later.
   */
  outputCopies?: boolean;
  /**
   * Memory to assemble large incoming frames in (../protocol/receive-buffers.ts): only for a consumer that
   * is done with a message's bytes when its 'message' handler returns (the agent's sessions,
   * never a relay). Settled after the frames of each read are handled.
   */
  receiveBuffers?: ReceiveBuffers;
  /**
   * Largest message the peer may send until authenticated() is called (the agent's side: a
   * handshake message is a few hundred bytes); a frame header declaring more is refused at once
   * (PROTO_PREAUTH_TOO_LARGE), before its bytes are buffered. Default: maxMessageBytes throughout.
   */
  unauthenticatedMaxMessageBytes?: number;
}

export class StreamTransport extends FramedTransport {
  readonly kind: string;
  protected override readonly recyclesFrames: boolean;
  private readonly decoder: FrameDecoder;

  /** `input` carries the peer's bytes to us, `output` ours to the peer (may be the same duplex). */
  constructor(private readonly input: Readable, private readonly output: Writable, options: StreamTransportOptions = {}) {
    const { peer = 'stream', kind = 'stream', outputCopies = false, receiveBuffers, unauthenticatedMaxMessageBytes, ...transportOptions } = options;
    super(peer, transportOptions);
    this.kind = kind;
    this.recyclesFrames = outputCopies;
    this.receiveBuffers = receiveBuffers ?? null;
    this.decoder = new FrameDecoder({
      maxPayloadBytes: this.maxMessageBytes,
      ...(receiveBuffers && { receiveBuffers }),
      ...(unauthenticatedMaxMessageBytes !== undefined && { unauthenticatedMaxPayloadBytes: unauthenticatedMaxMessageBytes }),
    });
    input.on('data', (chunk: Uint8Array) => this.onData(chunk));
    input.on('end', () => this.onEnd());
    input.on('close', () => this.lost(`${this.peer} closed the stream`));
    input.on('error', (err) => this.lost(`${this.peer}: ${err.message}`, err));
    if ((output as unknown) !== input) output.on('error', (err) => this.lost(`${this.peer}: ${err.message}`, err));
    this.once('close', () => {
      // Whatever ended the conversation, make sure the peer sees our side end too.
      if (!output.writableEnded && !output.destroyed) output.end();
    });
  }

  /** The peer has authenticated (its session says so): unauthenticatedMaxMessageBytes no longer applies. */
  authenticated(): void {
    this.decoder.authenticated();
  }

  /** Both directions over one duplex (socket, SSH channel). */
  static overDuplex(duplex: Duplex, options?: StreamTransportOptions): StreamTransport {
    return new StreamTransport(duplex, duplex, options);
  }

  protected writeLink(parts: Uint8Array[], done: (err?: Error | null) => void): void {
    const pieces = parts.filter((p) => p.length > 0);
    this.output.cork();
    pieces.forEach((piece, i) => {
      if (i < pieces.length - 1) this.output.write(piece);
      else this.output.write(piece, (err) => done(err));
    });
    this.output.uncork();
  }

  protected endLink(): void {
    this.output.end();
    // linkClosed() follows when the peer ends its direction (onEnd) or closes the stream.
  }

  protected destroyLink(): void {
    this.input.destroy();
    if ((this.output as unknown) !== this.input) this.output.destroy();
  }

  private onData(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.bytesArrived();
    this.decodeArrived(this.decoder, chunk);
  }

  private onEnd(): void {
    if (this.state === 'closed') return;
    try {
      this.decoder.end();
    } catch (err) {
      this.fail(err as ProtocolError);
      return;
    }
    this.linkClosed();
  }

  private lost(message: string, cause?: Error): void {
    if (this.state === 'closed') return;
    const error: AxError = new TransportError('TRANSPORT_DISCONNECTED', message, cause ? { cause } : undefined);
    this.linkClosed(error);
  }
}
