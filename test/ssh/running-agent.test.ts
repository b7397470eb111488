/**
 * An installed agent already running on the board (the service, or the agent another host's
 * connection started) is reached at its socket through the board's sshd (direct-streamlocal):
 * no Node process is started for the connection, and no relaying process sits in the path of
 * its bytes. Where that cannot work the host starts PREFIX/bin/axagent --stdio as before.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import { openSsh } from '../../host/ssh/connection';
import '../../host/ssh/register';
import { SshAgentTransport, agentTokenOf } from '../../host/ssh/transport';
import type { CloseInfo } from '../../shared/transport/transport';
import { startAgent, type AgentProcess } from '../agent/helpers';
import { fixture, installAgent, loginTo, requireBuild, startRelay, tempDir, verifyOn, type Fixture } from './helpers';
import { startSshd, type Sshd } from './sshd';

let board: Sshd;
let noForwarding: Sshd;
/** Prints a banner before every command, as a board's shell startup files may. */
let chatty: Sshd;
/** Takes 5 s to start any command, as a loaded board with heavy startup files may. */
let slow: Sshd;
/** Never starts a command: only what needs no shell on the board (a socket) can work. */
let shellless: Sshd;
let dir: string;
let fx: Fixture;
const open: AgentClient[] = [];
const agents: AgentProcess[] = [];

beforeAll(async () => {
  requireBuild();
  dir = await tempDir();
  [board, noForwarding, chatty, slow, shellless, fx] = await Promise.all([
    startSshd(),
    startSshd({ config: ['AllowStreamLocalForwarding no'] }),
    // As a startup file that prints would (bash run by sshd reads ~/.bashrc, not a test's to change).
    startSshd({ config: ['ForceCommand echo "Welcome to AX620A"; eval "$SSH_ORIGINAL_COMMAND"'] }),
    startSshd({ config: ['ForceCommand sleep 5; eval "$SSH_ORIGINAL_COMMAND"'] }),
    startSshd({ config: ['ForceCommand sleep 600'] }),
    fixture(path.join(dir, 'data')),
  ]);
});

afterAll(async () => {
  // Last opened first: an agent process started for a connection serves the others to the end.
  for (const client of open.splice(0).reverse()) await client.close().catch(() => undefined);
  for (const agent of agents.splice(0)) await agent.stop();
  await Promise.all([board?.stop(), noForwarding?.stop(), chatty?.stop(), slow?.stop(), shellless?.stop()]);
  await fsp.rm(dir, { recursive: true, force: true });
});

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function install() {
  const prefix = path.join(await fsp.mkdtemp(path.join(dir, 'board-')), 'opt', 'axagent');
  return { prefix, ...(await installAgent(prefix)) };
}

/** Connects to the installed agent under `prefix` as `axctl` does; the client stays open until the end of the file. */
async function connect(server: Sshd, prefix: string, extra: Record<string, unknown> = {}): Promise<{ client: AgentClient; socket: string | undefined; token: string | undefined }> {
  const transport = await openTransport(server.url, { schemeOptions: { ...loginTo(server), agentPrefix: prefix, ...extra } });
  const token = await agentTokenOf(transport);
  const client = await AgentClient.connect(transport, { token: token! });
  open.push(client);
  return { client, socket: (transport as SshAgentTransport).agentSocket, token };
}

/** The installed service: a listening agent owning the install's store, with its token. */
async function service(store: string, token: string): Promise<AgentProcess> {
  const agent = await startAgent({ mode: 'listen', storeDir: store, token });
  agents.push(agent);
  return agent;
}

/** A transport reaching the running agent at its socket, with no idle timeout: only an end can close it. */
async function directTransport(url: string, login: object, prefix: string): Promise<SshAgentTransport> {
  const transport = (await openTransport(url, { idleTimeoutMs: 0, schemeOptions: { ...login, agentPrefix: prefix } })) as SshAgentTransport;
  expect(transport.agentSocket).toBeDefined();
  return transport;
}

describe('a connection to the running agent at its socket', () => {
  it('ends when the agent dies (killed), not at a timeout', async () => {
    const { prefix, store, token } = await install();
    const owner = await service(store, token);
    const transport = await directTransport(board.url, loginTo(board), prefix);
    const client = await AgentClient.connect(transport, { token });
    open.push(client);
    const closed = new Promise<CloseInfo>((resolve) => transport.once('close', resolve));
    owner.child.kill('SIGKILL');
    expect((await closed).reason).toBe('remote');
  });

  it('ends with TRANSPORT_DISCONNECTED when the SSH connection breaks, not as a clean close by the agent', async () => {
    const { prefix, store, token } = await install();
    await service(store, token);
    const relay = await startRelay(board.port);
    try {
      const url = `ssh://${board.user}@127.0.0.1:${relay.port}`;
      const transport = await directTransport(url, { ...loginTo(board), knownHosts: path.join(dir, `relay-${relay.port}.known_hosts`), acceptNewHostKey: true }, prefix);
      const client = await AgentClient.connect(transport, { token });
      open.push(client);
      const closed = new Promise<CloseInfo>((resolve) => transport.once('close', resolve));
      await relay.close(); // the TCP connection is cut
      expect((await closed).error?.code).toBe('TRANSPORT_DISCONNECTED');
    } finally {
      await relay.close();
    }
  });
});

describe('an installed agent already running', () => {
  it('is reached at its socket: no agent process started for the connection, one store, runs go through', async () => {
    const { prefix, store, starts } = await install();
    const first = await connect(board, prefix); // nothing running yet: the wrapper starts the agent
    expect(first.socket).toBeUndefined();
    expect(await starts()).toBe(1);

    const second = await connect(board, prefix);
    expect(second.socket).toBe(path.join(store, 'agent.sock'));
    expect(await starts()).toBe(1);
    const data = randomBytes(300_000);
    await second.client.putBytes(data, sha(data));
    expect((await first.client.has([sha(data)]))[0]!.present).toBe(true);

    const { report } = await verifyOn(dir, board.url, fx, { ssh: { ...loginTo(board), agentPrefix: prefix } });
    expect(report.verdict).toBe('match');
    expect(await starts()).toBe(1);
  });

  it('lets the host that started it leave at once while it serves a host that reached it at its socket, then stops', async () => {
    const { prefix, store } = await install();
    const first = await connect(board, prefix); // starts the agent: it owns the store
    const second = await connect(board, prefix);
    expect(second.socket).toBe(path.join(store, 'agent.sock'));
    const agentsOfStore = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes('--stdio') && l.includes(store));
    expect(agentsOfStore()).toHaveLength(1);
    // Its close waited out the 5 s close timeout: sshd ends the channel only once the agent
    // has closed its stdout and stderr, which it kept while it served the other host.
    const outcome = await Promise.race([
      first.client.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still closing'), 3000)),
    ]);
    expect(outcome).toBe('closed');
    // The other host is served on, to the end.
    const data = randomBytes(300_000);
    await second.client.putBytes(data, sha(data));
    expect((await second.client.has([sha(data)]))[0]!.present).toBe(true);
    expect(agentsOfStore()).toHaveLength(1);
    await second.client.close();
    await vi.waitFor(() => expect(agentsOfStore()).toEqual([]), { timeout: 10_000, interval: 100 });
    // Its log went on in the store once its own stderr was let go of.
    const ownerLog = await fsp.readFile(path.join(store, 'owner.log'), 'utf8');
    expect(ownerLog).toMatch(/^axagent: \S+ a relayed connection: closed/m);
  });

  it('is not what a socket left by an agent that died leads to: the wrapper starts one', async () => {
    const { prefix, store, starts } = await install();
    await fsp.mkdir(store, { recursive: true });
    // A socket file nobody listens on, as a killed agent leaves it.
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(store, 'agent.sock')]);
    const { client, socket } = await connect(board, prefix);
    expect(socket).toBeUndefined();
    expect(await starts()).toBe(1);
    const data = randomBytes(1000);
    await client.putBytes(data, sha(data));
    expect((await client.has([sha(data)]))[0]!.present).toBe(true);
  });

  it("is reached through a started agent (relaying) where the board's sshd forbids stream forwarding", async () => {
    const { prefix, starts } = await install();
    const first = await connect(board, prefix);
    const relayed = await connect(noForwarding, prefix);
    expect(relayed.socket).toBeUndefined();
    expect(await starts()).toBe(2);
    const data = randomBytes(1000);
    await relayed.client.putBytes(data, sha(data));
    expect((await first.client.has([sha(data)]))[0]!.present).toBe(true);
  });

  it("is found, with the board's token, past a banner the login shell prints", async () => {
    const shell = await openSsh({ url: chatty.url, ...loginTo(chatty) });
    expect((await shell.exec('true')).stdout).toContain('Welcome to AX620A'); // the premise: the shell does print it
    await shell.close();
    const { prefix, token, starts } = await install();
    const first = await connect(chatty, prefix);
    const second = await connect(chatty, prefix);
    expect(second.socket).toBeDefined();
    expect(second.token).toBe(token);
    expect(await starts()).toBe(1);
    const data = randomBytes(1000);
    await second.client.putBytes(data, sha(data));
    expect((await first.client.has([sha(data)]))[0]!.present).toBe(true);
  });

  it("is reached without waiting for the board's shell when the host has the token (the install check runs beside)", async () => {
    const { prefix, store, token } = await install();
    await service(store, token);
    // Every command on this board hangs, the install check included (its own limit is 15 s).
    const transport = await directTransport(shellless.url, loginTo(shellless), prefix);
    const client = await AgentClient.connect(transport, { token, timeoutMs: 5000 });
    open.push(client);
    const data = randomBytes(100_000);
    await client.putBytes(data, sha(data));
    expect((await client.has([sha(data)]))[0]!.present).toBe(true);

    const { report } = await verifyOn(dir, shellless.url, fx, { ssh: { ...loginTo(shellless), agentPrefix: prefix }, env: { AXCTL_TOKEN: token } });
    expect(report.verdict).toBe('match');
  });

  it('is given up at once when the start is aborted (Ctrl-C) while the board is slow to answer', async () => {
    const { prefix } = await install();
    const controller = new AbortController();
    const opening = openTransport(slow.url, { signal: controller.signal, schemeOptions: { ...loginTo(slow), agentPrefix: prefix } });
    setTimeout(() => controller.abort(new Error('interrupted by the test')), 500); // logged in by then, checking the install
    // The board answers the install check only after 5 s: an abort heeded only then is too late.
    const outcome = await Promise.race([
      opening.then(() => 'opened', (err: Error) => err.message),
      new Promise((resolve) => setTimeout(() => resolve('still waiting for the board'), 3000)),
    ]);
    expect(outcome).toBe('interrupted by the test');
  });

  it('is not reached at its socket when the caller checks the wrapper itself (agent install and status)', async () => {
    const { prefix, starts } = await install();
    await connect(board, prefix);
    const checked = await connect(board, prefix, { reachRunningAgent: false });
    expect(checked.socket).toBeUndefined();
    expect(await starts()).toBe(2);
  });
});
