/**
 * BoardLink over SSH (host/ssh): scripts run through exec on one connection, the agent's
 * stdio through the ssh:// transport every command uses, and the service's WebSocket port
 * through a tunnel the board's sshd opens to its own loopback (like `ssh -L`), so the check
 * works behind firewalls and jump hosts alike.
 */
import * as net from 'node:net';
import { isAxError } from '../../shared/errors';
import { AgentClient } from '../client/agent-client';
import { openTransport } from '../client/connect';
import { openSsh, type SshConnection } from '../ssh/connection';
import { SshAgentTransport } from '../ssh/transport'; // also registers ssh:// with openTransport
import { runJointMissingAtStart } from '../board/run-joint-missing';
import { reinstallOf } from './install-command';
import type { BoardLink, SshSettings } from './board-link';

export async function openSshLink(url: string, settings: SshSettings): Promise<BoardLink> {
  const ssh = await openSsh({ url, ...settings });
  return new SshLink(ssh, settings);
}

export class SshLink implements BoardLink {
  readonly label: string;
  readonly host: string;
  /** Where the service's port is reached from the board itself. */
  serviceHost = '127.0.0.1';

  constructor(readonly ssh: SshConnection, private readonly settings: SshSettings) {
    this.label = ssh.target.label;
    this.host = ssh.target.host;
  }

  get shell() {
    return this.ssh;
  }

  /**
   * The way every command reaches an installed agent over ssh:// (host/ssh/transport.ts: a
   * second SSH login running PREFIX/bin/axagent --stdio), so a passing check means
   * `--board ssh://...` works too.
   */
  async connectStdio(prefix: string, token: string, timeoutMs: number): Promise<AgentClient> {
    // The wrapper itself is what this checks, not the running agent's socket.
    const schemeOptions = { ...this.settings, agentPrefix: prefix, reachRunningAgent: false };
    delete schemeOptions.timeoutMs;
    const transport = await openTransport(this.ssh.target.label, { connectTimeoutMs: this.settings.timeoutMs ?? timeoutMs, schemeOptions });
    try {
      return await AgentClient.connect(transport, { token, timeoutMs });
    } catch (err) {
      // An agent of an earlier release that refused to start without its run_joint: told as such
      // (status lists it once). Today's agent answers and reports it in its facts (checks.ts).
      throw (transport instanceof SshAgentTransport && runJointMissingAtStart(transport, { label: this.label, given: this.label }, reinstallOf({ given: this.label, url: this.label }, { agentPrefix: prefix, via: this.settings.via }))) || err;
    }
  }

  serviceVia(port: number): string {
    return `ws://${this.serviceHost}:${port} on ${this.label} (ssh tunnel)`;
  }

  async connectService(port: number, token: string, timeoutMs: number): Promise<AgentClient> {
    // A local port whose every connection is piped through the SSH connection to the board.
    let tunnelError: unknown;
    const server = net.createServer((local) => {
      local.pause();
      this.ssh.forward(this.serviceHost, port, timeoutMs).then(
        (remote) => {
          local.pipe(remote).pipe(local);
          local.resume();
          const end = () => {
            local.destroy();
            remote.destroy();
          };
          local.once('close', end).once('error', end);
          remote.once('close', end).once('error', end);
        },
        (err: unknown) => {
          tunnelError = err;
          local.destroy();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const localPort = (server.address() as net.AddressInfo).port;
    const local = `ws://127.0.0.1:${localPort}`;
    try {
      const transport = await openTransport(local, { connectTimeoutMs: timeoutMs });
      const client = await AgentClient.connect(transport, { token, timeoutMs });
      // The listening socket goes now; the one tunnelled connection lives until the client closes.
      server.close();
      server.unref();
      return client;
    } catch (err) {
      server.close();
      // "connection reset" on our local port means the tunnel failed: say why.
      if (tunnelError) throw tunnelError;
      // Messages name the board's port, not our relay's.
      if (isAxError(err)) err.message = err.message.split(`${local}/`).join(this.serviceVia(port)).split(local).join(this.serviceVia(port));
      throw err;
    }
  }

  close(): Promise<void> {
    return this.ssh.close();
  }
}
