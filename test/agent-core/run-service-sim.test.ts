/**
 * RunService against the project's board simulator (scripts/sim/run-joint.ts, compiled by
 * `npm run build`): the same classification suite as with the small fake, on a run_joint
 * stand-in that follows the real tool's source (stdio buffering, asserts, fault injection).
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RunService, type RunRequest, type RunResult } from '../../agent/run/run-service';
import type { BlobStore } from '../../agent/store/blob-store';
import { makeGt, makeModel, type GtManifest } from '../../scripts/sim/make-gt';
import { putBlob, sha256, tempStore } from './helpers';

const SIM_RUN_JOINT = path.resolve(__dirname, '../../dist/scripts/sim/run-joint.js');

let store: BlobStore;
let dir: string;
let cleanup: () => Promise<void>;
let gt: GtManifest;
let modelHash: string;

beforeAll(() => {
  if (!existsSync(SIM_RUN_JOINT)) throw new Error(`${SIM_RUN_JOINT} is missing: run \`npm run build\` first`);
});

beforeEach(async () => {
  ({ store, dir, cleanup } = await tempStore());
  const modelFile = path.join(dir, 'multi.joint');
  makeModel('multi-input', modelFile);
  gt = await makeGt(modelFile, path.join(dir, 'gt'), { seed: 7 });
  modelHash = await putBlob(store, await fsp.readFile(modelFile));
});
afterEach(() => cleanup());

function simService(fault?: string): RunService {
  return new RunService({ store, runJoint: SIM_RUN_JOINT, killGraceMs: 300, env: { ...process.env, AXSIM_FAULT: fault ?? '' } });
}

/** The gt inputs, listed by name in alphabetical order (the model's order is rgb_image, depth, aux). */
async function gtRequest(replace: Record<string, Buffer> = {}): Promise<RunRequest> {
  const sorted = [...gt.inputs].sort((a, b) => a.name.localeCompare(b.name));
  const inputs = await Promise.all(sorted.map(async (file) => ({ name: file.name, hash: await putBlob(store, replace[file.name] ?? (await fsp.readFile(file.bin))) })));
  return { modelHash, inputs };
}

const codes = (result: RunResult) => result.problems.map((p) => p.code);

describe('RunService with the board simulator', () => {
  it('feeds the gt inputs in model order: the outputs equal gt/joint byte for byte', async () => {
    const result = await simService().run({ ...(await gtRequest()), repeat: 5, warmup: 1 });
    expect(result.problems).toEqual([]);
    expect(result.status).toBe('ok');
    expect(result.parsed.inputs.map((t) => t.name)).toEqual(['rgb_image', 'depth', 'aux']);
    const expected = await Promise.all(gt.joint.map(async (file) => ({ name: file.name, hash: sha256(await fsp.readFile(file.bin)) })));
    expect(result.outputs.map(({ name, hash }) => ({ name, hash }))).toEqual(expected);
    expect(result.parsed.run?.rounds).toBe(4);
  });

  it('keeps the bytes of outputs for sending inline, up to keepOutputBytes in all, and none unasked', async () => {
    const req = await gtRequest();
    const sizes = await Promise.all(gt.joint.map(async (file) => (await fsp.stat(file.bin)).size));
    const budget = Math.max(...sizes); // room for the largest alone, or for the smaller together
    const kept = (result: RunResult) => result.outputs.filter((o) => o.bytes !== undefined);
    const result = await simService().run(req, { keepOutputBytes: budget });
    expect(kept(result).length).toBeGreaterThan(0);
    expect(kept(result).reduce((sum, o) => sum + o.size, 0)).toBeLessThanOrEqual(budget);
    for (const o of kept(result)) expect(sha256(Buffer.from(o.bytes!))).toBe(o.hash);
    expect(kept(await simService().run(req))).toEqual([]);
  });

  it('calls a wrong-size input an input-error', async () => {
    const result = await simService().run(await gtRequest({ depth: Buffer.alloc(10) }));
    expect(result.status).toBe('input-error');
    expect(codes(result)).toEqual(['INPUT_SIZE_WRONG']);
    expect(result.problems[0].message).toContain('input[1] depth');
  });

  it('calls an abort failed with the assertion, the model\'s I/O known from an earlier run', async () => {
    const req = await gtRequest();
    expect((await simService().run(req)).status).toBe('ok');
    const result = await simService('abort').run(req); // a new service: I/O from <store>/model-io.json
    expect(result).toMatchObject({ status: 'failed', signal: 'SIGABRT' });
    expect(codes(result)).toEqual(['RUN_ASSERTION', 'RUN_ABORTED']);
    expect(result.problems[0].message).toContain('AX_JOINT_RunSync');
    expect(result.log).not.toContain('Input[0]');
  });

  it('calls an abort during the first (probe) run failed, with the assertion', async () => {
    const result = await simService('abort').run(await gtRequest());
    expect(result).toMatchObject({ status: 'failed', signal: 'SIGABRT' });
    expect(codes(result)).toEqual(['MODEL_PROBE_FAILED', 'RUN_ASSERTION']);
    expect(result.problems[1].message).toContain('AX_JOINT_RunSync');
  });

  it('calls a failed dump failed (MISSING_OUTPUT)', async () => {
    const result = await simService('no-dump=1').run(await gtRequest());
    expect(result.status).toBe('failed');
    expect(codes(result)).toEqual(['MISSING_OUTPUT']);
    expect(result.problems[0].message).toContain('output[1] head/bbox/pred');
  });

  it('stops a hung run that ignores SIGTERM', async () => {
    const req = await gtRequest();
    await simService().run(req);
    // The timeout leaves the simulator ample time to start and install its SIGTERM handler.
    const result = await simService('hang-ignore-term').run({ ...req, timeoutMs: 3000 });
    expect(result).toMatchObject({ status: 'failed', timedOut: true, signal: 'SIGKILL' });
    expect(codes(result)).toEqual(['RUN_TIMEOUT']);
  });
});
