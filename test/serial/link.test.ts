import { describe, expect, it } from 'vitest';
import { cobsFrame } from '../../shared/serial/cobs';
import { encodeFrame, LINK_VERSION } from '../../shared/serial/frame';
import { ReliableLink } from '../../shared/serial/link';
import { SimLine, VirtualClock, concat, pattern, type SimEndpoint } from './sim';

function transfer(line: SimLine, aToB: Uint8Array, bToA: Uint8Array, limitMs = 600_000): void {
  line.start();
  line.clock.run(() => line.a.link.established && line.b.link.established, 20_000);
  for (let at = 0; at < aToB.length; at += 10_000) line.a.link.write(aToB.subarray(at, at + 10_000));
  for (let at = 0; at < bToA.length; at += 7_000) line.b.link.write(bToA.subarray(at, at + 7_000));
  line.a.link.end();
  line.clock.run(() => line.a.closed && line.b.closed, limitMs);
}

function expectIntact(end: SimEndpoint, sent: Uint8Array): void {
  const got = concat(end.received);
  expect(got.length).toBe(sent.length);
  expect(Buffer.compare(Buffer.from(got), Buffer.from(sent))).toBe(0);
  expect(end.ended).toBe(true);
  expect(end.closeError).toBeUndefined();
}

describe('ReliableLink over a simulated line', () => {
  it('hands over both directions on a clean line without resending anything', () => {
    const line = new SimLine({});
    const up = pattern(300_000, 1);
    const down = pattern(120_000, 2);
    transfer(line, up, down);
    expectIntact(line.b, up);
    expectIntact(line.a, down);
    expect(line.a.link.stats.framesResent).toBe(0);
    expect(line.b.link.stats.framesResent).toBe(0);
    expect(line.a.link.stats.badFrames).toBe(0);
  });

  it('delivers exactly once, in order, through drops, bit flips, duplicates and noise', () => {
    const faults = { drop: 0.05, flip: 0.05, duplicate: 0.05, garbage: 0.05 };
    const line = new SimLine({ ab: faults, ba: faults, seed: 7 });
    const up = pattern(200_000, 3);
    const down = pattern(50_000, 4);
    transfer(line, up, down);
    expectIntact(line.b, up);
    expectIntact(line.a, down);
    expect(line.a.link.stats.framesResent).toBeGreaterThan(0);
    expect(line.b.link.stats.badFrames).toBeGreaterThan(0);
    expect(line.b.link.stats.duplicates).toBeGreaterThan(0);
  });

  it('reports a cut as down, then up, and resumes where it stopped', () => {
    const cut: [number, number][] = [[1_000, 5_000]];
    const line = new SimLine({ ab: { cuts: cut }, ba: { cuts: cut } });
    const events: string[] = [];
    line.a.link.on('down', () => events.push('down'));
    line.a.link.on('up', () => events.push('up'));
    const up = pattern(400_000, 5);
    transfer(line, up, new Uint8Array(0));
    expectIntact(line.b, up);
    expect(events).toEqual(['down', 'up']);
  });

  it('gives up with SERIAL_LINK_LOST when the line stays dead past giveUpAfterMs', () => {
    const line = new SimLine({ ab: { cuts: [[500, 1e9]] }, ba: { cuts: [[500, 1e9]] }, options: { giveUpAfterMs: 8_000 } });
    transfer(line, pattern(300_000), new Uint8Array(0), 60_000);
    expect(line.a.closed && line.b.closed).toBe(true);
    expect(line.a.closeError).toMatchObject({ code: 'SERIAL_LINK_LOST' });
    expect(line.b.closeError).toMatchObject({ code: 'SERIAL_LINK_LOST' });
    expect(() => line.a.link.write(pattern(1))).toThrow(/silent/);
  });

  it('fails with SERIAL_NO_PEER when nobody answers the HELLO', () => {
    const line = new SimLine({ ab: { drop: 1 }, options: { connectTimeoutMs: 3_000 } });
    line.start();
    line.clock.run(() => line.a.closed, 10_000);
    expect(line.a.closeError).toMatchObject({ code: 'SERIAL_NO_PEER' });
    expect(line.clock.now()).toBeGreaterThanOrEqual(3_000);
    expect(line.b.closed).toBe(false);
  });

  it('closes both ends promptly: the side owing the last ACK lingers only until the bye', () => {
    const line = new SimLine({});
    let endedAt = 0;
    let closedAt = 0;
    line.a.link.on('end', () => (endedAt = line.clock.now()));
    line.a.link.on('close', () => (closedAt = line.clock.now()));
    transfer(line, pattern(5_000), pattern(5_000));
    expect(line.a.closeError ?? line.b.closeError).toBeUndefined();
    expect(closedAt - endedAt).toBeLessThan(line.a.link.options.closeTimeoutMs / 10);
  });

  it('repeats the last ACK while lingering when the line eats it, so both ends close cleanly', () => {
    // The initiator's final ACK falls into the cut; the responder resends and must get it.
    const line = new SimLine({ ab: { cuts: [[12, 15]] }, baud: 115_200 });
    transfer(line, pattern(1), pattern(1, 50));
    expectIntact(line.b, pattern(1));
    expectIntact(line.a, pattern(1, 50));
    expect(line.b.link.stats.framesResent).toBeGreaterThan(0);
  });

  it('tells the peer about destroy() with a RESET', () => {
    const line = new SimLine({});
    line.start();
    line.clock.run(() => line.b.link.established, 5_000);
    line.a.link.write(pattern(5_000));
    line.a.link.destroy();
    line.clock.run(() => line.b.closed, 5_000);
    expect(line.b.closeError).toMatchObject({ code: 'SERIAL_PEER_RESET' });
  });

  it('holds back the sender while the receiver pauses delivery, losing nothing', () => {
    const line = new SimLine({});
    line.b.link.on('data', () => line.b.link.pauseDelivery());
    line.start();
    line.clock.run(() => line.b.link.established, 5_000);
    const up = pattern(200_000, 9);
    line.a.link.write(up);
    line.clock.run(() => false, 5_000);
    // One frame delivered, then the window fills with held frames and the sender waits.
    expect(line.b.received.length).toBe(1);
    expect(line.a.link.stats.dataFramesSent).toBeLessThanOrEqual(40);
    line.b.link.removeAllListeners('data');
    line.b.link.on('data', (bytes: Uint8Array) => line.b.received.push(bytes));
    line.b.link.resumeDelivery();
    line.a.link.end();
    line.clock.run(() => line.a.closed && line.b.closed, 60_000);
    expectIntact(line.b, up);
  });
});

describe('ReliableLink sessions', () => {
  function responderWithPeer(): { link: ReliableLink; clock: VirtualClock; closed: unknown[] } {
    const clock = new VirtualClock();
    const link = new ReliableLink({ role: 'responder', label: 'board', clock, randomSession: () => 0xb0b });
    const closed: unknown[] = [];
    link.on('close', (err: unknown) => closed.push(err));
    link.start();
    const hello = (session: number, peerSession: number, version = LINK_VERSION) =>
      cobsFrame(encodeFrame({ type: 'hello', version, session, peerSession, needReply: true, maxPayload: 1024, window: 32 }));
    link.receive(hello(0xa1, 0));
    link.receive(hello(0xa1, 0xb0b));
    return Object.assign({ link, clock, closed }, { hello });
  }

  it('establishes from a HELLO that names it, and answers asking for confirmation first', () => {
    const { link } = responderWithPeer();
    expect(link.established).toBe(true);
    expect(link.pull()).toBeDefined();
  });

  it('fails with SERIAL_PEER_RESTARTED when a HELLO comes from a new session', () => {
    const r = responderWithPeer() as ReturnType<typeof responderWithPeer> & { hello: (s: number, p: number) => Uint8Array };
    r.link.receive(r.hello(0xa2, 0));
    expect(r.closed).toEqual([expect.objectContaining({ code: 'SERIAL_PEER_RESTARTED' })]);
  });

  it('fails with SERIAL_VERSION_MISMATCH for a HELLO of another link version', () => {
    const clock = new VirtualClock();
    const link = new ReliableLink({ role: 'responder', label: 'board', clock });
    const closed: unknown[] = [];
    link.on('close', (err: unknown) => closed.push(err));
    link.start();
    link.receive(cobsFrame(encodeFrame({ type: 'hello', version: LINK_VERSION + 1, session: 5, peerSession: 0, needReply: true, maxPayload: 1024, window: 32 })));
    expect(closed).toEqual([expect.objectContaining({ code: 'SERIAL_VERSION_MISMATCH' })]);
  });

  it('ignores data that arrives before the handshake (left over from an old session)', () => {
    const clock = new VirtualClock();
    const link = new ReliableLink({ role: 'responder', label: 'board', clock });
    const data: Uint8Array[] = [];
    link.on('data', (b: Uint8Array) => data.push(b));
    link.start();
    link.receive(cobsFrame(encodeFrame({ type: 'data', seq: 0, tx: 0, ack: { next: 0, sack: 0, echo: 0xffff }, fin: false, payload: pattern(10) })));
    expect(data).toEqual([]);
    expect(link.pull()).toBeUndefined();
  });
});
