/** openTransport and its scheme registry. */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemeRegistry, defaultSchemes, openTransport, registerScheme } from '../../host/client/connect';
import { StreamTransport } from '../../shared/transport/stream';
import { startAgent, type AgentProcess } from './helpers';

describe('openTransport', () => {
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await startAgent();
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('opens ws:// URLs to a WebSocket transport', async () => {
    const transport = await openTransport(agent.url);
    expect(transport.kind).toBe('websocket');
    expect(transport.state).toBe('open');
    await transport.close();
  });

  it('refuses malformed URLs and unknown schemes as usage errors naming the known schemes', async () => {
    await expect(openTransport('board:7007')).rejects.toMatchObject({ code: 'UNKNOWN_URL_SCHEME', exitCode: 2, hint: expect.stringContaining('ws://') });
    await expect(openTransport('not a url')).rejects.toMatchObject({ code: 'BAD_AGENT_URL', exitCode: 2 });
    await expect(openTransport('telnet://board')).rejects.toMatchObject({ code: 'UNKNOWN_URL_SCHEME' });
    // The URL parser refuses a port above 65535 without a reason: the message gives it.
    await expect(openTransport('ssh://root@127.0.0.1:99999')).rejects.toMatchObject({ code: 'BAD_AGENT_URL', message: expect.stringContaining('has port 99999, not 1 to 65535') });
    await expect(openTransport('ws://[::1]:70000')).rejects.toMatchObject({ code: 'BAD_AGENT_URL', message: expect.stringContaining('has port 70000') });
    // Port 0 is refused before any attempt, as the same usage error for every scheme.
    for (const url of ['ws://127.0.0.1:0', 'wss://127.0.0.1:0', 'ssh://root@127.0.0.1:0']) {
      await expect(openTransport(url)).rejects.toMatchObject({ code: 'BAD_AGENT_URL', exitCode: 2, message: `'${url}' has port 0, not 1 to 65535` });
    }
  });

  it('refuses a ws:// URL with a #fragment as BAD_AGENT_URL (exit 2), not an internal error', async () => {
    await expect(openTransport('ws://127.0.0.1:1#frag')).rejects.toMatchObject({
      code: 'BAD_AGENT_URL',
      exitCode: 2,
      message: expect.stringContaining('it has a #fragment'),
      hint: 'leave out #frag',
    });
  });

  it('reports an unreachable agent as a ConnectError with exit 5 and a hint', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await expect(openTransport(`ws://127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'CONNECT_REFUSED', exitCode: 5, hint: expect.any(String) });
  });
});

describe('registerScheme', () => {
  it('lets a new transport plug in by URL scheme, with its own options', async () => {
    const registry = new SchemeRegistry();
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let seen: { host: string; extra: unknown } | null = null;
    registry.register('tcp', async (url, opts) => {
      seen = { host: url.host, extra: opts.schemeOptions?.flavour };
      const socket = net.connect(Number(url.port), url.hostname);
      await new Promise((r) => socket.once('connect', r));
      return StreamTransport.overDuplex(socket, { peer: url.href, kind: 'tcp', ...opts });
    });
    const port = (server.address() as net.AddressInfo).port;
    const transport = await registry.open(`tcp://127.0.0.1:${port}`, { schemeOptions: { flavour: 'plain' }, idleTimeoutMs: 0 });
    expect(transport.kind).toBe('tcp');
    expect(seen).toEqual({ host: `127.0.0.1:${port}`, extra: 'plain' });
    expect(registry.schemes()).toEqual(['tcp']);
    transport.destroy();
    await new Promise((r) => server.close(r));
  });

  it('registers into the default registry that openTransport uses', () => {
    expect(defaultSchemes.schemes()).toEqual(expect.arrayContaining(['ws', 'wss']));
    registerScheme('test-scheme:', async () => {
      throw new Error('not used');
    });
    expect(defaultSchemes.schemes()).toContain('test-scheme');
    expect(() => registerScheme('bad scheme', async () => undefined as never)).toThrow(/not a URL scheme/);
  });
});
