/**
 * Opening a Transport from an agent URL. A small registry keyed by URL scheme: ws:// and
 * wss:// are built in; ssh:// and serial:// register themselves from their own modules with
 * registerScheme(). The host's logic calls openTransport(url) and never builds a transport
 * itself. Failing to connect is a ConnectError (exit 5) with a hint.
 */
import { UsageError } from '../../shared/errors';
import type { Transport, TransportOptions } from '../../shared/transport/transport';
import { connectWebSocket } from '../../shared/transport/websocket';

export interface OpenTransportOptions extends TransportOptions {
  /** How long opening the connection may take. Default 10 s. */
  connectTimeoutMs?: number;
  /** Settings only one scheme understands (an SSH identity file, a baud rate), passed as is. */
  schemeOptions?: Record<string, unknown>;
  /**
   * Aborting it gives the attempt up (Ctrl-C): the promise rejects with its reason at once.
   * A scheme that cannot abort leaves it to its own timeout (see withAbort in host/board/lifecycle.ts).
   */
  signal?: AbortSignal;
}

/** Opens a transport to `url` (already parsed; its scheme selected this factory). */
export type TransportFactory = (url: URL, opts: OpenTransportOptions) => Promise<Transport>;

export class SchemeRegistry {
  private readonly factories = new Map<string, TransportFactory>();

  /** `scheme` without the colon, e.g. 'ssh'. Registering a scheme again replaces its factory. */
  register(scheme: string, factory: TransportFactory): void {
    const name = scheme.replace(/:$/, '').toLowerCase();
    if (!/^[a-z][a-z0-9+.-]*$/.test(name)) throw new Error(`registerScheme: '${scheme}' is not a URL scheme`);
    this.factories.set(name, factory);
  }

  schemes(): string[] {
    return [...this.factories.keys()].sort();
  }

  async open(url: string, opts: OpenTransportOptions = {}): Promise<Transport> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // The URL parser refuses a port above 65535 without saying so: say it.
      const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)/i.exec(url)?.[1];
      const problem = port !== undefined && Number(port) > 65535 ? `has port ${port}, not 1 to 65535` : 'is not an agent URL';
      throw new UsageError('BAD_AGENT_URL', `'${url}' ${problem}`, { hint: `write it like ${this.examples()}` });
    }
    // Port 0 is no port to connect to: without this, ws:// tries it and reports a refused
    // connection (exit 5) where ssh:// calls it a usage error (exit 2). Same check, every scheme.
    if (parsed.port === '0') throw new UsageError('BAD_AGENT_URL', `'${url}' has port 0, not 1 to 65535`, { hint: `write the port the agent or sshd listens on, like ${this.examples()}` });
    const scheme = parsed.protocol.replace(/:$/, '');
    const factory = this.factories.get(scheme);
    if (!factory) {
      throw new UsageError('UNKNOWN_URL_SCHEME', `${url}: axctl cannot connect over ${scheme}://`, { hint: `use one of ${this.examples()}` });
    }
    return factory(parsed, opts);
  }

  private examples(): string {
    return this.schemes().map((s) => `${s}://...`).join(', ') || 'ws://HOST:PORT';
  }
}

const webSocket: TransportFactory = (url, opts) => {
  const { schemeOptions: _ignored, ...rest } = opts;
  // ws://host:port/ → ws://host:port, as users write it (it names the peer in messages).
  return connectWebSocket(url.pathname === '/' && !url.search ? url.href.replace(/\/$/, '') : url.href, rest);
};

/** The registry openTransport() and registerScheme() use. */
export const defaultSchemes = new SchemeRegistry();
defaultSchemes.register('ws', webSocket);
defaultSchemes.register('wss', webSocket);

export function registerScheme(scheme: string, factory: TransportFactory): void {
  defaultSchemes.register(scheme, factory);
}

/** A transport to the agent at `url` (ws://host:port now; more schemes as registered). */
export function openTransport(url: string, opts: OpenTransportOptions = {}): Promise<Transport> {
  return defaultSchemes.open(url, opts);
}
