/**
 * joinTransports: what arrives on one transport is sent on the other, both ways, and closing
 * one closes the other.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { joinTransports } from '../../agent/join-transports';
import { StreamTransport } from '../../shared/transport/stream';

/** Two transports talking to each other over in-memory pipes. */
function pair(): [StreamTransport, StreamTransport] {
  const there = new PassThrough();
  const back = new PassThrough();
  return [new StreamTransport(back, there, { peer: 'near' }), new StreamTransport(there, back, { peer: 'far' })];
}

const next = (t: StreamTransport) => new Promise<Uint8Array>((resolve) => t.once('message', resolve));

describe('joinTransports', () => {
  it('forwards messages both ways, and closes the other side when one closes', async () => {
    const [host, hostSide] = pair();
    const [ownerSide, owner] = pair();
    const joined = joinTransports(hostSide, ownerSide);
    const toOwner = next(owner);
    await host.send(new Uint8Array([1, 2, 3]));
    expect([...(await toOwner)]).toEqual([1, 2, 3]);
    const toHost = next(host);
    await owner.send(new Uint8Array(1000).fill(7));
    expect((await toHost).length).toBe(1000);
    const ownerClosed = new Promise<void>((resolve) => owner.once('close', () => resolve()));
    await host.close();
    await joined;
    await ownerClosed;
    expect(owner.state).toBe('closed');
  });
});
