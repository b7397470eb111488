/**
 * The agent reached over SSH: `axagent --stdio` started by the board's sshd in an exec channel
 * (the built agent, the board simulator as run_joint), a complete `verify` through openBoard,
 * the installed-agent contract (PREFIX/bin/axagent, PREFIX/etc/token), jump hosts, and a ws://
 * agent reached through a gateway's tunnel.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import '../../host/ssh/register';
import { shellQuote } from '../../host/ssh/quote';
import { agentTokenOf } from '../../host/ssh/transport';
import { isAxError, type AxError } from '../../shared/errors';
import { encodeEnvelope } from '../../shared/protocol/envelope';
import { encodeFrame, FrameType } from '../../shared/protocol/frame';
import { startAgent, type AgentProcess } from '../agent/helpers';
import { agentOnStdio, fixture, installAgent, knownHostsFor, loginTo, requireBuild, SIM_RUN_JOINT, tempDir, trust, verifyOn, type Fixture } from './helpers';
import { startSshd, type Sshd } from './sshd';

let board: Sshd;
let gateway: Sshd;
let dir: string;
let fx: Fixture;
let wsAgent: AgentProcess;

beforeAll(async () => {
  requireBuild();
  dir = await tempDir();
  [board, gateway, fx, wsAgent] = await Promise.all([startSshd(), startSshd({ config: ['LogLevel DEBUG1'] }), fixture(path.join(dir, 'data')), startAgent()]);
  await trust(gateway, board);
});

afterAll(async () => {
  await Promise.all([board?.stop(), gateway?.stop(), wsAgent?.stop()]);
  await fsp.rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<AxError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(isAxError(err)).toBe(true);
  return err as AxError;
}

describe('the agent over ssh://', () => {
  it('verifies a model end to end: upload, run and fetch through the exec channel (match, exit 0)', async () => {
    const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')));
    const { report } = await verifyOn(dir, board.url, fx, { tokenFile: agent.tokenFile, ssh: { ...loginTo(board), agentCommand: agent.command } });
    expect(report.verdict).toBe('match');
    expect(report.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', exact: true, pass: true });
    expect(report.board.url).toBe(board.url);
    expect(report.board.agentVersion).toMatch(/^\d+\.\d+/);
    expect(report.board.runJointVersion).toBe('0.5.10');
    // The blobs went into the agent's store on the "board".
    expect((await fsp.readdir(path.join(agent.store, 'blobs'))).length).toBeGreaterThanOrEqual(3);
  });

  it('starts the installed agent (PREFIX/bin/axagent --stdio) and uses the token the board keeps', async () => {
    const prefix = path.join(await fsp.mkdtemp(path.join(dir, 'board-')), 'opt', 'axagent');
    const { token } = await installAgent(prefix);
    const transport = await openTransport(board.url, { schemeOptions: { ...loginTo(board), agentPrefix: prefix } });
    expect(transport.kind).toBe('ssh');
    expect(await agentTokenOf(transport)).toBe(token);
    const client = await AgentClient.connect(transport, { token: (await agentTokenOf(transport))! });
    expect(client.hello.peer).toBe(board.url);
    await client.close();

    // And the whole verify, with no token given at all.
    const { report } = await verifyOn(dir, board.url, fx, { ssh: { ...loginTo(board), agentPrefix: prefix } });
    expect(report.verdict).toBe('match');
  });

  it('says so when no agent is installed under the prefix (exit 5)', async () => {
    const prefix = path.join(dir, 'nothing-here');
    const err = await failure(openTransport(board.url, { schemeOptions: { ...loginTo(board), agentPrefix: prefix } }));
    expect(err.code).toBe('SSH_AGENT_NOT_INSTALLED');
    expect(err.exitCode).toBe(5);
    // The install command installs where the agent was looked for, not under /opt/axagent.
    expect(err.hint).toContain(`install it with: axctl agent install --board ${board.url} --prefix ${prefix};`);
    expect(err.hint).toContain('give that as --agent-prefix'); // installed with --prefix: not a second install
  });

  it('names the jump host in the install command for a board behind a gateway', async () => {
    const knownHosts = await knownHostsFor(dir, [board, gateway]);
    const err = await failure(openTransport(board.url, { schemeOptions: { ...loginTo(board), knownHosts, via: [gateway.url] } }));
    expect(err.code).toBe('SSH_AGENT_NOT_INSTALLED');
    expect(err.hint).toContain(`install it with: axctl agent install --board ${board.url} --via ${gateway.url};`);
  });

  it('reports an agent command that cannot start with its status and what it printed', async () => {
    const transport = await openTransport(board.url, { schemeOptions: { ...loginTo(board), agentCommand: '/no/such/axagent --stdio' } });
    const err = await failure(AgentClient.connect(transport, { token: 'x'.repeat(32), timeoutMs: 10_000 }));
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('exited with status 127');
    expect(err.message).toContain('/no/such/axagent');
    // Through openBoard the failure is told as what it is, with its own hint.
    const tokenFile = path.join(dir, 'some-token');
    await fsp.writeFile(tokenFile, `${'t'.repeat(32)}\n`, { mode: 0o600 });
    const viaBoard = await failure(verifyOn(dir, board.url, fx, { tokenFile, ssh: { ...loginTo(board), agentCommand: '/no/such/axagent --stdio' } }));
    expect(viaBoard.code).toBe('SSH_AGENT_NOT_STARTED');
    expect(viaBoard.hint).toContain('--agent-command');
  });

  it('refuses a large frame from an agent that has not proven itself from its header, before its bytes are read', async () => {
    // A fake agent: an AgentHello, then a message of 100 KB (past UNVERIFIED_MAX_BYTES) where
    // AuthOk belongs, then silence. (A first frame that large is refused anyway, as login noise.)
    const hello = encodeEnvelope({ id: 0, body: 'agentHello', agentHello: { protocolMajor: 1, protocolMinor: 1, agentVersion: 'fake', nonce: new Uint8Array(32) } });
    const large = encodeEnvelope({ id: 0, body: 'agentHello', agentHello: { protocolMajor: 1, protocolMinor: 1, agentVersion: 'x'.repeat(100_000), nonce: new Uint8Array(32) } });
    const frame = path.join(dir, 'large-second-frame.bin');
    await fsp.writeFile(frame, Buffer.concat([encodeFrame(FrameType.Message, hello), encodeFrame(FrameType.Message, large)]));
    const transport = await openTransport(board.url, { schemeOptions: { ...loginTo(board), agentCommand: `cat ${shellQuote(frame)}; sleep 30` } });
    const err = await failure(AgentClient.connect(transport, { token: 'x'.repeat(32), timeoutMs: 10_000 }));
    expect(err.code).toBe('PROTO_PREAUTH_TOO_LARGE');
  });

  it('reports why the agent command failed even when the client connects after its channel closed', async () => {
    const transport = await openTransport(board.url, { schemeOptions: { ...loginTo(board), agentCommand: '/no/such/axagent --stdio' } });
    // The channel ends (status 127) before anyone listens: its reason must not turn into a
    // bare "closed" from the handshake's first send.
    await vi.waitFor(() => expect(transport.state).toBe('closed'), { timeout: 10_000, interval: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const err = await failure(AgentClient.connect(transport, { token: 'x'.repeat(32), timeoutMs: 10_000 }));
    expect(err.code).toBe('SSH_AGENT_NOT_STARTED');
    expect(err.message).toContain('exited with status 127');
    expect(err.hint).toContain('--agent-command');
  });

  it('says the SSH session ended, and what to do about the run, when the board\'s sshd goes away during a run', async () => {
    const own = await startSshd();
    try {
      const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')), { AXSIM_FAULT: 'hang' });
      const running = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(SIM_RUN_JOINT) && l.includes(agent.store) && !l.includes('--stdio'));
      const verdict = failure(verifyOn(dir, own.url, fx, { tokenFile: agent.tokenFile, ssh: { ...loginTo(own), agentCommand: agent.command } }));
      await vi.waitFor(() => expect(running().length).toBeGreaterThan(0), { timeout: 20_000, interval: 100 });
      // Kill the sshd processes serving the session (the listener's descendants named sshd), as
      // a board whose sshd dies: the connection ends without the agent exiting.
      const listener = Number((await fsp.readFile(path.join(own.dir, 'sshd.pid'), 'utf8')).trim());
      for (const pid of sshdDescendants(listener)) process.kill(pid, 'SIGKILL');
      const err = await verdict;
      expect(err.code).toBe('CONNECTION_LOST');
      expect(err.message).toContain('the SSH session ended without the agent exiting');
      expect(err.message).not.toContain('the agent closed it');
      expect(err.hint).toContain('run_joint');
      expect(err.hint).not.toContain('uploads resume');
    } finally {
      await own.stop();
    }
  });

  it('verifies through a jump host', async () => {
    const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')));
    const knownHosts = await knownHostsFor(dir, [board, gateway]);
    const { report } = await verifyOn(dir, board.url, fx, {
      tokenFile: agent.tokenFile,
      ssh: { ...loginTo(board), knownHosts, via: [gateway.url], agentCommand: agent.command },
    });
    expect(report.verdict).toBe('match');
    expect(gateway.log()).toContain(`target 127.0.0.1 port ${board.port}`);
  });
});

/** Processes below `pid` whose command is sshd (the sessions a listener forked). */
function sshdDescendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,comm=']).toString().trim().split('\n').map((l) => l.trim().split(/\s+/));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid, comm] of rows) {
      if (Number(ppid) === parent) {
        if (comm?.startsWith('sshd')) found.push(Number(child));
        walk(Number(child));
      }
    }
  };
  walk(pid);
  return found;
}

/**
 * OpenSSH runs `ssh board CMD` through the login shell, which reads its startup files; boards
 * echo banners there. `sh -c 'echo ...; exec AGENT'` puts exactly such text on the channel.
 */
describe('text the login shell prints before the agent', () => {
  const banner = (agentCommand: string, text = 'Welcome to AX620A') => `sh -c ${shellQuote(`echo ${shellQuote(text)}; exec ${agentCommand}`)}`;

  it('is set aside: the verify goes through (match)', async () => {
    const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')));
    const { report } = await verifyOn(dir, board.url, fx, { tokenFile: agent.tokenFile, ssh: { ...loginTo(board), agentCommand: banner(agent.command) } });
    expect(report.verdict).toBe('match');
  });

  it('is set aside when it contains "AX" and bytes that look like a frame header (the CRC tells)', async () => {
    const agent = await agentOnStdio(await fsp.mkdtemp(path.join(dir, 'agent-')));
    const fake = `printf ${shellQuote('AXERA AX620A\\nAX\\001\\000\\000\\000\\000\\002xyabcd\\n')}; exec ${agent.command}`;
    const transport = await openTransport(board.url, { schemeOptions: { ...loginTo(board), agentCommand: `sh -c ${shellQuote(fake)}` } });
    const client = await AgentClient.connect(transport, { token: agent.token, timeoutMs: 10_000 });
    expect(client.hello.agentVersion).toMatch(/^\d+\.\d+/);
    await client.close();
  });

  it('is quoted with the exit status when no agent starts after it', async () => {
    const tokenFile = path.join(dir, 'banner-token');
    await fsp.writeFile(tokenFile, `${'t'.repeat(32)}\n`, { mode: 0o600 });
    const died = await failure(verifyOn(dir, board.url, fx, { tokenFile, ssh: { ...loginTo(board), agentCommand: banner('/no/such/axagent --stdio') } }));
    expect(died.code).toBe('SSH_AGENT_NOT_STARTED');
    expect(died.message).toContain('exited with status 127');
    expect(died.message).toContain('"Welcome to AX620A"');
    // Only the banner, and the command ends: the banner is the likely culprit.
    const quiet = await failure(verifyOn(dir, board.url, fx, { tokenFile, ssh: { ...loginTo(board), agentCommand: 'echo Welcome to AX620A' } }));
    expect(quiet.code).toBe('SSH_AGENT_NOT_STARTED');
    expect(quiet.exitCode).toBe(5);
    expect(quiet.message).toContain('exited with status 0');
    expect(quiet.message).toContain('"Welcome to AX620A"');
    expect(quiet.hint).toContain('[ -t 1 ]');
    expect(quiet.hint).toContain('--agentless');
  });

  it('is quoted when the shell prints it and then waits, so no agent ever answers (not a bare CONNECT_TIMEOUT)', async () => {
    const tokenFile = path.join(dir, 'waiting-token');
    await fsp.writeFile(tokenFile, `${'t'.repeat(32)}\n`, { mode: 0o600 });
    // cat reads the host's frames and ends with the connection: nothing is left running.
    const waiting = `sh -c ${shellQuote('echo Press any key to continue; cat >/dev/null')}`;
    const err = await failure(verifyOn(dir, board.url, fx, { tokenFile, connectTimeoutMs: 3000, ssh: { ...loginTo(board), agentCommand: waiting } }));
    expect(err.code).toBe('SSH_AGENT_NOT_STARTED');
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/no agent answered within 3000 ms; the login shell printed "Press any key to continue" and is still running/);
    expect(err.hint).toContain('[ -t 1 ]');
  });

  it('is refused beyond 64 KiB, quoting its start', async () => {
    const transport = await openTransport(board.url, { schemeOptions: { ...loginTo(board), agentCommand: 'yes Welcome | head -c 70000; sleep 5' } });
    const err = await failure(AgentClient.connect(transport, { token: 'x'.repeat(32), timeoutMs: 10_000 }));
    expect(err.code).toBe('PROTO_BAD_MAGIC');
    expect(err.message).toContain('"Welcome\\nWelcome');
    expect(err.hint).toContain('startup files');
  });
});

describe('a ws:// agent through a jump host', () => {
  it('opens the WebSocket inside the gateway\'s tunnel and verifies (match)', async () => {
    const port = Number(new URL(wsAgent.url).port);
    const tokenFile = path.join(dir, 'ws-token');
    await fsp.writeFile(tokenFile, `${wsAgent.token}\n`, { mode: 0o600 });
    const { report } = await verifyOn(dir, wsAgent.url, fx, { tokenFile, ssh: { ...loginTo(board), knownHosts: gateway.knownHosts, via: [gateway.url] } });
    expect(report.verdict).toBe('match');
    expect(gateway.log()).toContain(`target 127.0.0.1 port ${port}`);
  });

  it('names the gateway that cannot reach the agent', async () => {
    const err = await failure(openTransport('ws://127.0.0.1:1', { schemeOptions: { ...loginTo(board), knownHosts: gateway.knownHosts, via: [gateway.url] } }));
    expect(err.code).toBe('SSH_TUNNEL_FAILED');
    expect(err.message).toContain(`${gateway.port}`);
  });
});
