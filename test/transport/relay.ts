/**
 * A TCP relay between two real peers on loopback that can imitate a broken line: `freeze()`
 * drops everything from then on without closing anything (a pulled cable: both sides stall
 * silently), `stall()` stops reading so the sender's buffers fill (a peer that does not read).
 */
import * as net from 'node:net';

export interface Relay {
  port: number;
  freeze(): void;
  stall(): void;
  close(): Promise<void>;
}

export function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    inbound.setNoDelay(true);
    track(inbound);
    track(outbound);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on('end', () => {
        if (!frozen) to.end();
      });
      from.on('close', () => {
        if (!frozen) to.destroy();
      });
    };
    forward(inbound, outbound);
    forward(outbound, inbound);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        freeze: () => {
          frozen = true;
        },
        stall: () => {
          for (const s of sockets) s.pause();
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
