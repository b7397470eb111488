import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../shared/protocol/errors';
import { decodeEnvelope, encodeEnvelope, isConnectionEnvelope, outlineEnvelope, type Envelope } from '../../shared/protocol/envelope';

const roundTrip = (env: Envelope) => decodeEnvelope(encodeEnvelope(env));

describe('Envelope codec', () => {
  it('round-trips a chunk with a 64-bit offset as a plain number and the data as bytes', () => {
    const env = roundTrip({ id: 4_000_000_000, body: 'putChunk', putChunk: { offset: 2 ** 40 + 3, data: Uint8Array.of(1, 2, 3) } });
    expect(env.id).toBe(4_000_000_000);
    expect(env.body).toBe('putChunk');
    if (env.body !== 'putChunk') throw new Error('unreachable');
    expect(env.putChunk.offset).toBe(2 ** 40 + 3);
    expect([...env.putChunk.data]).toEqual([1, 2, 3]);
  });

  it('fills proto3 defaults and names enums and oneof members', () => {
    const env = roundTrip({
      id: 9,
      body: 'runResult',
      runResult: { status: 'RUN_STATUS_FAILED', ended: 'signal', signal: 'SIGABRT', timedOut: false, cancelled: false, log: '', stderr: '', parsedLogJson: '{}', outputs: [], problems: [{ code: 'RUN_ASSERTION', message: 'x' }], durationMs: 0 },
    });
    if (env.body !== 'runResult') throw new Error('unreachable');
    expect(env.runResult).toMatchObject({ status: 'RUN_STATUS_FAILED', ended: 'signal', signal: 'SIGABRT', timedOut: false, outputs: [], durationMs: 0 });
    expect(env.runResult.problems).toEqual([{ code: 'RUN_ASSERTION', message: 'x' }]);
  });

  it('keeps a oneof member set to its zero value (queue position 0 = started)', () => {
    const env = roundTrip({ id: 1, body: 'runEvent', runEvent: { event: 'queuePosition', queuePosition: 0 } });
    expect(env).toMatchObject({ body: 'runEvent', runEvent: { event: 'queuePosition', queuePosition: 0 } });
  });

  it('decodes a message field that was not sent as null', () => {
    const env = roundTrip({ id: 0, body: 'authOk', authOk: { proof: new Uint8Array(32), facts: null, limits: null } });
    expect(env).toMatchObject({ body: 'authOk', authOk: { facts: null, limits: null } });
  });

  it('leaves the body undefined for a body a newer peer added (field 99)', () => {
    // id = 5 (field 1 varint), then field 99, wire type 2, length 0.
    const bytes = Uint8Array.of(0x08, 0x05, 0x9a, 0x06, 0x00);
    const env = decodeEnvelope(bytes);
    expect(env.id).toBe(5);
    expect(env.body).toBeUndefined();
  });

  it('turns undecodable bytes into PROTO_BAD_MESSAGE', () => {
    expect(() => decodeEnvelope(Uint8Array.of(0x08))).toThrow(ProtocolError);
    // Field 1 with wire type 2 (length 16) where a varint id belongs, cut short.
    expect(() => decodeEnvelope(Uint8Array.of(0x0a, 0x10, 0x01))).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE', exitCode: 5 }));
  });
});

describe('isConnectionEnvelope', () => {
  it('picks out the envelopes of id 0 from their first bytes, whatever the body', () => {
    const error = (id: number): Envelope => ({ id, body: 'error', error: { code: 'AUTH_TIMEOUT', message: 'm', hint: '', exitCode: 5 } });
    const chunk = (id: number): Envelope => ({ id, body: 'getChunk', getChunk: { offset: 0, data: new Uint8Array(100), last: true, blobSize: 100 } });
    const put = (id: number): Envelope => ({ id, body: 'putChunk', putChunk: { offset: 5, data: new Uint8Array(3) } });
    for (const id of [0, 1, 127, 128, 300, 2 ** 32 - 1]) {
      for (const env of [error(id), chunk(id), put(id), { id, body: 'facts', facts: {} } as Envelope]) {
        expect(isConnectionEnvelope(encodeEnvelope(env))).toBe(id === 0);
      }
    }
    expect(isConnectionEnvelope(encodeEnvelope({ id: 0, body: 'authOk', authOk: { proof: new Uint8Array(32), facts: null, limits: null } }))).toBe(true);
  });
});

describe('outlineEnvelope', () => {
  const hash = 'a'.repeat(64);
  it('reads the id, the body and the entries of its repeated fields without decoding', () => {
    const has = outlineEnvelope(encodeEnvelope({ id: 300, body: 'has', has: { blobs: [{ hash, size: 1 }, { hash, size: 0 }, { hash, size: 2 }] } }));
    expect(has).toEqual({ id: 300, body: 'has', entries: new Map([['blobs', 3]]) });
    const run = outlineEnvelope(encodeEnvelope({ id: 1, body: 'run', run: { modelHash: hash, inputs: [{ name: 'in', hash }], repeat: 1, warmup: 0, timeoutMs: 0, extraArgs: ['--mode', 'x'], inlineOutputBytes: 0 } }));
    expect(run.entries).toEqual(new Map([['inputs', 1], ['extraArgs', 2]]));
    const chunk = outlineEnvelope(encodeEnvelope({ id: 2, body: 'putChunk', putChunk: { offset: 5, data: new Uint8Array(1000) } }));
    expect(chunk).toEqual({ id: 2, body: 'putChunk', entries: new Map() });
  });

  it('leaves a body this side does not know undefined, as the decoder does', () => {
    expect(outlineEnvelope(Uint8Array.of(0x08, 0x05, 0x9a, 0x06, 0x00))).toEqual({ id: 5, body: undefined, entries: new Map() });
  });

  it('refuses a known field under another wire type, which protobufjs would decode all the same', () => {
    // Each hides a has of 3 empty queries from a reader that skips by wire type.
    const queries = [0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00];
    const hidden = [
      Uint8Array.of(0x0a, 8, 0x52, 6, ...queries), // the id as bytes, holding a has body
      Uint8Array.of(0x08, 0x07, 0x50, 6, ...queries), // the has body tagged as a varint
      Uint8Array.of(0x08, 0x07, 0x72, 0x00, 0x50, 6, ...queries), // an empty putChunk, then the has as a varint
      Uint8Array.of(0x08, 0x07, 0x52, 6, 0x08, 0x00, 0x08, 0x00, 0x08, 0x00), // has.blobs entries tagged as varints
    ];
    for (const bad of hidden) expect(() => outlineEnvelope(bad), Buffer.from(bad).toString('hex')).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
  });

  it('refuses two bodies, a cut-short body and the id field as a body with PROTO_BAD_MESSAGE', () => {
    const facts = encodeEnvelope({ id: 3, body: 'facts', facts: {} });
    const has = encodeEnvelope({ id: 3, body: 'has', has: { blobs: [{ hash, size: 0 }] } });
    for (const bad of [Uint8Array.from([...facts, ...has.subarray(2)]), has.subarray(0, has.length - 1), Uint8Array.of(0x0a, 0x10, 0x01)]) {
      expect(() => outlineEnvelope(bad)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    }
  });
});
