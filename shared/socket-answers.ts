/**
 * Does something accept connections at the unix socket `socketPath` within `timeoutMs`? A
 * socket file whose listener is gone, a missing path or a plain file all say no. Used for the
 * store owner's socket (agent) and the ssh-agent's (host).
 */
import * as net from 'node:net';

export function socketAnswers(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
