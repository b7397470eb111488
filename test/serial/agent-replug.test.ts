/**
 * The agent process (`axagent --serial`) when its port goes away for longer than a session
 * survives: the session ends (idle-timeout), and the agent waits for the port to come back
 * and serves the next host, as it does after any session. Before, the reopen for the next
 * session failed with SERIAL_PORT_OPEN_FAILED and the agent exited (5).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import '../../host/transports/serial';
import { startPtyPair, type PtyPair } from '../../scripts/serial-relay';
import { AGENT_MAIN, SIM_RUN_JOINT, requireBuild } from '../built';
import { HAVE_SOCAT, startLine, stopLines } from './line';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopLines();
});

/** `axagent --serial DEVICE` as its own process, with a fresh token and store in a temp folder. */
async function startSerialAgent(device: string, baud: number, extraArgs: string[] = []) {
  requireBuild();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-serial-agent-'));
  cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
  const token = randomBytes(24).toString('hex');
  const tokenFile = path.join(dir, 'token');
  await fsp.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const agent = spawn(process.execPath, [AGENT_MAIN, '--serial', device, '--baud', String(baud), ...extraArgs, '--store', path.join(dir, 'store'), '--run-joint', SIM_RUN_JOINT, '--token-file', tokenFile], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const log = { stderr: '' };
  agent.stderr!.on('data', (d: Buffer) => (log.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    await exited;
  });
  /** Resolves once the agent's log holds `text`; fails after `ms` or when the agent exits. */
  const said = async (text: string, ms: number) => {
    for (const until = Date.now() + ms; !log.stderr.includes(text); ) {
      if (Date.now() > until || agent.exitCode !== null) throw new Error(`waiting for "${text}"; agent exit ${agent.exitCode}:\n${log.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { agent, token, log, exited, said };
}

describe.runIf(HAVE_SOCAT)('axagent --serial, port gone for longer than a session', () => {
  it('waits for the port to come back and serves the next host; SIGTERM while waiting stops it with 0', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-serial-replug-'));
    cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
    const [host, board] = [path.join(dir, 'host'), path.join(dir, 'board')];
    let pair: PtyPair = await startPtyPair(host, board);
    cleanups.push(() => pair.stop());
    const { agent, token, log, exited, said } = await startSerialAgent(board, 921600, ['--idle-timeout', '1']);
    const url = `serial://${host}?baud=921600&pace=0`;
    await said('serving', 20_000);
    const first = await AgentClient.connect(await openTransport(url, { idleTimeoutMs: 1000 }), { token });
    // The cable (both adapters) gone for longer than the agent's idle timeout of 1 s.
    await pair.stop();
    await said('closed (idle-timeout', 10_000);
    await said('no such device; waiting for it to come back', 5_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(agent.exitCode).toBeNull();
    pair = await startPtyPair(host, board);
    const second = await AgentClient.connect(await openTransport(url, { connectTimeoutMs: 8000 }), { token });
    expect(second.hello.agentVersion).toMatch(/^\d+\.\d+/);
    await second.close();
    // Gone again, and stopped while it waits.
    await said('closed (remote)', 5_000);
    await pair.stop();
    await said('waiting for it to come back', 5_000);
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log.stderr).toContain('stopping');
    first.transport.destroy();
  }, 60_000);
});

describe.runIf(HAVE_SOCAT)('axagent --serial stopped while its host is silent', () => {
  it('exits within a few seconds, not after the close timeout sized for draining the line (59 s at 115200 baud)', async () => {
    const line = await startLine({ baud: 115_200 });
    const { agent, token, log, exited, said } = await startSerialAgent(line.board, 115_200);
    await said('serving', 20_000);
    const client = await AgentClient.connect(await line.openHost(), { token });
    expect(client.hello.agentVersion).toMatch(/^\d+\.\d+/);
    // The host is gone without a word (cable out, host killed): nothing answers the FIN.
    line.relay.freeze();
    const started = Date.now();
    agent.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(log.stderr).toContain('stopping');
  }, 60_000);
});
