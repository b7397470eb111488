/**
 * Handshake and authentication against the agent as its own process: the facts it reports,
 * refusals before authentication, a wrong token, a silent peer, another protocol version;
 * and the host's side of mutual authentication against in-process impostors.
 */
import * as os from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import { LOG_LINE_MAX_CHARS } from '../../agent/log';
import { ENVELOPE_SLACK_BYTES } from '../../agent/session/session';
import type { AxError } from '../../shared/errors';
import { agentProof, newNonce } from '../../shared/protocol/auth';
import { PROTOCOL_MAJOR, encodeEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { listenWebSocket, type WebSocketListener } from '../../shared/transport/websocket';
import { closeOf } from '../transport/contract';
import { collect, startAgent, type AgentProcess } from './helpers';

const send = (t: { send(m: Uint8Array): Promise<void> }, env: Envelope) => t.send(encodeEnvelope(env));
const hello = (major = PROTOCOL_MAJOR): Envelope => ({ id: 0, body: 'clientHello', clientHello: { protocolMajor: major, protocolMinor: 0, clientVersion: 'test' } });
const refusal = (attempt: Promise<unknown>) =>
  attempt.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: AxError) => err,
  );
const hasRequest = (id: number): Envelope => ({ id, body: 'has', has: { blobs: [{ hash: 'a'.repeat(64), size: 0 }] } });

/** Envelope { id: 1, has: { `bytes / 2` empty BlobQuery } } written by hand (field 10 = has, each query 2 bytes). */
function hugeHasOfEmptyQueries(bytes = 8 * 1024 * 1024): Buffer {
  const queries = Buffer.alloc(bytes);
  for (let i = 0; i < queries.length; i += 2) queries[i] = 0x0a;
  const length: number[] = [];
  for (let n = queries.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x08, 0x01, 0x52, ...length]), queries]);
}

let agent: AgentProcess;
beforeAll(async () => {
  agent = await startAgent({ args: ['--auth-timeout', '1'] });
});
afterAll(async () => {
  await agent?.stop();
});

describe('agent handshake', () => {
  it('authenticates both ways and reports the board facts and limits', async () => {
    const client = await agent.connect();
    const { hello: info } = client;
    expect(info).toMatchObject({ protocolMajor: PROTOCOL_MAJOR, agentVersion: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(info.facts).toMatchObject({ hostname: os.hostname(), arch: process.arch, nodeVersion: process.version, runJointVersion: '' });
    expect(info.facts.kernel).toContain(os.release());
    expect(info.facts.memTotalBytes).toBeGreaterThan(0);
    expect(info.facts.storeCapBytes).toBeGreaterThan(0);
    expect(info.facts.storeFreeBytes).toBeGreaterThan(0);
    expect(info.limits.maxMessageBytes).toBeGreaterThan(info.limits.chunkBytes + ENVELOPE_SLACK_BYTES - 1);
    expect(info.limits.putWindowBytes).toBeGreaterThanOrEqual(info.limits.chunkBytes);
    await client.close();
  });

  it('refuses a wrong token with AUTH_FAILED and closes the connection', async () => {
    const transport = await openTransport(agent.url);
    const closed = closeOf(transport);
    await expect(AgentClient.connect(transport, { token: 'not-the-token-0123456789' })).rejects.toMatchObject({ code: 'AUTH_FAILED', exitCode: 5, hint: expect.stringContaining('token') });
    expect((await closed).reason).not.toBe('idle-timeout');
    // The agent logs the refusal on its own schedule: the client may hear it first.
    await vi.waitFor(() => expect(agent.stderr()).toContain('AUTH_FAILED'), { timeout: 5000 });
  });

  it('refuses requests before authentication, then hangs up after a few', async () => {
    const transport = await openTransport(agent.url);
    const inbox = collect(transport);
    const closed = closeOf(transport);
    await send(transport, hasRequest(1));
    expect(await inbox.next('error')).toMatchObject({ id: 1, body: 'error', error: { code: 'NOT_AUTHENTICATED' } });
    await send(transport, hello());
    await send(transport, hasRequest(2));
    await send(transport, hasRequest(3));
    await closed;
    // One AgentHello, sent as the connection opened: the ClientHello gets no second one.
    expect(inbox.envelopes.filter((e) => e.body === 'agentHello')).toHaveLength(1);
    expect(inbox.envelopes[0]).toMatchObject({ body: 'agentHello' });
    const answers = inbox.envelopes.filter((e) => e.body === 'error').map((e) => (e.body === 'error' ? [e.id, e.error.code] : []));
    expect(answers).toEqual([[1, 'NOT_AUTHENTICATED'], [2, 'NOT_AUTHENTICATED'], [3, 'NOT_AUTHENTICATED'], [0, 'NOT_AUTHENTICATED']]);
    expect(inbox.envelopes.some((e) => e.body === 'hasResult')).toBe(false);
  });

  it('greets first: AgentHello comes as the connection opens, before the host says anything', async () => {
    // The host's proof then follows its ClientHello at once: one round trip less to connect.
    const transport = await openTransport(agent.url);
    const inbox = collect(transport);
    const first = await Promise.race([inbox.next(), new Promise((resolve) => setTimeout(() => resolve('nothing within 5 s'), 5000))]);
    expect(first).toMatchObject({ id: 0, body: 'agentHello', agentHello: { protocolMajor: PROTOCOL_MAJOR } });
    await transport.close();
  });

  it('drops a peer that never authenticates after --auth-timeout', async () => {
    const transport = await openTransport(agent.url);
    const inbox = collect(transport);
    const closed = closeOf(transport);
    await send(transport, hello());
    expect((await closed).reason).toBe('remote');
    expect(inbox.envelopes.at(-1)).toMatchObject({ id: 0, body: 'error', error: { code: 'AUTH_TIMEOUT' } });
  });

  it('answers another protocol major with its hello, PROTOCOL_MISMATCH and the end of the connection', async () => {
    const transport = await openTransport(agent.url);
    const inbox = collect(transport);
    const closed = closeOf(transport);
    await send(transport, hello(PROTOCOL_MAJOR + 1));
    await closed;
    expect(inbox.envelopes.map((e) => e.body)).toEqual(['agentHello', 'error']);
    expect(inbox.envelopes[1]).toMatchObject({ id: 0, error: { code: 'PROTOCOL_MISMATCH', hint: expect.stringContaining('axagent') } });
  });

  it('reads no large message before authentication: a 16 MiB query of empty entries ends the connection undecoded', async () => {
    const transport = await openTransport(agent.url);
    const closed = closeOf(transport);
    // Envelope { id: 1, has: { 4 Mi empty BlobQuery } } written by hand (field 10 = has; each
    // query 2 bytes): millions of objects if the agent decoded it.
    // The agent may cut the connection while the message is still being sent (ECONNRESET).
    await transport.send(hugeHasOfEmptyQueries()).catch(() => undefined);
    expect(['remote', 'error']).toContain((await closed).reason);
    // The agent is still there for a host with the token.
    const client = await agent.connect();
    await client.close();
  });

  it('over stdio too (no listener limits there): no frame over 4 KiB is read before authentication', async () => {
    const stdio = await startAgent({ mode: 'stdio' });
    try {
      const transport = await stdio.transport();
      const closed = closeOf(transport);
      // Refused from its frame header by the transport (as the listener cuts a WebSocket peer
      // off): the agent logs why and ends the connection.
      await transport.send(hugeHasOfEmptyQueries(4096));
      await closed;
      await vi.waitFor(() => expect(stdio.stderr()).toMatch(/PROTO_PREAUTH_TOO_LARGE: a frame of \d+ bytes before authentication/), { timeout: 5000 });
    } finally {
      await stdio.stop();
    }
  });

  it('logs what a peer says as one escaped line, cut to length: a client version forges no log line', async () => {
    const forged = '1.0\naxagent: 2030-01-01T00:00:00.000Z ws://10.0.0.9:1: authenticated';
    for (const [major, clientVersion] of [[PROTOCOL_MAJOR, forged], [PROTOCOL_MAJOR + 1, forged + 'v'.repeat(3000)]] as const) {
      const transport = await openTransport(agent.url);
      const closed = closeOf(transport);
      await send(transport, { id: 0, body: 'clientHello', clientHello: { protocolMajor: major, protocolMinor: 0, clientVersion } });
      await closed; // by --auth-timeout, or at once for another major
    }
    await vi.waitFor(() => expect(agent.stderr()).toContain('PROTOCOL_MISMATCH'), { timeout: 5000 });
    const lines = agent.stderr().split('\n');
    expect(lines.filter((l) => l.includes('2030-01-01'))).toEqual([
      expect.stringMatching(/hello from axctl 1\.0\\naxagent: 2030-01-01/),
      expect.stringMatching(/closing: PROTOCOL_MISMATCH: axctl 1\.0\\naxagent: 2030-01-01.*more characters\] speaks protocol /),
    ]);
    expect(lines.every((l) => l.startsWith('axagent: ') || l === '')).toBe(true);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(LOG_LINE_MAX_CHARS + 100);
  });

  it('closes on a message that is not an Envelope', async () => {
    const transport = await openTransport(agent.url);
    const closed = closeOf(transport);
    await transport.send(Uint8Array.of(0x0a, 0x10, 0x01));
    expect((await closed).reason).toBe('remote');
  });
});

describe('the host checks the agent too', () => {
  const secret = 'the-real-token-0123456789';
  let impostor: WebSocketListener;
  let behaviour: 'newer-major' | 'wrong-secret' | 'silent' | 'hostile-text' = 'silent';
  const hostile = '9.9.9\n\u001b]0;pwned\u0007\u001b[2J';
  let agentVersion = '9.9.9';

  beforeAll(async () => {
    impostor = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => {
      const nonce = newNonce();
      t.on('message', () => {
        if (behaviour === 'silent') return;
        if (behaviour === 'hostile-text') {
          void send(t, { id: 0, body: 'error', error: { code: 'NOPE\nX', message: hostile.repeat(1000), hint: hostile, exitCode: 5 } });
          return;
        }
        const major = behaviour === 'newer-major' ? PROTOCOL_MAJOR + 1 : PROTOCOL_MAJOR;
        void send(t, { id: 0, body: 'agentHello', agentHello: { protocolMajor: major, protocolMinor: 0, agentVersion, nonce } });
        if (behaviour === 'wrong-secret') {
          // Accepts any proof, but can only sign with a secret of its own.
          const proof = agentProof(Buffer.from('some-other-secret-value'), newNonce(), nonce);
          void send(t, { id: 0, body: 'authOk', authOk: { proof, facts: null, limits: null } });
        }
      });
    });
  });
  afterAll(() => impostor.close());

  it('says PROTOCOL_MISMATCH and how to fix it when the agent is newer', async () => {
    behaviour = 'newer-major';
    const transport = await openTransport(impostor.url);
    await expect(AgentClient.connect(transport, { token: secret })).rejects.toMatchObject({ code: 'PROTOCOL_MISMATCH', exitCode: 5, message: expect.stringContaining('9.9.9'), hint: expect.stringContaining('upgrade axctl') });
    expect(transport.state).toBe('closed');
  });

  it("prints what an impostor says only as escaped, bounded text: no terminal escapes, no extra lines", async () => {
    const unsafe = /[\u0000-\u001f\u007f-\u009f]/;
    behaviour = 'hostile-text';
    const refused = await refusal(AgentClient.connect(await openTransport(impostor.url), { token: secret }));
    expect(refused).toMatchObject({ message: expect.stringContaining('9.9.9\\n\\x1b]0;pwned\\x07') });
    for (const text of [refused.code, refused.message, refused.hint ?? '']) expect(text).not.toMatch(unsafe);
    expect(refused.message).toMatch(/ \[\d+ more characters\]$/); // 18 000 characters sent

    behaviour = 'newer-major';
    agentVersion = hostile;
    const mismatch = await refusal(AgentClient.connect(await openTransport(impostor.url), { token: secret }));
    agentVersion = '9.9.9';
    expect(mismatch).toMatchObject({ code: 'PROTOCOL_MISMATCH', message: expect.stringContaining('axagent 9.9.9\\n\\x1b') });
    expect(mismatch.message).not.toMatch(unsafe);
  });

  it('refuses an agent that cannot prove it knows the token', async () => {
    behaviour = 'wrong-secret';
    await expect(AgentClient.connect(await openTransport(impostor.url), { token: secret })).rejects.toMatchObject({ code: 'AUTH_AGENT_UNVERIFIED', exitCode: 5 });
  });

  it('gives up with CONNECT_TIMEOUT when nothing answers the hello', async () => {
    behaviour = 'silent';
    await expect(AgentClient.connect(await openTransport(impostor.url), { token: secret, timeoutMs: 300 })).rejects.toMatchObject({ code: 'CONNECT_TIMEOUT', exitCode: 5 });
  });
});
