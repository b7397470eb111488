/**
 * ws:// (and wss://) agents behind jump hosts: with `--via ssh://user@gateway` (repeatable) the
 * WebSocket is opened over a tunnel — the last gateway's sshd connects to the agent's host:port
 * (`forwardOut`, as `ssh -J gw -W host:port`) and the WebSocket handshake runs inside that
 * stream. Without via, ws:// is opened directly, exactly as host/client/connect.ts does.
 * Importing this module registers these factories for ws and wss (replacing the plain ones).
 */
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { connectWebSocket, type WebSocketTransport } from '../../shared/transport/websocket';
import { registerScheme, type OpenTransportOptions, type TransportFactory } from '../client/connect';
import { openSsh } from './connection';
import { parseSshOptions } from './options';
import { connectionOptions } from './transport';

export const openWebSocketVia: TransportFactory = async (url: URL, opts: OpenTransportOptions) => {
  const { schemeOptions, connectTimeoutMs = 10_000, ...transportOptions } = opts;
  const ssh = parseSshOptions(schemeOptions);
  const via = ssh.via ?? [];
  if (via.length === 0) return connectWebSocket(url.href, { ...transportOptions, connectTimeoutMs });

  // The last gateway opens the tunnel; the ones before it are its own jump hosts.
  const gateway = await openSsh({ ...connectionOptions(ssh), url: via[via.length - 1]!, via: via.slice(0, -1), timeoutMs: connectTimeoutMs, ...(transportOptions.signal && { signal: transportOptions.signal }) });
  try {
    transportOptions.signal?.throwIfAborted(); // given up as the gateway's login finished
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (url.protocol === 'wss:' ? 443 : 80) : Number(url.port);
    const tunnel = await gateway.forward(host, port, connectTimeoutMs, transportOptions.signal);
    const transport = await webSocketOver(tunnel, url, host, connectTimeoutMs, transportOptions);
    transport.once('close', () => void gateway.close());
    return transport;
  } catch (err) {
    await gateway.close();
    throw err;
  }
};

async function webSocketOver(tunnel: Duplex, url: URL, host: string, timeoutMs: number, transportOptions: Omit<OpenTransportOptions, 'schemeOptions' | 'connectTimeoutMs'>): Promise<WebSocketTransport> {
  const socket = url.protocol === 'wss:' ? tlsConnect({ socket: tunnel, servername: host }) : socketLike(tunnel);
  try {
    return await connectWebSocket(url.href, {
      ...transportOptions,
      connectTimeoutMs: timeoutMs,
      route: { open: () => socket, label: 'through the tunnel', hint: 'is axagent listening on that address, as seen from the gateway?' },
    });
  } catch (err) {
    tunnel.destroy();
    throw err;
  }
}

/** What http and ws call on a socket, as no-ops on an SSH channel (as ssh2's own HTTP agent does). */
function socketLike(stream: Duplex): Duplex {
  const noop = () => stream;
  return Object.assign(stream, { setKeepAlive: noop, setNoDelay: noop, setTimeout: noop, ref: noop, unref: noop, destroySoon: () => stream.destroy() });
}

registerScheme('ws', openWebSocketVia);
registerScheme('wss', openWebSocketVia);
