/**
 * Transport over a WebSocket (ws): each binary WebSocket message carries exactly one frame of
 * shared/protocol/frame.ts, so the frame's CRC and ping/pong work as on any other link.
 * connectWebSocket() is the client side (host), listenWebSocket() the server side (agent).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectError, UsageError, quoteForMessage, shortenForMessage, type AxError } from '../errors';
import { ProtocolError } from '../protocol/errors';
import { FRAME_OVERHEAD_BYTES, decodeFrame } from '../protocol/frame';
import { connectedButSilent, connectTimeout, handshakeError, socketConnectError } from './connect-errors';
import { firstLine } from '../first-line';
import { FramedTransport } from './framed';
import { LISTEN_DEFAULTS, ListenGate, type ListenLimits } from './listen-limits';
import { LEND_FROM_BYTES, type ReceiveBuffers } from '../protocol/receive-buffers';
import { TRANSPORT_DEFAULTS, TransportError, type TransportOptions } from './transport';

/** WebSocket close codes that mean "orderly": normal closure and going away. */
const ORDERLY_CLOSE = new Set([1000, 1001]);

/**
 * Frames of this size range are assembled in reused buffers: the blob chunks. Smaller ones
 * come from Node's buffer pool; the rare larger one (a big run result) gets its own buffer.
 */
const REUSE_FROM_BYTES = 64 * 1024;
const REUSE_UP_TO_BYTES = 2 * 1024 * 1024;
/** Reused buffers are sized in steps of this, so chunk frames of one upload share them. */
const REUSE_STEP_BYTES = 64 * 1024;
/** Spare buffers kept per connection: the high-water mark's worth of 1 MiB frames (<= 8 MiB). */
const MAX_SPARE_BUFFERS = 4;

/**
 * Buffers that a large frame is assembled in, given back once ws has handed the frame to the
 * socket. A WebSocket message must be one buffer, so header, payload and trailer are copied
 * together; into fresh memory that copy costs page faults, several times the copy itself
 * (0.5 vs 0.05 ms of CPU per MB measured), on every chunk of an upload or download.
 */
class SendBuffers {
  private spare: Buffer[] = [];

  take(size: number): Buffer {
    const index = this.spare.findIndex((buffer) => buffer.length >= size);
    if (index >= 0) return this.spare.splice(index, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.ceil(size / REUSE_STEP_BYTES) * REUSE_STEP_BYTES);
  }

  give(buffer: Buffer): void {
    if (this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(buffer);
  }

  clear(): void {
    this.spare = [];
  }
}

/** What assembleInLentMemory() relies on in ws's Receiver (ws 8, lib/receiver.js). */
interface WsReceiver {
  consume(n: number): Buffer;
  _buffers: Buffer[];
  _bufferedBytes: number;
}

/** ws's Receiver of `ws` when it has the shape assembleInLentMemory() relies on; else null. */
function receiverOf(ws: WebSocket): WsReceiver | null {
  const receiver = (ws as unknown as { _receiver?: Partial<WsReceiver> | null })._receiver;
  if (!receiver || typeof receiver.consume !== 'function' || !Array.isArray(receiver._buffers) || typeof receiver._bufferedBytes !== 'number') return null;
  return receiver as WsReceiver;
}

export class WebSocketTransport extends FramedTransport {
  readonly kind = 'websocket';
  /** ws calls back once the socket has the bytes. */
  protected override readonly recyclesFrames = true;
  private linkError: AxError | undefined;
  private readonly sendBuffers = new SendBuffers();
  /** Set by listenWebSocket while the connection counts as unauthenticated (listen-limits.ts). */
  private releaseUnauthenticated: (() => void) | null = null;

  constructor(private readonly ws: WebSocket, peer: string, options: TransportOptions = {}) {
    super(peer, options);
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        this.bytesArrived();
        if (!isBinary) {
          this.fail(new ProtocolError('PROTO_BAD_MESSAGE', `${peer} sent a text WebSocket message; axctl speaks binary frames`));
          return;
        }
        try {
          this.frameArrived(decodeFrame(data, this.maxMessageBytes));
        } catch (err) {
          this.fail(err as ProtocolError);
        }
      } finally {
        // The message (and any fragment it was joined from) is handled: lent memory nobody kept goes back.
        this.settleReceived();
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      this.linkError =
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? new ProtocolError('PROTO_FRAME_TOO_LARGE', `${peer} sent a message over the limit of ${this.maxMessageBytes} bytes`)
          : new TransportError('TRANSPORT_DISCONNECTED', `${peer}: ${err.message}`, { cause: err });
    });
    ws.on('close', (code: number) => {
      this.sendBuffers.clear();
      // ws emits nothing more (it has dropped its receiver's listeners): a fragment assembled
      // in lent memory of a message that never completed is given back, and no more is taken.
      this.settleReceived();
      this.receiveBuffers = null;
      if (this.linkError instanceof ProtocolError) this.fail(this.linkError);
      else if (ORDERLY_CLOSE.has(code)) this.linkClosed();
      else this.linkClosed(this.linkError ?? new TransportError('TRANSPORT_DISCONNECTED', `${peer} dropped the connection (WebSocket close code ${code})`));
    });
  }

  /**
   * The peer has authenticated (the agent's session says so): the listener's limits on
   * unauthenticated connections no longer apply to this one. Nothing on a client's side.
   */
  authenticated(): void {
    const release = this.releaseUnauthenticated;
    this.releaseUnauthenticated = null;
    release?.();
  }

  /**
   * From now on, large incoming frames are assembled in memory `buffers` lends (the agent's
   * upload slabs, ../protocol/receive-buffers.ts), settled once each message is handled. Only for a
   * consumer done with a message's bytes when its handler returns: the agent's sessions; a
   * host or a relay keeps them longer and must not call it. Returns false, changing nothing,
   * when ws is not what this relies on.
   *
   * ws joins a frame that spans several socket reads (64 KiB each) into a fresh
   * Buffer.allocUnsafe(n) in its Receiver's consume(n); for a 1 MiB upload chunk the page
   * faults of that fresh memory cost ~6× the copy itself (0.33 ms/MB against 0.05 into warm
   * memory), and the agent then copied the chunk again into its slab. So consume is wrapped,
   * for this connection's receiver only, to join such frames into lent memory instead: the
   * agent's main thread 2.11–2.62 → 1.84–1.99 ms of CPU per MB uploaded (bundled agent, 4
   * alternating runs each), the whole agent 3.01–3.55 → 2.81–3.09.
   *
   * This depends on ws 8's internals (WebSocket._receiver; Receiver.consume, _buffers,
   * _bufferedBytes), pinned in package-lock.json and bundled into dist/axagent.js; the shape
   * is checked here, and test/transport/websocket-receive.test.ts fails if the wrapper is not
   * active with the installed ws. What makes lending safe, also in ws's code: a message's
   * frames are consumed one at a time, each into its own lent buffer (take() per frame); a
   * message of one frame is emitted as that very buffer, one of several fragments is joined
   * into a fresh buffer first (Receiver.dataMessage, concat), and its 'message' event comes
   * before the next frame is consumed (at once, or deferred with the loop paused), so settling
   * after the handler gives back nothing still referenced.
   */
  assembleInLentMemory(buffers: ReceiveBuffers): boolean {
    const receiver = receiverOf(this.ws);
    if (!receiver || this.state === 'closed') return false;
    const consume = receiver.consume;
    const lent = (n: number) => this.receiveBuffers?.take(n) ?? null;
    receiver.consume = function lendingConsume(this: WsReceiver, n: number): Buffer {
      const queued = this._buffers;
      if (n >= LEND_FROM_BYTES && queued.length > 0 && n > queued[0]!.length) {
        const into = lent(n);
        if (into) {
          this._bufferedBytes -= n;
          let filled = 0;
          while (filled < n) {
            const chunk = queued[0]!;
            const want = n - filled;
            if (chunk.length <= want) {
              into.set(chunk, filled);
              filled += chunk.length;
              queued.shift();
            } else {
              into.set(chunk.subarray(0, want), filled);
              queued[0] = chunk.subarray(want);
              filled = n;
            }
          }
          return Buffer.from(into.buffer, into.byteOffset, n);
        }
      }
      return consume.call(this, n);
    };
    this.receiveBuffers = buffers;
    return true;
  }

  /** For listenWebSocket: what authenticated() lifts. */
  holdUntilAuthenticated(release: () => void): void {
    this.releaseUnauthenticated = release;
  }

  protected writeLink(parts: Uint8Array[], done: (err?: Error | null) => void): void {
    if (parts.length === 1) {
      // Framed in place (chunk messages): the one buffer is the message, nothing to join.
      this.ws.send(parts[0]!, { binary: true, compress: false }, (err) => done(err));
      return;
    }
    let size = 0;
    for (const part of parts) size += part.length;
    if (size < REUSE_FROM_BYTES || size > REUSE_UP_TO_BYTES) {
      this.ws.send(Buffer.concat(parts, size), { binary: true, compress: false }, (err) => done(err));
      return;
    }
    const buffer = this.sendBuffers.take(size);
    let at = 0;
    for (const part of parts) {
      buffer.set(part, at);
      at += part.length;
    }
    // ws calls back once the socket has taken the bytes (or failed): the buffer is free again.
    this.ws.send(buffer.subarray(0, size), { binary: true, compress: false }, (err) => {
      this.sendBuffers.give(buffer);
      done(err);
    });
  }

  protected endLink(): void {
    this.ws.close(1000);
  }

  protected destroyLink(): void {
    this.ws.terminate();
  }
}

export interface WebSocketConnectOptions extends TransportOptions {
  /** How long opening the connection (TCP + WebSocket upgrade) may take. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Another way to the agent than a TCP connection to the URL's host, e.g. an SSH tunnel:
   * `open` gives the byte stream the WebSocket runs over; `label` ("through the tunnel") and
   * `hint` go into the errors, since the usual ones (refused, unknown host) would mislead.
   */
  route?: { open: () => Duplex; label: string; hint: string };
  /** Aborting it gives the attempt up at once (Ctrl-C): the socket is cut, the promise rejects with its reason. */
  signal?: AbortSignal;
}

/**
 * The client masks nothing: masking exists so browsers cannot poison proxy caches; this
 * client is not a browser and an all-zero key lets ws skip XOR-ing every byte of an upload.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

function urlFragment(url: string): string {
  try {
    return new URL(url).hash;
  } catch {
    return '';
  }
}

/** Opens `url` (ws://host:port); ConnectError with a hint when that is impossible. */
export function connectWebSocket(url: string, options: WebSocketConnectOptions = {}): Promise<WebSocketTransport> {
  const { connectTimeoutMs = 10_000, route, signal, ...transportOptions } = options;
  const maxMessageBytes = transportOptions.maxMessageBytes ?? TRANSPORT_DEFAULTS.maxMessageBytes;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    // ws refuses a #fragment (and anything but ws/wss) with a bare SyntaxError: the URL is the user's, say so.
    const fragment = urlFragment(url);
    if (fragment) {
      reject(new UsageError('BAD_AGENT_URL', `${quoteForMessage(url, 120)} is not an agent URL: it has a #fragment`, { hint: `leave out ${shortenForMessage(fragment, 30)}` }));
      return;
    }
    let ws: WebSocket;
    /** The TCP connection was made: a timeout then is a peer that does not answer, not an unreachable board. */
    let tcpConnected = false;
    // As ws's own connect for ws:// (net.connect with its options), noting when TCP is up.
    const directConnect = (opts: net.NetConnectOpts & { socketPath?: string }) => {
      const socket = net.connect({ ...opts, path: opts.socketPath } as net.NetConnectOpts);
      socket.once('connect', () => (tcpConnected = true));
      return socket;
    };
    try {
      ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: maxMessageBytes + FRAME_OVERHEAD_BYTES,
        generateMask: zeroMask,
        // wss:// keeps ws's own TLS connect (its servername rules); only ws:// is watched.
        ...(route ? { createConnection: () => route.open() as never } : /^ws:/i.test(url) ? { createConnection: directConnect as never } : {}),
      });
    } catch (err) {
      reject(new UsageError('BAD_AGENT_URL', `${quoteForMessage(url, 120)} is not an agent URL (${(err as Error).message})`, { hint: 'write it like ws://HOST:PORT', cause: err }));
      return;
    }
    /** The attempt failed or was given up: the socket is cut, nothing waits any more. */
    const fail = (err: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ws.terminate();
      reject(err);
    };
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      fail(
        route
          ? new ConnectError('CONNECT_TIMEOUT', `${url}: no WebSocket ${route.label} after ${connectTimeoutMs} ms`, { hint: route.hint })
          : tcpConnected
            ? connectedButSilent(url, connectTimeoutMs)
            : connectTimeout(url, connectTimeoutMs),
      );
    }, connectTimeoutMs);
    const onError = (err: Error) => {
      fail(
        route
          ? (handshakeError(url, err) ??
              new ConnectError('CONNECT_FAILED', `${url}: cannot open the WebSocket ${route.label} (${firstLine(err.message)})`, { hint: route.hint, cause: err }))
          : socketConnectError(url, err),
      );
    };
    ws.once('error', onError);
    ws.once('unexpected-response', (_req: http.ClientRequest, res: http.IncomingMessage) => {
      fail(
        res.statusCode === 503
          ? new ConnectError('CONNECT_BUSY', `${url}: the agent refused the connection: too many connections are waiting to authenticate`, {
              hint: 'try again in a few seconds; if it lasts, something keeps connecting to the agent without authenticating (see its log)',
            })
          : new ConnectError('CONNECT_NOT_AGENT', `${url}: answered HTTP ${res.statusCode} instead of a WebSocket upgrade`, { hint: 'is that port an axagent (axagent --listen)?' }),
      );
    });
    ws.once('open', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ws.off('error', onError);
      resolve(new WebSocketTransport(ws, url, transportOptions));
    });
  });
}

export interface WebSocketListener {
  readonly host: string;
  /** The port actually bound (useful after asking for port 0). */
  readonly port: number;
  /** ws://host:port of this listener. */
  readonly url: string;
  /** Stops accepting connections; open transports stay open (their owners close them). */
  close(): Promise<void>;
}

export interface WebSocketListenOptions extends TransportOptions {
  host: string;
  port: number;
  /** What peers may hold (listen-limits.ts); unset ones default to LISTEN_DEFAULTS. */
  limits?: Partial<ListenLimits>;
  /** Hears, in one line, of every connection a limit closed or refused (for a log). */
  onRefused?: (why: string) => void;
}

/**
 * Listens for WebSocket connections; each accepted one is handed over as a transport. With
 * authentication limits set, call the transport's authenticated() once its peer has.
 */
export function listenWebSocket(options: WebSocketListenOptions, onTransport: (transport: WebSocketTransport) => void): Promise<WebSocketListener> {
  const { host, port, limits, onRefused = () => undefined, ...transportOptions } = options;
  const maxMessageBytes = transportOptions.maxMessageBytes ?? TRANSPORT_DEFAULTS.maxMessageBytes;
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('axagent: this port speaks the axctl protocol over WebSocket; connect with axctl\n');
  });
  const gate = new ListenGate(server, { ...LISTEN_DEFAULTS, ...limits }, onRefused);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: maxMessageBytes + FRAME_OVERHEAD_BYTES });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const address = req.socket.remoteAddress ?? '?';
    if (!gate.admitUpgrade(socket, address)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const transport = new WebSocketTransport(ws, `ws://${formatHost(address)}:${req.socket.remotePort ?? 0}`, transportOptions);
      transport.holdUntilAuthenticated(gate.holdUntilAuthenticated(transport, socket));
      onTransport(transport);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new UsageError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`, {
        hint: err.code === 'EADDRINUSE' ? 'stop the other program or choose another --listen port' : 'check the --listen address',
        cause: err,
      }));
    });
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        host,
        port: bound,
        url: `ws://${formatHost(host)}:${bound}`,
        close: () =>
          new Promise<void>((done) => {
            gate.close();
            wss.close();
            server.close();
            // server.close() stops accepting at once; its callback would wait for open sockets.
            setImmediate(done);
          }),
      });
    });
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
