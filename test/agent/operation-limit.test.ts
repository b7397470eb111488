/**
 * The agent's limit on operations in flight on one connection (agent/session/operation-limit.ts):
 * a host that starts downloads and never acknowledges them cannot pile up the agent's memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_OPERATIONS_PER_SESSION } from '../../agent/session/operation-limit';
import type { Envelope } from '../../shared/protocol/envelope';
import { rawSession, sha256, startAgent, type AgentProcess } from './helpers';

const MB = 1024 * 1024;
const agents: AgentProcess[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

describe('operations in flight on one connection', () => {
  it(`are at most ${MAX_OPERATIONS_PER_SESSION}: one more is refused (TOO_MANY_OPERATIONS), the connection goes on`, async () => {
    const agent = await startAgent();
    agents.push(agent);
    const data = Buffer.alloc(3 * MB, 7);
    const client = await agent.connect();
    await client.putBytes(data, sha256(data));
    await client.close();

    const raw = await rawSession(agent);
    /** Starts a request and resolves with its first answer; the call stays open for the rest. */
    const start = (build: (id: number) => Envelope) =>
      new Promise<{ id: number; first: Envelope }>((resolve) => {
        const call = raw.channel.open('raw', {
          onEnvelope: (env) => resolve({ id: call.id, first: env }),
          onError: (err) => resolve({ id: call.id, first: { id: call.id, body: 'error', error: { code: err.code, message: err.message, hint: '', exitCode: err.exitCode } } }),
        });
        void raw.channel.send(build(call.id));
      });
    // Downloads that are never acknowledged: each holds a chunk and waits.
    const get = () => start((id) => ({ id, body: 'get', get: { hash: sha256(data), offset: 0, length: 0, chunkBytes: MB, windowBytes: MB } }));
    const held: Array<{ id: number; first: Envelope }> = [];
    for (let i = 0; i < MAX_OPERATIONS_PER_SESSION; i++) held.push(await get());
    expect(held.map((h) => h.first.body)).toEqual(Array(MAX_OPERATIONS_PER_SESSION).fill('getChunk'));

    expect((await get()).first).toMatchObject({ body: 'error', error: { code: 'TOO_MANY_OPERATIONS', exitCode: 5 } });
    // One-shot requests are not operations: still answered.
    expect((await start((id) => ({ id, body: 'has', has: { blobs: [{ hash: sha256(data), size: 0 }] } }))).first).toMatchObject({ body: 'hasResult' });

    // One ends: there is room for one more.
    expect((await start((id) => ({ id, body: 'cancel', cancel: { targetId: held[0]!.id } }))).first).toMatchObject({ body: 'cancelResult', cancelResult: { found: true } });
    expect((await get()).first).toMatchObject({ body: 'getChunk' });
    expect((await get()).first).toMatchObject({ body: 'error', error: { code: 'TOO_MANY_OPERATIONS' } });
    await raw.channel.transport.close();
  });
});
