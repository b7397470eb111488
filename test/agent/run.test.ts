/**
 * Runs end to end: the agent as its own process runs the board simulator's run_joint on gt
 * inputs uploaded by the client; events stream back; outputs come home byte-exact; hostile
 * run fields are refused; a cancelled run still reports its result.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentClient } from '../../host/client/agent-client';
import type { RunResult as WireRunResult } from '../../shared/protocol/envelope';
import { makeGt, makeModel, type GtManifest } from '../../scripts/sim/make-gt';
import { writeSimRunJoint } from '../built';
import { rawSession, sha256, startAgent, watchSends, type AgentProcess } from './helpers';

interface Deployed {
  modelHash: string;
  gt: GtManifest;
  inputs: { name: string; hash: string }[];
}

/** The multi-input simulator model and its gt inputs, uploaded; inputs listed alphabetically. */
async function deploy(agent: AgentProcess, client: AgentClient): Promise<Deployed> {
  const modelFile = path.join(agent.dir, 'multi.joint');
  makeModel('multi-input', modelFile);
  const gt = await makeGt(modelFile, path.join(agent.dir, 'gt'), { seed: 7 });
  const upload = async (file: string) => {
    const data = await fsp.readFile(file);
    const hash = sha256(data);
    await client.putFile(file, hash, data.length);
    return hash;
  };
  const modelHash = await upload(modelFile);
  const sorted = [...gt.inputs].sort((a, b) => a.name.localeCompare(b.name));
  const inputs = [];
  for (const input of sorted) inputs.push({ name: input.name, hash: await upload(input.bin) });
  return { modelHash, gt, inputs };
}

describe('run on the agent', () => {
  let agent: AgentProcess;
  let client: AgentClient;
  let deployed: Deployed;
  beforeAll(async () => {
    agent = await startAgent();
    client = await agent.connect();
    deployed = await deploy(agent, client);
  });
  afterAll(async () => {
    await client?.close();
    await agent?.stop();
  });

  it('feeds inputs by name, streams the log, and returns outputs equal to gt/joint', async () => {
    const lines: string[] = [];
    const result = await client.run({ modelHash: deployed.modelHash, inputs: deployed.inputs, repeat: 3, warmup: 1 }, { onLine: (stream, line) => lines.push(`${stream}: ${line}`) });
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ status: 'ok', exitCode: 0, signal: null, timedOut: false, cancelled: false });
    expect(lines).toContain('stdout: run joint version: 0.5.10');
    expect(result.log).toContain('run joint version: 0.5.10');
    expect(result.parsed.inputs.map((t) => t.name)).toEqual(['rgb_image', 'depth', 'aux']);
    expect(result.parsed.outputs.map((t) => [t.name, t.dtype, t.q])).toEqual([['head/cls_score', 'sint8', 32], ['head/bbox/pred', 'float32', null]]);
    expect(result.parsed.run?.rounds).toBe(2);
    for (const expected of deployed.gt.joint) {
      const output = result.outputs.find((o) => o.name === expected.name)!;
      const target = path.join(agent.dir, 'out', `${expected.name.replace(/\//g, '_')}.bin`);
      await client.getBlob(output.hash, output.size, target);
      expect((await fsp.readFile(target)).equals(await fsp.readFile(expected.bin))).toBe(true);
    }
    expect((await client.facts()).runJointVersion).toBe('0.5.10');
    // Kept for the agent's next start (agent/run/version-memory.ts).
    await vi.waitFor(async () => expect(JSON.parse(await fsp.readFile(path.join(agent.storeDir, 'run-joint-version.json'), 'utf8'))).toMatchObject({ version: '0.5.10' }));
  });

  it('sends small outputs inside the result: getBlob writes them, checked, without a Get', async () => {
    const watched = await agent.connect();
    const sends = watchSends(watched.transport);
    try {
      const result = await watched.run({ modelHash: deployed.modelHash, inputs: deployed.inputs });
      expect(result.status).toBe('ok');
      for (const expected of deployed.gt.joint) {
        const output = result.outputs.find((o) => o.name === expected.name)!;
        const target = path.join(agent.dir, 'inline', `${expected.name.replace(/\//g, '_')}.bin`);
        await watched.getBlob(output.hash, output.size, target);
        expect((await fsp.readFile(target)).equals(await fsp.readFile(expected.bin))).toBe(true);
      }
      expect(sends.sent('run')).toBe(1);
      expect(sends.sent('get')).toBe(0);
    } finally {
      await watched.close();
    }
  });

  it('inlines only what fits the budget the host asked for, and nothing for an older host', async () => {
    const raw = await rawSession(agent);
    const run = (inlineOutputBytes: number) =>
      new Promise<WireRunResult>((resolve, reject) => {
        const call = raw.channel.open('run', {
          onEnvelope: (env) => {
            if (env.body === 'runEvent') return;
            call.close();
            if (env.body === 'runResult') resolve(env.runResult);
            else reject(new Error(`answered ${env.body}`));
          },
          onError: reject,
        });
        void raw.channel.send({ id: call.id, body: 'run', run: { modelHash: deployed.modelHash, inputs: deployed.inputs, repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [], inlineOutputBytes } });
      });
    const outputs = (await run(0)).outputs;
    expect(outputs.map((o) => o.data.length)).toEqual([0, 0]);
    const [first, second] = outputs as [(typeof outputs)[number], (typeof outputs)[number]];
    // Room for the first output only: the second is left for a Get.
    const budget = first.size + 16;
    expect(second.size).toBeGreaterThan(budget - first.size);
    const sent = (await run(budget)).outputs;
    expect(sent.map((o) => o.data.length)).toEqual([first.size, 0]);
    expect(sha256(sent[0]!.data)).toBe(first.hash);
    expect((await run(first.size + second.size + 32)).outputs.map((o) => o.data.length)).toEqual([first.size, second.size]);
    await raw.channel.transport.close();
  });

  it('reports an input of the wrong size as input-error', async () => {
    const junk = Buffer.alloc(10, 1);
    await client.putBytes(junk, sha256(junk));
    const inputs = deployed.inputs.map((i) => (i.name === 'depth' ? { name: 'depth', hash: sha256(junk) } : i));
    const result = await client.run({ modelHash: deployed.modelHash, inputs });
    expect(result.status).toBe('input-error');
    expect(result.parsed.fallbacks.map((f) => [f.name, f.reason])).toEqual([['depth', 'size-wrong']]);
  });

  it('refuses to run what is not on the board (BLOB_MISSING)', async () => {
    await expect(client.run({ modelHash: 'c'.repeat(64), inputs: deployed.inputs })).rejects.toMatchObject({ code: 'BLOB_MISSING', exitCode: 2 });
  });

  describe('refuses paths in every run field', () => {
    const cases: Array<[string, (d: Deployed) => Record<string, unknown>, string]> = [
      ['model hash ../', () => ({ modelHash: '../../../etc/passwd' }), 'BAD_HASH'],
      ['model hash absolute', () => ({ modelHash: '/etc/passwd' }), 'BAD_HASH'],
      ['input name ../', (d) => ({ inputs: [{ name: '../../etc/passwd', hash: d.inputs[0]!.hash }] }), 'BAD_TENSOR_NAME'],
      ['input name absolute', (d) => ({ inputs: [{ name: '/tmp/x', hash: d.inputs[0]!.hash }] }), 'BAD_TENSOR_NAME'],
      ['input hash ../', () => ({ inputs: [{ name: 'depth', hash: '../blobs/x' }] }), 'BAD_HASH'],
      ['--bin-out-dir', () => ({ extraArgs: ['--bin-out-dir', '/tmp/elsewhere'] }), 'OPTION_NOT_ALLOWED'],
      ['--data=../', () => ({ extraArgs: ['--data=../../etc/passwd'] }), 'OPTION_NOT_ALLOWED'],
      ['a bare path', () => ({ extraArgs: ['/etc/passwd'] }), 'OPTION_NOT_ALLOWED'],
      ['a path as a value', () => ({ extraArgs: ['--mode', '../x'] }), 'OPTION_BAD_VALUE'],
      ['a path after =', () => ({ extraArgs: ['--cache-mode=/tmp/x'] }), 'OPTION_BAD_VALUE'],
    ];
    it.each(cases)('%s', async (_name, change, code) => {
      const raw = await rawSession(agent);
      const run = { modelHash: deployed.modelHash, inputs: deployed.inputs, repeat: 0, warmup: 0, timeoutMs: 0, extraArgs: [] as string[], ...change(deployed) };
      const answer = await raw.request((id) => ({ id, body: 'run', run: run as never }));
      expect(answer).toMatchObject({ body: 'error', error: { code } });
      await raw.channel.transport.close();
    });
  });
});

describe('cancelling a run', () => {
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await startAgent({ env: { AXSIM_FAULT: 'slow=200' } });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('stops run_joint and still delivers the result, marked cancelled', async () => {
    const client = await agent.connect();
    const deployed = await deploy(agent, client);
    const abort = new AbortController();
    // run_joint's stdout is block-buffered into a pipe, so no line marks "running": cancel
    // after a while instead (1000 slowed rounds would take minutes).
    const timer = setTimeout(() => abort.abort(), 1500);
    const result = await client.run({ modelHash: deployed.modelHash, inputs: deployed.inputs, repeat: 1000 }, { signal: abort.signal });
    clearTimeout(timer);
    expect(result.cancelled).toBe(true);
    expect(result.status).toBe('failed');
    expect(result.problems.map((p) => p.code)).toContain('RUN_CANCELLED');
    await client.close();
  });
});

describe('run on an agent started without its run_joint', () => {
  let agent: AgentProcess;
  let client: AgentClient;
  let runJoint: string;
  beforeAll(async () => {
    runJoint = path.join(await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-agent-rj-')), 'run_joint');
    agent = await startAgent({ runJoint });
    client = await agent.connect();
  });
  afterAll(async () => {
    await client?.close();
    await agent?.stop();
    await fsp.rm(path.dirname(runJoint), { recursive: true, force: true });
  });

  it('reports it at the handshake, fails a run with RUN_JOINT_NOT_FOUND, and runs it once it is there (no restart)', async () => {
    expect(client.hello.facts).toMatchObject({ runJointProblem: 'RUN_JOINT_NOT_FOUND', runJointPath: runJoint });
    const deployed = await deploy(agent, client);
    const failed = await client.run({ modelHash: deployed.modelHash, inputs: deployed.inputs });
    expect(failed).toMatchObject({ status: 'failed', exitCode: null, problems: [{ code: 'RUN_JOINT_NOT_FOUND', message: `the agent's run_joint ${runJoint} does not exist on the board` }] });
    await writeSimRunJoint(runJoint);
    const result = await client.run({ modelHash: deployed.modelHash, inputs: deployed.inputs });
    expect(result).toMatchObject({ status: 'ok', exitCode: 0 });
    expect((await client.facts()).runJointProblem).toBe('');
    expect(agent.child.exitCode).toBeNull();
  });
});
