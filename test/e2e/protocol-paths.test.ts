/**
 * What a hostile host can send, at the protocol level: a raw client (the handshake, then
 * envelopes built by hand, none of the client's own checks) puts `../` and absolute paths in
 * every field of every request that could reach the board's file system. Each is refused
 * with an Error, nothing appears outside the store, and the agent keeps serving. A wrong token
 * never gets past the handshake.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Channel } from '../../host/client/channel';
import { openTransport } from '../../host/client/connect';
import { handshake } from '../../host/client/handshake';
import type { AxError } from '../../shared/errors';
import type { Envelope } from '../../shared/protocol/envelope';
import { Cleanup, requireBuild, startAgent, tempDir, type Agent } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

async function rawSession(agent: Agent, secret: string = agent.token) {
  const channel = new Channel(await openTransport(agent.url), 10_000);
  cleanup.add(() => channel.transport.destroy());
  await handshake(channel, { secret: Buffer.from(secret), clientVersion: 'hostile-test', timeoutMs: 10_000 });
  /** Sends one envelope; resolves with the first answer, an Error envelope included. */
  const request = (build: (id: number) => Envelope): Promise<Envelope> =>
    new Promise((resolve) => {
      const call = channel.open('raw request', {
        onEnvelope: (env) => {
          call.close();
          resolve(env);
        },
        onError: (err: AxError) => resolve({ id: call.id, body: 'error', error: { code: err.code, message: err.message, hint: err.hint ?? '', exitCode: err.exitCode } }),
      });
      void channel.send(build(call.id));
    });
  return { channel, request };
}

const GOOD_HASH = createHash('sha256').update('nothing').digest('hex');

describe('paths in requests', () => {
  it('refuses ../ and absolute paths in every request, and keeps serving', async () => {
    const agent = await startAgent(cleanup);
    const outside = await tempDir(cleanup);
    const target = path.join(outside, 'written-by-agent');
    const rel = path.relative(agent.storeDir, target);
    const hostile = ['../../etc/passwd', '/etc/passwd', target, rel, `${'0'.repeat(62)}/..`, '..'];
    const { request } = await rawSession(agent);

    const cases: [string, (id: number, bad: string) => Envelope, string][] = [
      ['has', (id, bad) => ({ id, body: 'has', has: { blobs: [{ hash: bad, size: 4 }] } }), 'BAD_HASH'],
      ['putBegin', (id, bad) => ({ id, body: 'putBegin', putBegin: { hash: bad, size: 4 } }), 'BAD_HASH'],
      ['get', (id, bad) => ({ id, body: 'get', get: { hash: bad, offset: 0, length: 0, chunkBytes: 0, windowBytes: 0 } }), 'BAD_HASH'],
      ['run model', (id, bad) => ({ id, body: 'run', run: { modelHash: bad, inputs: [], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [], inlineOutputBytes: 0 } }), 'BAD_HASH'],
      ['run input hash', (id, bad) => ({ id, body: 'run', run: { modelHash: GOOD_HASH, inputs: [{ name: 'data', hash: bad }], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [], inlineOutputBytes: 0 } }), 'BAD_HASH'],
      ['run input name', (id, bad) => ({ id, body: 'run', run: { modelHash: GOOD_HASH, inputs: [{ name: bad, hash: GOOD_HASH }], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [], inlineOutputBytes: 0 } }), 'BAD_TENSOR_NAME'],
      ['run --data', (id, bad) => ({ id, body: 'run', run: { modelHash: GOOD_HASH, inputs: [], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: ['--data', bad], inlineOutputBytes: 0 } }), 'OPTION_NOT_ALLOWED'],
      ['run --bin-out-dir=', (id, bad) => ({ id, body: 'run', run: { modelHash: GOOD_HASH, inputs: [], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [`--bin-out-dir=${bad}`], inlineOutputBytes: 0 } }), 'OPTION_NOT_ALLOWED'],
      ['run as a path option value', (id, bad) => ({ id, body: 'run', run: { modelHash: GOOD_HASH, inputs: [], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: ['--mode', bad], inlineOutputBytes: 0 } }), 'OPTION_BAD_VALUE'],
      ['run as a positional', (id, bad) => ({ id, body: 'run', run: { modelHash: GOOD_HASH, inputs: [], repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [bad], inlineOutputBytes: 0 } }), 'OPTION_NOT_ALLOWED'],
    ];
    for (const [what, build, code] of cases) {
      for (const bad of hostile) {
        const answer = await request((id) => build(id, bad));
        expect(answer.body, `${what} with ${bad}`).toBe('error');
        expect(answer.body === 'error' && answer.error.code, `${what} with ${bad}`).toBe(code);
      }
    }
    expect(existsSync(target)).toBe(false);
    expect(await fsp.readdir(outside)).toEqual([]);
    // Still serving on the same connection.
    const ok = await request((id) => ({ id, body: 'has', has: { blobs: [{ hash: GOOD_HASH, size: 0 }] } }));
    expect(ok.body).toBe('hasResult');
  });

  it('refuses a wrong token in the handshake, before any request', async () => {
    const agent = await startAgent(cleanup);
    const err = await rawSession(agent, 'a-wrong-token-of-enough-length').then(
      () => null,
      (e: AxError) => e,
    );
    expect(err?.code).toBe('AUTH_FAILED');
    expect(err?.exitCode).toBe(5);
  });
});
