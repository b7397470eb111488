/**
 * Opening a serial Transport, for either end: open the port, run the link's handshake, hand
 * back a SerialTransport once the peer answered. The host (initiator) gives up after the
 * link's connectTimeoutMs with SERIAL_NO_PEER; the agent (responder) waits until a host says
 * HELLO, so it can call this again after each session to serve the next one.
 *
 * One number decides how long a pulled cable is survived: `giveUpAfterMs`, defaulting to the
 * transport's idleTimeoutMs (or 60 s when that is 0). Shorter outages are a pause.
 */
import { TRANSPORT_DEFAULTS, type TransportOptions } from '../transport/transport';
import { SerialLinkError } from './errors';
import { LineDriver, type LineOpener } from './line-driver';
import { ReliableLink, type LinkRole } from './link';
import type { LinkOptions } from './options';
import { SerialTransport } from './serial-transport';

export interface SerialConnectOptions extends TransportOptions {
  /** How messages name the port, e.g. "/dev/ttyUSB0". */
  path: string;
  baud: number;
  role: LinkRole;
  /** Opens the port (and reopens it after a USB adapter comes back). */
  open: LineOpener;
  /** Transport.peer, e.g. "serial:///dev/ttyUSB0". */
  peer: string;
  /** bit/s the link paces its output at; default `baud`. 0 for lines that ignore the baud
   *  rate (a USB gadget serial, a pty), where pacing would only slow things down. */
  paceBaud?: number;
  /** Silence survived before the connection fails (default: idleTimeoutMs, or 60 s). */
  giveUpAfterMs?: number;
  /** Initiator: how long to wait for the agent's answer (default 10 s). */
  connectTimeoutMs?: number;
  /** Any other link tunable (options.ts). */
  link?: Partial<LinkOptions>;
  /** Stops waiting (the responder waits for a host forever otherwise). */
  signal?: AbortSignal;
  /** The agent's side: the peer's largest message until it authenticates (SerialTransportOptions). */
  unauthenticatedMaxMessageBytes?: number;
}

/** Link options and transport options that agree on one outage tolerance. */
export function serialSettings(o: SerialConnectOptions): { link: Partial<LinkOptions>; transport: TransportOptions } {
  const idle = o.idleTimeoutMs ?? TRANSPORT_DEFAULTS.idleTimeoutMs;
  const tolerance = o.giveUpAfterMs ?? (idle > 0 ? idle : 60_000);
  // The transport's idle check fires first (its reason, idle-timeout, is the contract's);
  // the link's own give-up is the backstop when the transport's check is off.
  const giveUpAfterMs = idle > 0 ? tolerance + Math.max(1000, tolerance / 4) : tolerance;
  const downAfterMs = Math.round(Math.min(3000, tolerance / 2));
  const keepaliveMs = Math.round(Math.min(1000, Math.max(10, downAfterMs / 3)));
  const highWaterMarkBytes = o.highWaterMarkBytes ?? 256 * 1024;
  const bytesPerSecond = o.baud / 10;
  // Time to drain both queues at the line rate, twice over, so close() never cuts real data.
  const closeTimeoutMs = o.closeTimeoutMs ?? Math.max(TRANSPORT_DEFAULTS.closeTimeoutMs, Math.ceil((2 * (highWaterMarkBytes + 65_536) / bytesPerSecond) * 1000) + 2000);
  return {
    link: {
      baud: o.paceBaud ?? o.baud,
      giveUpAfterMs: Math.round(giveUpAfterMs),
      downAfterMs,
      keepaliveMs,
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      ...o.link,
    },
    transport: {
      ...(o.maxMessageBytes === undefined ? {} : { maxMessageBytes: o.maxMessageBytes }),
      highWaterMarkBytes,
      idleTimeoutMs: idle > 0 ? tolerance : 0,
      closeTimeoutMs,
    },
  };
}

export async function connectSerial(o: SerialConnectOptions): Promise<SerialTransport> {
  const settings = serialSettings(o);
  o.signal?.throwIfAborted();
  const port = await o.open();
  if (o.signal?.aborted) {
    await port.close();
    o.signal.throwIfAborted();
  }
  const link = new ReliableLink({ role: o.role, label: `${o.path} (${o.baud} baud)`, options: settings.link });
  const driver = new LineDriver(link, port, o.open);
  return new Promise<SerialTransport>((resolve, reject) => {
    const onAbort = (): void => link.destroy();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    link.once('established', () => {
      o.signal?.removeEventListener('abort', onAbort);
      link.removeListener('close', onClose);
      // Built synchronously: data may follow in the very chunk that completed the handshake.
      const limit = o.unauthenticatedMaxMessageBytes;
      resolve(new SerialTransport(link, driver, o.peer, { ...settings.transport, ...(limit !== undefined && { unauthenticatedMaxMessageBytes: limit }) }));
    });
    const onClose = (error?: SerialLinkError): void => {
      o.signal?.removeEventListener('abort', onAbort);
      const reason = error ?? (o.signal?.reason as Error | undefined) ?? new Error('aborted');
      // Release the port first, so the caller can open it again right away.
      void driver.done.then(() => reject(reason));
    };
    link.once('close', onClose);
    link.start();
  });
}
