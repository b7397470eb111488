/**
 * DescribeModel: the wire messages round-trip, and a real agent process describes a stored
 * model from run_joint's own listing (names with '/', run_joint's order, sizes, Q), refuses a
 * model it does not hold, and an agent older than protocol 1.1 is a typed error to fall back on.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeUnsupportedError, ModelProbeFailedError, type AgentClient } from '../../host/client/agent-client';
import { decodeEnvelope, encodeEnvelope, PROTOCOL_MINOR, type Envelope } from '../../shared/protocol/envelope';
import { makeGt, makeModel, type GtManifest } from '../../scripts/sim/make-gt';
import { rawSession, sha256, startAgent, type AgentProcess } from './helpers';

describe('DescribeModel on the wire', () => {
  it('round-trips the request and the description, absent values as zeros', () => {
    const request: Envelope = { id: 7, body: 'describeModel', describeModel: { modelHash: 'a'.repeat(64), timeoutMs: 5000 } };
    expect(decodeEnvelope(encodeEnvelope(request))).toEqual(request);
    const answer: Envelope = {
      id: 7,
      body: 'modelDescription',
      modelDescription: {
        inputs: [{ name: 'sensor/depth', shape: [1, 32, 32, 1], layout: 'NHWC', dtype: 'uint8', colorSpace: 'FeatureMap', q: 0, size: 1024 }],
        outputs: [{ name: 'head/cls_score', shape: [1, 10], layout: '', dtype: 'sint8', colorSpace: '', q: 32, size: 10 }],
        maxBatchSize: 0,
      },
    };
    expect(decodeEnvelope(encodeEnvelope(answer))).toEqual(answer);
  });

  it('is a minor addition: protocol 1.1 (minors only grow)', () => {
    expect(PROTOCOL_MINOR).toBeGreaterThanOrEqual(1);
  });
});

describe('describing a model on the agent', () => {
  let agent: AgentProcess;
  let client: AgentClient;
  let modelHash: string;
  let gt: GtManifest;
  beforeAll(async () => {
    agent = await startAgent();
    client = await agent.connect();
    const modelFile = path.join(agent.dir, 'multi.joint');
    makeModel('multi-input', modelFile);
    gt = await makeGt(modelFile, path.join(agent.dir, 'gt'), { seed: 3 });
    const data = await fsp.readFile(modelFile);
    modelHash = sha256(data);
    await client.putFile(modelFile, modelHash, data.length);
  });
  afterAll(async () => {
    await client?.close();
    await agent?.stop();
  });

  it("lists the inputs in run_joint's order with their sizes, and the outputs with Q", async () => {
    const io = await client.describeModel(modelHash);
    expect(io.inputs.map((t) => t.name)).toEqual(['rgb_image', 'depth', 'aux']);
    for (const input of gt.inputs) {
      expect(io.inputs.find((t) => t.name === input.name)?.size).toBe((await fsp.stat(input.bin)).size);
    }
    expect(io.outputs.map((t) => [t.name, t.dtype, t.layout, t.q])).toEqual([
      ['head/cls_score', 'sint8', 'NHWC', 32],
      ['head/bbox/pred', 'float32', 'NCHW', null],
    ]);
    expect(io.inputs.every((t, i) => t.index === i && t.shape.length > 0)).toBe(true);
    // The probe's answer is the agent's cache: kept in the store for later runs and restarts.
    expect(await fsp.readFile(path.join(agent.storeDir, 'model-io.json'), 'utf8')).toContain(modelHash);
  });

  it('refuses a model the board does not hold (BLOB_MISSING) and a malformed hash (BAD_HASH)', async () => {
    await expect(client.describeModel('c'.repeat(64))).rejects.toMatchObject({ code: 'BLOB_MISSING', exitCode: 2 });
    const raw = await rawSession(agent);
    const answer = await raw.request((id) => ({ id, body: 'describeModel', describeModel: { modelHash: '../etc/passwd', timeoutMs: 0 } }));
    expect(answer).toMatchObject({ body: 'error', error: { code: 'BAD_HASH' } });
    await raw.channel.transport.close();
  });

  it('an agent of protocol 1.0 cannot describe: DescribeUnsupportedError, nothing sent', async () => {
    const older = await agent.connect();
    (older.hello as { protocolMinor: number }).protocolMinor = 0;
    const err = await older.describeModel(modelHash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DescribeUnsupportedError);
    expect(err).toMatchObject({ code: 'DESCRIBE_UNSUPPORTED', exitCode: 5 });
    await older.close();
  });
});

describe('describing a model that fails run_joint', () => {
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await startAgent({ env: { AXSIM_FAULT: 'abort' } });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('answers with the failed probe run and its evidence, as a run would (ModelProbeFailedError)', async () => {
    const client = await agent.connect();
    const modelFile = path.join(agent.dir, 'model.joint');
    makeModel('classifier', modelFile);
    const data = await fsp.readFile(modelFile);
    await client.putFile(modelFile, sha256(data), data.length);
    const err = await client.describeModel(sha256(data)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelProbeFailedError);
    const { result } = err as ModelProbeFailedError;
    expect(result).toMatchObject({ status: 'failed', signal: 'SIGABRT' });
    expect(result.problems.map((p) => p.code)).toEqual(['MODEL_PROBE_FAILED', 'RUN_ASSERTION']);
    await client.close();
  });
});
