/**
 * The host's half of the handshake: ClientHello → AgentHello (version check) → AuthProof →
 * AuthOk, whose proof the host checks so an agent without the secret is never trusted.
 * Everything happens under id 0 and within one deadline.
 */
import { ConnectError, type AxError } from '../../shared/errors';
import { peerText } from '../../shared/peer-text';
import { agentProof, hostProof, newNonce, proofMatches } from '../../shared/protocol/auth';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, type BoardFacts, type Envelope, type Limits } from '../../shared/protocol/envelope';
import { ProtocolError } from '../../shared/protocol/errors';
import type { Channel } from './channel';
import { AgentError } from './errors';

/** What the host knows about the agent after connecting. */
export interface AgentInfo {
  /** The transport's peer, e.g. ws://10.0.0.2:7007. */
  peer: string;
  protocolMajor: number;
  protocolMinor: number;
  agentVersion: string;
  facts: BoardFacts;
  limits: Limits;
}

export interface HandshakeOptions {
  secret: Uint8Array;
  clientVersion: string;
  timeoutMs: number;
  /** Gives the handshake up at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

export function handshake(channel: Channel, opts: HandshakeOptions): Promise<AgentInfo> {
  const peer = channel.peer;
  const clientNonce = newNonce();
  let agentNonce: Uint8Array | null = null;
  let agent: { major: number; minor: number; version: string } | null = null;

  return new Promise<AgentInfo>((resolve, reject) => {
    let settled = false;
    /** `err`: an AxError, or the abort signal's reason. */
    const settle = (err: unknown, info?: AgentInfo) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      channel.setConnectionHandler(null);
      if (err !== null) {
        channel.transport.destroy();
        reject(err);
      } else resolve(info!);
    };
    const onAbort = () => settle(opts.signal!.reason);
    /**
     * A send refused because the link is gone only says "closed": channel.closed (above) says
     * why (the bytes the peer sent, the agent command's exit status and output), and must win.
     */
    const sendFailed = (err: AxError) => {
      if (channel.transport.state === 'open') settle(err);
    };
    const timer = setTimeout(() => {
      settle(new ConnectError('CONNECT_TIMEOUT', `${peer}: no complete handshake within ${opts.timeoutMs} ms`, {
        hint: 'is an axagent listening there, and is the board responsive?',
      }));
    }, opts.timeoutMs);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    void channel.closed.then((info) => {
      if (channel.failure instanceof AgentError) settle(mapAgentError(channel.failure));
      // Bytes that are no frames, or the link's own account of why it failed (an SSH agent
      // command that exited, with its status and output): that is the error, as it is.
      else if (info.error instanceof ProtocolError || (info.reason === 'error' && info.error)) settle(info.error);
      else {
        settle(new ConnectError('CONNECT_CLOSED', `${peer} closed the connection during the handshake${info.error ? `: ${info.error.message}` : ''}`, {
          hint: "is it an axagent of this axctl release? see the agent's log",
        }));
      }
    });

    channel.setConnectionHandler((env: Envelope) => {
      try {
        if (env.body === 'error') {
          settle(mapAgentError(channel.failure!));
        } else if (env.body === 'agentHello' && !agent) {
          const hello = env.agentHello;
          agent = { major: hello.protocolMajor, minor: hello.protocolMinor, version: hello.agentVersion };
          if (hello.protocolMajor !== PROTOCOL_MAJOR) {
            settle(protocolMismatch(peer, agent, opts.clientVersion));
            return;
          }
          agentNonce = hello.nonce;
          void channel
            .send({ id: 0, body: 'authProof', authProof: { clientNonce, proof: hostProof(opts.secret, hello.nonce, clientNonce) } })
            .catch((err: AxError) => sendFailed(err));
        } else if (env.body === 'authOk' && agent && agentNonce) {
          const ok = env.authOk;
          if (!proofMatches(agentProof(opts.secret, clientNonce, agentNonce), ok.proof)) {
            settle(new ConnectError('AUTH_AGENT_UNVERIFIED', `${peer} accepted the connection but could not prove it knows the token`, {
              hint: 'this is not the agent you configured (or it has another token); check the address',
            }));
            return;
          }
          if (!ok.facts || !ok.limits) throw new ProtocolError('PROTO_BAD_MESSAGE', `${peer} sent AuthOk without board facts or limits`);
          channel.agentVerified();
          settle(null, { peer, protocolMajor: agent.major, protocolMinor: agent.minor, agentVersion: agent.version, facts: ok.facts, limits: ok.limits });
        } else {
          throw new ProtocolError('PROTO_UNEXPECTED', `${peer} sent ${env.body ?? 'an unknown message'} during the handshake`);
        }
      } catch (err) {
        settle(err as AxError);
      }
    });

    void channel
      .send({ id: 0, body: 'clientHello', clientHello: { protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR, clientVersion: opts.clientVersion } })
      .catch((err: AxError) => sendFailed(err));
  });
}

function protocolMismatch(peer: string, agent: { major: number; version: string }, clientVersion: string): ConnectError {
  const newer = agent.major > PROTOCOL_MAJOR;
  return new ConnectError('PROTOCOL_MISMATCH', `${peer} runs axagent ${agent.version ? peerText(agent.version) : '?'} (protocol ${agent.major}); this axctl ${clientVersion} speaks protocol ${PROTOCOL_MAJOR}`, {
    hint: newer
      ? 'upgrade axctl on this host to the release of the board\'s axagent'
      : `upgrade the agent: axctl agent install --board ${peer.startsWith('ssh://') ? peer : 'ssh://USER@BOARD'} (or copy dist/axagent.js of this axctl release to the board and restart it)`,
  });
}

/** The agent's own refusals, as the connect errors the CLI documents. */
function mapAgentError(err: AxError): AxError {
  if (err.code === 'AUTH_FAILED') {
    return new ConnectError('AUTH_FAILED', err.message, { hint: err.hint ?? 'use the same token on the host and the board' });
  }
  if (err.code === 'PROTOCOL_MISMATCH') return new ConnectError('PROTOCOL_MISMATCH', err.message, { hint: err.hint ?? '' });
  return err;
}
