import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelIoCache, type ProbeRun } from '../../agent/run/model-io';
import { ModelProbeError } from '../../shared/run/model-io';
import { spawnRunJoint } from '../../agent/run/runner';
import type { BlobStore } from '../../agent/store/blob-store';
import { FAKE_RUN_JOINT, fakeModel, putBlob, readTrace, tempStore } from './helpers';

let store: BlobStore;
let dir: string;
let cleanup: () => Promise<void>;
let trace: string;

beforeEach(async () => {
  ({ store, dir, cleanup } = await tempStore());
  trace = path.join(dir, 'trace');
});
afterEach(() => cleanup());

const LIMIT_MS = 30_000;
const probeWithFake: () => ProbeRun = () => (args, cwd) =>
  spawnRunJoint({ runJoint: FAKE_RUN_JOINT, args, cwd, timeoutMs: LIMIT_MS, env: { ...process.env, FAKE_RUN_JOINT_TRACE: trace } });

const model = fakeModel(
  [{ name: 'zeta', shape: [1, 2, 2, 1], size: 4 }, { name: 'alpha', shape: [1, 4], size: 4 }],
  [{ name: 'head/out', shape: [1, 8], size: 8 }],
);

describe('ModelIoCache', () => {
  it('learns the input order from a probe run, once per model', async () => {
    const hash = await putBlob(store, model);
    const cache = new ModelIoCache(store);
    const seen: string[][] = [];
    const run: ProbeRun = (args, cwd) => {
      seen.push(args);
      expect(path.dirname(cwd)).toBe(path.join(store.dir, 'jobs'));
      return probeWithFake()(args, cwd);
    };
    const io = await cache.get(hash, await store.pathOf(hash), run, LIMIT_MS);
    expect(io.inputs.map((t) => t.name)).toEqual(['zeta', 'alpha']);
    expect(io.inputs[0]).toMatchObject({ index: 0, shape: [1, 2, 2, 1], size: 4 });
    expect(io.outputs.map((t) => t.name)).toEqual(['head/out']);
    expect(seen).toEqual([[await store.pathOf(hash), '--repeat', '1']]);
    await cache.get(hash, await store.pathOf(hash), run, LIMIT_MS);
    expect(seen).toHaveLength(1);
    expect(await readTrace(trace)).toEqual(['start', 'end']);
    expect(await fsp.readdir(path.join(store.dir, 'jobs'))).toEqual([]);
  });

  it('keeps what it learnt in the store for the next agent', async () => {
    const hash = await putBlob(store, model);
    await new ModelIoCache(store).get(hash, await store.pathOf(hash), probeWithFake(), LIMIT_MS);
    const never: ProbeRun = () => {
      throw new Error('must not probe again');
    };
    const io = await new ModelIoCache(store).get(hash, await store.pathOf(hash), never, LIMIT_MS);
    expect(io.inputs.map((t) => t.name)).toEqual(['zeta', 'alpha']);
    const saved = JSON.parse(await fsp.readFile(path.join(store.dir, 'model-io.json'), 'utf8'));
    expect(Object.keys(saved.models)).toEqual([hash]);
  });

  it('probes again when the saved file is damaged', async () => {
    const hash = await putBlob(store, model);
    await fsp.writeFile(path.join(store.dir, 'model-io.json'), '{"version":1,"models":');
    const io = await new ModelIoCache(store).get(hash, await store.pathOf(hash), probeWithFake(), LIMIT_MS);
    expect(io.outputs).toHaveLength(1);
  });

  it('says RUN_TIMEOUT with the limit (--timeout), not how long the stopped probe took', async () => {
    const hash = await putBlob(store, model);
    const stopped: ProbeRun = async () => ({ exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: true, cancelled: false, durationMs: 1024 });
    const err = await new ModelIoCache(store).get(hash, await store.pathOf(hash), stopped, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RUN_TIMEOUT', message: "run_joint did not finish listing the model's inputs and outputs within 1000 ms" });
  });

  it('says MODEL_PROBE_FAILED with run_joint\'s words when no listing comes out', async () => {
    const hash = await putBlob(store, 'not json, not a model');
    const err = await new ModelIoCache(store).get(hash, await store.pathOf(hash), probeWithFake(), LIMIT_MS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelProbeError);
    expect((err as ModelProbeError).code).toBe('MODEL_PROBE_FAILED');
    expect((err as ModelProbeError).message).toContain('read file');
    expect((err as ModelProbeError).outcome.exitCode).toBe(255);
  });
});
