/**
 * A TCP proxy on loopback that the test controls: it forwards both ways and, once `cutAfter`
 * bytes have gone from the host to the agent, cuts both connections (a cable pulled in the
 * middle of an upload). Counts what it forwarded.
 */
import * as net from 'node:net';

export interface CutProxy {
  port: number;
  /** Bytes forwarded host → agent so far. */
  forwarded(): number;
  cut: Promise<void>;
  close(): Promise<void>;
}

export function startCutProxy(target: URL, cutAfter: number): Promise<CutProxy> {
  const sockets = new Set<net.Socket>();
  let forwarded = 0;
  let done = false;
  let markCut!: () => void;
  const cut = new Promise<void>((resolve) => (markCut = resolve));
  const cutAll = () => {
    done = true;
    for (const s of sockets) s.destroy();
    markCut();
  };
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    inbound.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = cutAfter - forwarded;
      if (chunk.length >= room) {
        outbound.write(chunk.subarray(0, room), () => cutAll());
        forwarded += room;
        return;
      }
      forwarded += chunk.length;
      outbound.write(chunk);
    });
    outbound.on('data', (chunk: Buffer) => {
      if (!done) inbound.write(chunk);
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        forwarded: () => forwarded,
        cut,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}
