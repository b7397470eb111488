/**
 * Two transports joined: every message that arrives on one is sent on the other, and when
 * either closes the other is closed too. A listening agent that does not own its store yet
 * serves each WebSocket connection this way, through the owner's socket (store-owner.ts):
 * the frames' payloads pass unread, so authentication stays between the host and the owner.
 * Nothing piles up without bound: the protocol's windows limit what is in flight.
 */
import type { Transport } from '../shared/transport/transport';

export function joinTransports(a: Transport, b: Transport): Promise<void> {
  const forward = (from: Transport, to: Transport) => {
    from.on('message', (message) => {
      if (to.state === 'open') void to.send(message).catch(() => to.destroy());
    });
  };
  forward(a, b);
  forward(b, a);
  const closed = (t: Transport) => new Promise<void>((resolve) => (t.state === 'closed' ? resolve() : t.once('close', () => resolve())));
  const first = Promise.race([closed(a), closed(b)]).then(() => {
    // Whatever one side sent before it closed is delivered before the other closes.
    if (a.state === 'open') void a.close();
    if (b.state === 'open') void b.close();
  });
  return first.then(() => Promise.all([closed(a), closed(b)])).then(() => undefined);
}
