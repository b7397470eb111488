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
