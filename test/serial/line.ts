/**
 * A real serial line for end-to-end tests: host ⇄ socat pty pair ⇄ relay ⇄ socat pty pair ⇄
 * board (scripts/serial-relay.ts), in a temp folder; the host end is opened with serialport
 * through the serial:// URL, the board end with the agent's opener.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSerialTransport, type AgentSerialOptions } from '../../agent/serial';
import { openTransport, type OpenTransportOptions } from '../../host/client/connect';
import '../../host/transports/serial';
import { startSerialTestLine, type RelayOptions, type SerialTestLine } from '../../scripts/serial-relay';
import type { SerialTransport } from '../../shared/serial/serial-transport';
import type { Transport } from '../../shared/transport/transport';

export const HAVE_SOCAT = existsSync('/usr/bin/socat') || existsSync('/usr/local/bin/socat');

export interface TestLine extends SerialTestLine {
  /** Host side, through `serial://<host end>?baud=...&<query>`. */
  openHost(query?: string, opts?: OpenTransportOptions): Promise<Transport>;
  /** Board side, as axagent --serial does it. */
  openBoard(opts?: AgentSerialOptions): Promise<SerialTransport>;
  baud: number;
}

const lines: { line: SerialTestLine; dir: string; transports: Transport[] }[] = [];

export async function startLine(relay: RelayOptions = {}): Promise<TestLine> {
  if (!HAVE_SOCAT) throw new Error('socat is needed for the serial end-to-end tests: apt-get install socat');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'axctl-serial-'));
  const baud = relay.baud || 921_600;
  const line = await startSerialTestLine(dir, relay);
  const entry = { line, dir, transports: [] as Transport[] };
  lines.push(entry);
  const track = async (p: Promise<Transport>) => {
    const t = await p;
    entry.transports.push(t);
    return t;
  };
  return Object.assign(line, {
    baud,
    openHost: (query = '', opts: OpenTransportOptions = {}) => track(openTransport(`serial://${line.host}?baud=${baud}${query ? `&${query}` : ''}`, opts)),
    openBoard: (opts: AgentSerialOptions = {}) => track(openSerialTransport(line.board, baud, opts)) as Promise<SerialTransport>,
  });
}

/** Ends every line and transport the tests started (call from afterEach). */
export async function stopLines(): Promise<void> {
  for (const { line, dir, transports } of lines.splice(0)) {
    for (const t of transports) t.destroy();
    // Ports are released within a second; never let a stuck one keep socat running.
    const released = Promise.all(transports.map((t) => (t as { released?: Promise<void> }).released));
    await Promise.race([released, new Promise((r) => setTimeout(r, 5000))]);
    await line.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Sends `data` in messages of `chunk` bytes, awaiting backpressure. */
export async function sendAll(t: Transport, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) await t.send(data.subarray(at, at + chunk));
}

/** Collects messages until `total` bytes have arrived. */
export function receiveBytes(t: Transport, total: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    t.on('message', (m) => {
      parts.push(m);
      got += m.length;
      if (got >= total) resolve(Buffer.concat(parts));
    });
    t.once('close', (info) => reject(new Error(`closed before ${total} bytes arrived (${got}): ${info.reason} ${info.error?.message ?? ''}`)));
  });
}
