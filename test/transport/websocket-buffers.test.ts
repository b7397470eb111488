/**
 * WebSocketTransport assembles large frames in buffers it reuses once ws has handed them to
 * the socket. Large messages sent as fast as backpressure allows (so buffers come back and are
 * reused while other frames are still queued) must arrive whole, distinct and in order: a
 * buffer reused too early would corrupt a frame still on its way (and fail its CRC).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../shared/transport/transport';
import { connectWebSocket, listenWebSocket } from '../../shared/transport/websocket';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Message i: `size` bytes that depend on i everywhere, so a mix-up between two shows. */
function message(i: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let k = 0; k < size; k += 4096) bytes.fill((i * 31 + k / 4096) & 0xff, k, k + 4096);
  bytes[size - 1] = i;
  return bytes;
}

function collect(t: Transport, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const got: Uint8Array[] = [];
    t.on('message', (m) => {
      got.push(m);
      if (got.length === count) resolve(got);
    });
  });
}

describe('WebSocket send buffers', () => {
  it('delivers many large messages sent back to back in both directions, each intact', async () => {
    let accept: (t: Transport) => void = () => undefined;
    const accepted = new Promise<Transport>((resolve) => (accept = resolve));
    const listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => accept(t));
    cleanups.push(() => listener.close());
    const a = await connectWebSocket(`ws://127.0.0.1:${listener.port}`);
    cleanups.push(() => a.destroy());
    const b = await accepted;
    cleanups.push(() => b.destroy());

    const sizes = [70_000, 1024 * 1024, 1024 * 1024 + 1, 200_000, 1024 * 1024, 3 * 1024 * 1024, 65_000, 1024 * 1024];
    const count = sizes.length * 3;
    const atB = collect(b, count);
    const atA = collect(a, count);
    const sendAll = async (t: Transport, base: number, shift: number) => {
      for (let i = 0; i < count; i++) await t.send(message(base + i, sizes[(i + shift) % sizes.length]!));
    };
    await Promise.all([sendAll(a, 0, 0), sendAll(b, 1000, 3)]);
    const fromA = await atB;
    const fromB = await atA;
    for (let i = 0; i < count; i++) {
      expect(Buffer.from(fromA[i]!).equals(message(i, sizes[i % sizes.length]!))).toBe(true);
      expect(Buffer.from(fromB[i]!).equals(message(i + 1000, sizes[(i + 3) % sizes.length]!))).toBe(true);
    }
  });
});
