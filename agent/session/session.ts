/**
 * One connection, from the agent's side: a state machine over a Transport.
 *
 *   hello ──ClientHello──▶ auth ──valid AuthProof──▶ ready ──▶ closed
 *
 * hello: AgentHello (versions and a fresh nonce) goes out as the connection opens (greetFirst),
 *   else in answer to the host's ClientHello; a ClientHello of another protocol major gets
 *   Error PROTOCOL_MISMATCH and the connection ends.
 * auth: the host's HMAC proof is checked in constant time; a wrong one ends the connection
 *   (AUTH_FAILED), a right one is answered with AuthOk (our own proof, board facts, limits).
 * Before ready, every other request is refused (NOT_AUTHENTICATED), and after a few such
 *   refusals, or when authTimeoutMs passes without authentication, the connection ends.
 * ready: requests are dispatched by body; those that last (put, get, run, describe) become operations
 *   keyed by their request id, which later messages (chunks, acks, cancel) are routed to.
 * closed: every operation in flight is cancelled (a run's run_joint is stopped).
 */
import { ConnectError, type AxError } from '../../shared/errors';
import { NONCE_BYTES, agentProof, hostProof, newNonce, proofMatches } from '../../shared/protocol/auth';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, decodeEnvelope, encodeEnvelope, outlineEnvelope, type BoardFacts, type Envelope } from '../../shared/protocol/envelope';
import { ProtocolError } from '../../shared/protocol/errors';
import { requestEntriesProblem, requestSizeProblem } from '../../shared/protocol/request-limits';
import { peerText } from '../../shared/peer-text';
import type { CloseInfo, Transport } from '../../shared/transport/transport';
import { GetOperation, PutOperation, answerHas } from './blob-ops';
import { SESSION_DEFAULTS, type AgentContext, type SessionOptions } from './context';
import { DescribeOperation } from './describe-op';
import { MAX_OPERATIONS_PER_SESSION, tooManyOperations } from './operation-limit';
import { boardFacts } from './facts';
import { RunOperation } from './run-op';
import { toWireError } from './wire-error';

/** Room an Envelope needs around a chunk's data (ids, offsets, field tags). */
export const ENVELOPE_SLACK_BYTES = 64;
/** How many finished request ids to remember, so their late chunks/acks are dropped quietly. */
const REMEMBERED_IDS = 1024;

/** A request that lasts: receives the later messages of its id, can be cancelled. */
export interface Operation {
  onMessage(env: Envelope): void;
  cancel(): void;
}

/** What operations may do with their session. */
export interface OperationHost {
  readonly ctx: AgentContext;
  readonly opts: Required<SessionOptions>;
  /** Largest data a PutChunk/GetChunk may carry on this connection. */
  readonly maxChunkBytes: number;
  /** Sends; encodes at once (the envelope's buffers may be reused on return); resolves when the transport takes it (backpressure); never rejects. */
  send(env: Envelope): Promise<void>;
  /** The operation is over. */
  end(id: number): void;
  /** The operation failed: Error to the host, operation over. */
  fail(id: number, err: unknown): void;
}

type Phase = 'hello' | 'auth' | 'welcome' | 'ready' | 'closed';

/**
 * Largest message read before authentication. The handshake's messages are a few dozen bytes;
 * a peer without the token must not make the agent decode (and hold) megabytes — a 16 MiB
 * `has` of empty queries decodes into millions of objects.
 */
export const PRE_AUTH_MAX_BYTES = 4096;

export class AgentSession implements OperationHost {
  readonly opts: Required<SessionOptions>;
  readonly maxChunkBytes: number;
  /** Resolves when the connection has ended. */
  readonly closed: Promise<CloseInfo>;
  private phase: Phase = 'hello';
  private readonly agentNonce: Uint8Array = newNonce();
  /**
   * Gathered from AgentHello on, while the host computes its proof (a few file-system calls:
   * store space, run_joint check), so AuthOk follows the proof at once; sent only to a host that
   * proved the token.
   */
  private facts: Promise<BoardFacts> | null = null;
  private refusals = 0;
  private readonly ops = new Map<number, Operation>();
  private readonly endedIds = new Set<number>();
  private readonly authTimer: NodeJS.Timeout;

  constructor(private readonly transport: Transport, readonly ctx: AgentContext, options: SessionOptions = {}) {
    this.opts = { ...SESSION_DEFAULTS, ...options };
    this.maxChunkBytes = Math.max(1, Math.min(this.opts.chunkBytes, transport.maxMessageBytes - ENVELOPE_SLACK_BYTES));
    this.closed = new Promise((resolve) => transport.once('close', (info) => resolve(this.onClose(info))));
    this.authTimer = setTimeout(() => {
      this.hangUp(new ConnectError('AUTH_TIMEOUT', `no authentication within ${this.opts.authTimeoutMs} ms`, { hint: 'connect with axctl and the board\'s token' }));
    }, this.opts.authTimeoutMs);
    transport.on('message', (bytes) => this.onMessage(bytes));
    this.log('connected');
    if (this.opts.greetFirst) this.greet();
  }

  /** Ends the connection in an orderly way (agent shutdown). */
  close(): Promise<void> {
    return this.transport.close();
  }

  send(env: Envelope): Promise<void> {
    if (this.phase === 'closed' && env.id !== 0) return Promise.resolve();
    let bytes: Uint8Array;
    try {
      bytes = encodeEnvelope(env);
    } catch (err) {
      this.log(`cannot encode a ${env.body} answer: ${(err as Error).message}`);
      return Promise.resolve();
    }
    return this.transport.send(bytes).catch((err: AxError) => {
      if (err.code === 'PROTO_FRAME_TOO_LARGE' && env.body !== 'error') {
        void this.send({ id: env.id, body: 'error', error: { code: 'RESPONSE_TOO_LARGE', message: `the answer (${bytes.length} bytes) is larger than this connection carries (${this.transport.maxMessageBytes} bytes)`, hint: '', exitCode: 4 } });
      }
    });
  }

  end(id: number): void {
    this.ops.delete(id);
    this.endedIds.add(id);
    if (this.endedIds.size > REMEMBERED_IDS) this.endedIds.delete(this.endedIds.values().next().value as number);
  }

  fail(id: number, err: unknown): void {
    if (!this.ops.has(id) && this.endedIds.has(id)) return;
    this.end(id);
    void this.send({ id, body: 'error', error: toWireError(err, (l) => this.log(l)) });
  }

  private log(line: string): void {
    this.ctx.log(`${this.transport.peer}: ${line}`);
  }

  /**
   * `bytes` are valid only until this returns: the transport may have assembled them in an
   * upload slab lent for the frame (transfer-memory.ts), given back right after. What is kept
   * longer must be copied or held: a PutChunk's data goes through transferMemory.hold(), which
   * adopts the slab; the handshake's nonce and proof, used after an await, come in messages of
   * at most PRE_AUTH_MAX_BYTES, far below what is ever lent.
   */
  private onMessage(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    if (this.phase !== 'ready' && bytes.length > PRE_AUTH_MAX_BYTES) {
      this.hangUp(new ProtocolError('PROTO_FRAME_TOO_LARGE', `a ${bytes.length}-byte message before authentication (at most ${PRE_AUTH_MAX_BYTES} bytes until then)`));
      return;
    }
    let env: Envelope;
    try {
      // Looked at before decoding: only an upload chunk may be large, and no request may
      // make the decoder build more entries than it could use (request-limits.ts).
      const outline = outlineEnvelope(bytes);
      const tooLarge = requestSizeProblem(outline, bytes.length);
      if (tooLarge) return this.hangUp(tooLarge);
      const tooMany = requestEntriesProblem(outline);
      if (tooMany && this.phase === 'ready') {
        void this.send({ id: outline.id, body: 'error', error: toWireError(tooMany, (l) => this.log(l)) });
        return;
      }
      env = decodeEnvelope(bytes);
    } catch (err) {
      this.hangUp(err as ProtocolError);
      return;
    }
    if (this.phase === 'hello') this.onHello(env);
    else if (this.phase === 'auth') void this.onAuth(env);
    else if (this.phase === 'welcome') this.refuse(env);
    else this.dispatch(env);
  }

  /**
   * AgentHello, once per connection; the board's facts are gathered from then on, for the
   * AuthOk that follows a valid proof (they go to no one else).
   */
  private greet(): void {
    if (this.facts) return;
    void this.send({ id: 0, body: 'agentHello', agentHello: { protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR, agentVersion: this.ctx.agentVersion, nonce: this.agentNonce } });
    this.facts = boardFacts(this.ctx);
    this.facts.catch(() => undefined);
  }

  private onHello(env: Envelope): void {
    if (env.body !== 'clientHello') return this.refuse(env);
    const hello = env.clientHello;
    this.greet();
    if (hello.protocolMajor !== PROTOCOL_MAJOR) {
      this.hangUp(new ConnectError('PROTOCOL_MISMATCH', `axctl ${hello.clientVersion ? peerText(hello.clientVersion) : '?'} speaks protocol ${hello.protocolMajor}, this axagent ${this.ctx.agentVersion} speaks ${PROTOCOL_MAJOR}`, {
        hint: 'install axagent from the same axctl release on the board',
      }));
      return;
    }
    this.phase = 'auth';
    this.log(`hello from axctl ${hello.clientVersion ? peerText(hello.clientVersion) : '?'} (protocol ${hello.protocolMajor}.${hello.protocolMinor})`);
  }

  private async onAuth(env: Envelope): Promise<void> {
    if (env.body !== 'authProof') return this.refuse(env);
    const { clientNonce, proof } = env.authProof;
    const nonce = this.agentNonce;
    const valid = clientNonce.length === NONCE_BYTES && proofMatches(hostProof(this.ctx.secret, nonce, clientNonce), proof);
    if (!valid) {
      this.hangUp(new ConnectError('AUTH_FAILED', "authentication failed: the host's token does not match the agent's", { hint: 'use the same token on the host and the board (axagent --token-file)' }));
      return;
    }
    // Until AuthOk is out, further messages are refused like any before authentication.
    this.phase = 'welcome';
    clearTimeout(this.authTimer);
    const facts = await (this.facts ?? boardFacts(this.ctx)).catch(() => boardFacts(this.ctx));
    if (this.phase !== 'welcome') return;
    await this.send({
      id: 0,
      body: 'authOk',
      authOk: {
        proof: agentProof(this.ctx.secret, clientNonce, nonce),
        facts,
        limits: {
          maxMessageBytes: this.transport.maxMessageBytes,
          chunkBytes: this.maxChunkBytes,
          putWindowBytes: this.opts.putWindowBytes,
          defaultRunTimeoutMs: this.ctx.defaultRunTimeoutMs,
        },
      },
    });
    if (this.phase !== 'welcome') return;
    this.phase = 'ready';
    this.log('authenticated');
  }

  private refuse(env: Envelope): void {
    this.refusals++;
    void this.send({ id: env.id, body: 'error', error: { code: 'NOT_AUTHENTICATED', message: `${env.body ?? 'an unknown request'} refused: the connection is not authenticated`, hint: 'send ClientHello and AuthProof first', exitCode: 5 } });
    if (this.refusals >= this.opts.maxUnauthenticated) {
      this.hangUp(new ConnectError('NOT_AUTHENTICATED', `${this.refusals} requests without authentication; closing`));
    }
  }

  private dispatch(env: Envelope): void {
    switch (env.body) {
      case 'has':
        return this.once(env.id, () => answerHas(this, env.id, env.has));
      case 'facts':
        return this.once(env.id, async () => {
          await this.send({ id: env.id, body: 'factsResult', factsResult: await boardFacts(this.ctx) });
        });
      case 'putBegin':
        return this.begin(env.id, () => new PutOperation(this, env.id, env.putBegin));
      case 'get':
        return this.begin(env.id, () => new GetOperation(this, env.id, env.get));
      case 'run':
        return this.begin(env.id, () => new RunOperation(this, env.id, env.run));
      case 'describeModel':
        return this.begin(env.id, () => new DescribeOperation(this, env.id, env.describeModel));
      case 'putChunk':
      case 'getAck':
        return this.route(env);
      case 'cancel': {
        const target = this.ops.get(env.cancel.targetId);
        target?.cancel();
        void this.send({ id: env.id, body: 'cancelResult', cancelResult: { found: target !== undefined } });
        return;
      }
      case undefined:
        void this.send({ id: env.id, body: 'error', error: { code: 'UNSUPPORTED_REQUEST', message: `request ${env.id} is of a kind this axagent ${this.ctx.agentVersion} does not know`, hint: 'upgrade axagent on the board', exitCode: 5 } });
        return;
      default:
        this.fail(env.id, new ProtocolError('PROTO_UNEXPECTED', `${env.body} is not a request the agent accepts now`));
    }
  }

  /** A one-shot request: answered (or failed) once. */
  private once(id: number, answer: () => Promise<void>): void {
    answer().catch((err) => void this.send({ id, body: 'error', error: toWireError(err, (l) => this.log(l)) }));
  }

  private begin(id: number, create: () => Operation & { start(): Promise<void> }): void {
    if (id === 0 || this.ops.has(id)) {
      const why = id === 0 ? 'request id 0 is reserved for the connection' : `request id ${id} is already in flight`;
      void this.send({ id, body: 'error', error: toWireError(new ProtocolError(id === 0 ? 'PROTO_UNEXPECTED' : 'PROTO_DUPLICATE_ID', why), (l) => this.log(l)) });
      return;
    }
    this.endedIds.delete(id);
    // Each operation may hold buffers (a download's chunk, an upload's window): a host cannot pile them up.
    if (this.ops.size >= MAX_OPERATIONS_PER_SESSION) return this.fail(id, tooManyOperations(this.ops.size));
    const op = create();
    this.ops.set(id, op);
    void op.start();
  }

  private route(env: Envelope): void {
    const op = this.ops.get(env.id);
    if (op) op.onMessage(env);
    else if (!this.endedIds.has(env.id)) this.fail(env.id, new ProtocolError('PROTO_UNEXPECTED', `${env.body} for request ${env.id}, which is not in flight`));
  }

  /** Tells the host why (Error with id 0), then closes. */
  private hangUp(error: AxError): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.authTimer);
    this.log(`closing: ${error.code}: ${error.message}`);
    void this.send({ id: 0, body: 'error', error: toWireError(error, (l) => this.log(l)) }).then(() => this.transport.close());
  }

  private onClose(info: CloseInfo): CloseInfo {
    this.phase = 'closed';
    clearTimeout(this.authTimer);
    for (const op of [...this.ops.values()]) op.cancel();
    this.ops.clear();
    this.log(`closed (${info.reason}${info.error ? `: ${info.error.code}: ${info.error.message}` : ''})`);
    return info;
  }
}
