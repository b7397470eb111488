/**
 * The Transport contract (shared/transport/transport.ts) as a test suite. Every implementation
 * runs it through a factory that connects two real transports through a relay (relay.ts)
 * which can cut the line silently. WebSocket and stream run it here; the SSH and serial
 * transports should call transportContract() with their own factory.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AxError } from '../../shared/errors';
import type { CloseInfo, Transport, TransportOptions } from '../../shared/transport/transport';

export interface TransportPair {
  /** The side that connected. */
  a: Transport;
  /** The side that accepted. */
  b: Transport;
  /** Drop every byte from now on without closing anything (a pulled cable). */
  freeze(): void;
  /** Stop reading from both sides (a peer that does not read; buffers fill up). */
  stall(): void;
  /** Ends everything the factory started. */
  cleanup(): Promise<void>;
}

export type PairFactory = (opts?: { a?: TransportOptions; b?: TransportOptions }) => Promise<TransportPair>;

export function nextMessages(t: Transport, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const got: Uint8Array[] = [];
    const onMessage = (m: Uint8Array) => {
      got.push(m);
      if (got.length === count) {
        t.off('message', onMessage);
        resolve(got);
      }
    };
    t.on('message', onMessage);
  });
}

export function closeOf(t: Transport): Promise<CloseInfo> {
  return new Promise((resolve) => t.once('close', resolve));
}

const sized = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const hex = (m: Uint8Array) => Buffer.from(m).toString('hex');

export function transportContract(name: string, makePair: PairFactory): void {
  describe(`Transport contract: ${name}`, () => {
    let pair: TransportPair | undefined;
    const open = async (opts?: Parameters<PairFactory>[0]) => (pair = await makePair(opts));
    afterEach(async () => {
      await pair?.cleanup();
      pair = undefined;
    });

    it('delivers every message once, whole and in order, in both directions', async () => {
      const { a, b } = await open();
      const sizes = [0, 1, 7, 65_536, 3 * 1024 * 1024 + 5, 100];
      const atB = nextMessages(b, sizes.length);
      const atA = nextMessages(a, sizes.length);
      for (const [i, n] of sizes.entries()) {
        await a.send(sized(n, i));
        await b.send(sized(n, i + 100));
      }
      expect((await atB).map(hex)).toEqual(sizes.map((n, i) => hex(sized(n, i))));
      expect((await atA).map(hex)).toEqual(sizes.map((n, i) => hex(sized(n, i + 100))));
    });

    it('keeps messages that arrive before anyone listens', async () => {
      const { a, b } = await open();
      await a.send(sized(10, 1));
      await a.send(sized(20, 2));
      await new Promise((r) => setTimeout(r, 50));
      const got = await nextMessages(b, 2);
      expect(got.map((m) => m.length)).toEqual([10, 20]);
    });

    it('close() flushes what was sent, then both sides see one close (local / remote)', async () => {
      const { a, b } = await open();
      const received = nextMessages(b, 20);
      const closedA = closeOf(a);
      const closedB = closeOf(b);
      for (let i = 0; i < 20; i++) void a.send(sized(100_000, i));
      const first = a.close();
      expect(a.close()).toBe(first);
      expect(a.state).toBe('closing');
      await first;
      expect((await received).map(hex)).toEqual(Array.from({ length: 20 }, (_, i) => hex(sized(100_000, i))));
      expect(await closedA).toEqual({ reason: 'local' });
      expect((await closedB).reason).toBe('remote');
      expect(a.state).toBe('closed');
      await a.close();
    });

    it('emits close exactly once, and rejects sends after close with TRANSPORT_CLOSED', async () => {
      const { a, b } = await open();
      let closes = 0;
      a.on('close', () => closes++);
      const closedB = closeOf(b);
      await a.close();
      a.destroy();
      await a.close();
      await closedB;
      await new Promise((r) => setTimeout(r, 20));
      expect(closes).toBe(1);
      await expect(a.send(sized(5, 0))).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED', exitCode: 5 });
      await expect(b.send(sized(5, 0))).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
    });

    it('refuses a message over maxMessageBytes without closing', async () => {
      const { a, b } = await open({ a: { maxMessageBytes: 1000 } });
      await expect(a.send(new Uint8Array(1001))).rejects.toMatchObject({ code: 'PROTO_FRAME_TOO_LARGE' });
      expect(a.state).toBe('open');
      const got = nextMessages(b, 1);
      await a.send(new Uint8Array(1000));
      expect((await got)[0]).toHaveLength(1000);
    });

    it('closes with PROTO_FRAME_TOO_LARGE when the peer sends over the limit', async () => {
      const { a, b } = await open({ b: { maxMessageBytes: 1000 } });
      const closedB = closeOf(b);
      await a.send(new Uint8Array(5000));
      const info = await closedB;
      expect(info.reason).toBe('error');
      expect(info.error?.code).toBe('PROTO_FRAME_TOO_LARGE');
    });

    it('holds send() while the peer does not read, and rejects it with TRANSPORT_CLOSED on destroy', async () => {
      const { a, stall } = await open({ a: { highWaterMarkBytes: 64 * 1024 } });
      stall();
      const chunk = new Uint8Array(1024 * 1024);
      let pending: Promise<void> | null = null;
      for (let i = 0; i < 200 && !pending; i++) {
        const p = a.send(chunk);
        const settled = await Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
        if (!settled) pending = p;
      }
      expect(pending).not.toBeNull();
      const outcome = pending!.then(() => null, (err: AxError) => err);
      a.destroy();
      expect(await outcome).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    });

    it('destroy(error) closes at once with reason error; the peer sees remote', async () => {
      const { a, b } = await open();
      const closedA = closeOf(a);
      const closedB = closeOf(b);
      const error = { code: 'TEST_ERROR', message: 'test' } as AxError;
      a.destroy(error);
      expect(a.state).toBe('closed');
      expect(await closedA).toEqual({ reason: 'error', error });
      expect((await closedB).reason).toBe('remote');
    });

    it('notices a silently dead line (pulled cable) within the idle timeout, on both sides', async () => {
      const { a, b, freeze } = await open({ a: { idleTimeoutMs: 300 }, b: { idleTimeoutMs: 300 } });
      const closedA = closeOf(a);
      const closedB = closeOf(b);
      freeze();
      for (const info of await Promise.all([closedA, closedB])) {
        expect(info.reason).toBe('idle-timeout');
        expect(info.error?.code).toBe('TRANSPORT_IDLE_TIMEOUT');
      }
    });

    it('keeps a live connection open when the wall clock jumps decades ahead (an RTC-less board at its NTP sync)', async () => {
      const { a, b } = await open({ a: { idleTimeoutMs: 200 }, b: { idleTimeoutMs: 200 } });
      const wall = Date.now();
      const jump = vi.spyOn(Date, 'now').mockImplementation(() => wall + 56 * 365 * 86_400_000);
      try {
        await new Promise((r) => setTimeout(r, 500));
        expect(a.state).toBe('open');
        expect(b.state).toBe('open');
      } finally {
        jump.mockRestore();
      }
    });

    it('keeps a quiet but live connection open: pings answer for silence', async () => {
      const { a, b } = await open({ a: { idleTimeoutMs: 200 }, b: { idleTimeoutMs: 0 } });
      await new Promise((r) => setTimeout(r, 800));
      expect(a.state).toBe('open');
      expect(b.state).toBe('open');
      const got = nextMessages(b, 1);
      await a.send(sized(3, 3));
      expect(hex((await got)[0]!)).toBe(hex(sized(3, 3)));
    });
  });
}
