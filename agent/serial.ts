/**
 * The agent's end of a serial connection: `axagent --serial /dev/ttyS1 --baud 921600`.
 *
 * openSerialTransport() opens the port and resolves with a Transport once a host has said
 * HELLO (it waits as long as it takes, or until `signal` aborts). One Transport is one host
 * session; when it closes, call it again to serve the next host:
 *
 *     while (!signal.aborted) {
 *       const transport = await openSerialTransport(path, baud, { signal, idleTimeoutMs });
 *       await new AgentSession(transport, ctx).closed;
 *       await transport.released; // the port is free again (the link's goodbye is done)
 *     }
 *
 * The port is opened with the serialport module when it loads (it must sit beside the
 * bundled agent with its prebuilt binding: node_modules/serialport), otherwise through Node's
 * own tty streams on a line configured beforehand with stty by whoever starts the agent (see
 * shared/serial/port-open.ts; the agent only reads the rate back, with `stty -F PATH speed`). A port that cannot be opened: SERIAL_PORT_OPEN_FAILED (SERIAL_PORT_BUSY
 * when another program holds it; retried briefly, as the previous session may still be
 * releasing it).
 */
import { sleepUnlessAborted } from '../shared/abort';
import { connectSerial, type SerialConnectOptions } from '../shared/serial/connect';
import { openSerialLine, type SerialDriverName } from '../shared/serial/port-open';
import type { SerialTransport } from '../shared/serial/serial-transport';
import type { TransportOptions } from '../shared/transport/transport';

export interface AgentSerialOptions extends TransportOptions, Pick<SerialConnectOptions, 'unauthenticatedMaxMessageBytes'> {
  /** Stops waiting for a host (the promise then rejects with the abort reason). */
  signal?: AbortSignal;
  /** Force one way of opening the port (default: serialport if it loads, else stty). */
  driver?: SerialDriverName;
  /** bit/s to pace output at (default: baud; 0 for lines that ignore the baud rate). */
  paceBaud?: number;
  /** Silence survived before a session fails (default: idleTimeoutMs, or 60 s if that is 0). */
  giveUpAfterMs?: number;
  /**
   * A port that cannot be opened (gone: a USB adapter unplugged; busy) is tried again every
   * 0.5 s until it can, or `signal` aborts, instead of failing. For the sessions after the
   * first: the port was there, so it is coming back. `onPortWait` hears the first failure.
   */
  waitForPort?: boolean;
  onPortWait?: (err: Error) => void;
}

/** How long a port just released may stay locked (the previous session's close in flight). */
const BUSY_RETRY_MS = 3000;

export async function openSerialTransport(path: string, baud: number, options: AgentSerialOptions = {}): Promise<SerialTransport> {
  const { signal, driver, paceBaud, giveUpAfterMs, waitForPort, onPortWait, ...transport } = options;
  const open = () => openSerialLine(path, baud, driver);
  // Only the first open waits: the link's own reopenings (a port lost mid-session) must keep
  // failing fast, so a session that gives up releases the port at once.
  let first = true;
  return connectSerial({
    ...transport,
    path,
    baud,
    role: 'responder',
    peer: `serial:${path}`,
    open: () => {
      const waiting = first && waitForPort;
      first = false;
      return waiting ? retryUntilOpen(open, signal, onPortWait) : retryWhileBusy(open, BUSY_RETRY_MS);
    },
    ...(signal ? { signal } : {}),
    ...(paceBaud === undefined ? {} : { paceBaud }),
    ...(giveUpAfterMs === undefined ? {} : { giveUpAfterMs }),
  });
}

async function retryWhileBusy<T>(open: () => Promise<T>, forMs: number): Promise<T> {
  const until = performance.now() + forMs; // monotonic: the board's clock may jump (NTP)
  for (;;) {
    try {
      return await open();
    } catch (err) {
      const busy = (err as { code?: string }).code === 'SERIAL_PORT_BUSY';
      if (!busy || performance.now() >= until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const PORT_WAIT_MS = 500;

async function retryUntilOpen<T>(open: () => Promise<T>, signal: AbortSignal | undefined, onWait?: (err: Error) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await open();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'SERIAL_PORT_OPEN_FAILED' && code !== 'SERIAL_PORT_BUSY') throw err;
      if (attempt === 0) onWait?.(err as Error);
      await sleepUnlessAborted(PORT_WAIT_MS, signal);
    }
  }
}
