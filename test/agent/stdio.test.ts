/**
 * `axagent --stdio`, run the way it ships: dist/axagent.js (one bundled file) copied to a
 * folder with no node_modules, speaking the protocol on its stdin/stdout as it would through
 * an SSH channel. The same handshake, blobs and runs as over WebSocket.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { version } from '../../package.json';
import { AgentClient } from '../../host/client/agent-client';
import { PROTOCOL_MAJOR, encodeEnvelope } from '../../shared/protocol/envelope';
import { AGENT_BUNDLE, randomFile, requireBuild, sha256, startAgent, type AgentProcess } from './helpers';

describe('the bundled agent', () => {
  it('prints its version from a folder without node_modules', async () => {
    requireBuild();
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-bundle-'));
    try {
      const copy = path.join(dir, 'axagent.js');
      await fsp.copyFile(AGENT_BUNDLE, copy);
      const { stdout } = await promisify(execFile)(process.execPath, [copy, '--version'], { cwd: dir });
      expect(stdout.trim()).toBe(version);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('is ASCII only, so that V8 holds its source in one byte per character', async () => {
    requireBuild();
    const bytes = await fsp.readFile(AGENT_BUNDLE);
    const first = bytes.findIndex((b) => b > 0x7f);
    expect(first, first < 0 ? '' : bytes.subarray(Math.max(0, first - 60), first + 20).toString('utf8')).toBe(-1);
  });
});

describe('axagent --stdio', () => {
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await startAgent({ mode: 'stdio', bundled: true });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('authenticates, moves blobs and runs like the WebSocket agent, logging to stderr only', async () => {
    const client = await agent.connect();
    expect(client.hello.facts.nodeVersion).toBe(process.version);

    const { file, hash, data } = await randomFile(agent.dir, 'blob.bin', 2 * 1024 * 1024 + 1);
    expect(await client.putFile(file, hash, data.length)).toMatchObject({ sentBytes: data.length });
    await client.getBlob(hash, data.length, path.join(agent.dir, 'back.bin'));
    expect((await fsp.readFile(path.join(agent.dir, 'back.bin'))).equals(data)).toBe(true);

    const modelFile = path.join(agent.dir, 'classifier.joint');
    makeModel('classifier', modelFile);
    const gt = await makeGt(modelFile, path.join(agent.dir, 'gt'), { seed: 3 });
    const model = await fsp.readFile(modelFile);
    await client.putBytes(model, sha256(model));
    const input = await fsp.readFile(gt.inputs[0]!.bin);
    await client.putBytes(input, sha256(input));
    const result = await client.run({ modelHash: sha256(model), inputs: [{ name: gt.inputs[0]!.name, hash: sha256(input) }] });
    expect(result.status).toBe('ok');
    expect(result.outputs.map((o) => o.hash)).toEqual([sha256(await fsp.readFile(gt.joint[0]!.bin))]);

    const exited = new Promise<number | null>((r) => agent.child.once('exit', r));
    await client.close();
    expect(await exited).toBe(0);
    expect(agent.stderr()).toMatch(/stdio: authenticated/);
  });
});

describe('axagent --stdio exit codes', () => {
  const agents: AgentProcess[] = [];
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
  });
  async function agentAndExit(args: string[] = []) {
    const agent = await startAgent({ mode: 'stdio', args });
    agents.push(agent);
    return { agent, exited: new Promise<number | null>((resolve) => agent.child.once('exit', resolve)) };
  }

  it('exits 1 when the host never authenticates (AUTH_TIMEOUT)', async () => {
    const { agent, exited } = await agentAndExit(['--auth-timeout', '0.5']);
    const transport = await agent.transport();
    await transport.send(encodeEnvelope({ id: 0, body: 'clientHello', clientHello: { protocolMajor: PROTOCOL_MAJOR, protocolMinor: 0, clientVersion: 'test' } }));
    expect(await exited).toBe(1);
    expect(agent.stderr()).toContain('AUTH_TIMEOUT');
  });

  it('exits 1 at once when a peer that has not authenticated declares a large frame (PROTO_PREAUTH_TOO_LARGE)', async () => {
    const { agent, exited } = await agentAndExit(['--auth-timeout', '5']);
    // Only the header of a 16 MiB frame: the agent must not wait for (and buffer) its payload.
    const header = Buffer.from([0x41, 0x58, 1, 0, 0, 0, 0, 0]);
    header.writeUInt32BE(16 * 1024 * 1024 - 1, 4);
    agent.child.stdin.write(header);
    expect(await exited).toBe(1);
    expect(agent.stderr()).toMatch(/PROTO_PREAUTH_TOO_LARGE: a frame of 16777215 bytes before authentication \(at most 4096 bytes until then\)/);
  });

  it('exits 1 after a wrong token (AUTH_FAILED)', async () => {
    const { agent, exited } = await agentAndExit();
    await expect(AgentClient.connect(await agent.transport(), { token: 'not-the-token-0123456789' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(await exited).toBe(1);
  });

  it('exits 1 for another protocol major, 0 when an authenticated host closes', async () => {
    const mismatch = await agentAndExit();
    const transport = await mismatch.agent.transport();
    await transport.send(encodeEnvelope({ id: 0, body: 'clientHello', clientHello: { protocolMajor: PROTOCOL_MAJOR + 1, protocolMinor: 0, clientVersion: 'test' } }));
    expect(await mismatch.exited).toBe(1);

    const clean = await agentAndExit();
    const client = await clean.agent.connect();
    await client.close();
    expect(await clean.exited).toBe(0);
  });
});
