import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunService, type RunRequest, type RunResult } from '../../agent/run/run-service';
import type { BlobStore } from '../../agent/store/blob-store';
import { AxError } from '../../shared/errors';
import { FAKE_RUN_JOINT, fakeModel, putBlob, readTrace, sha256, tempStore, type FakeTensor } from './helpers';

let store: BlobStore;
let dir: string;
let cleanup: () => Promise<void>;
let trace: string;
let service: RunService;

const INPUTS: FakeTensor[] = [{ name: 'zeta', shape: [1, 4], size: 4 }, { name: 'alpha', shape: [1, 4], size: 4 }];
const OUTPUTS: FakeTensor[] = [{ name: 'head/cat', shape: [1, 8], size: 8 }, { name: 'tail', shape: [1, 4], size: 4 }];

beforeEach(async () => {
  ({ store, dir, cleanup } = await tempStore());
  trace = path.join(dir, 'trace');
  service = new RunService({ store, runJoint: FAKE_RUN_JOINT, killGraceMs: 300, env: { ...process.env, FAKE_RUN_JOINT_TRACE: trace } });
});
afterEach(() => cleanup());

/** A model with `behaviour`, and a request feeding it zeta=ZZZZ, alpha=AAAA (listed alphabetically). */
async function request(behaviour: Record<string, unknown> = {}, alpha = 'AAAA'): Promise<RunRequest> {
  const modelHash = await putBlob(store, fakeModel(INPUTS, OUTPUTS, behaviour));
  return {
    modelHash,
    inputs: [{ name: 'alpha', hash: await putBlob(store, alpha) }, { name: 'zeta', hash: await putBlob(store, 'ZZZZ') }],
  };
}

async function rejection(promise: Promise<unknown>): Promise<AxError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AxError);
  return err as AxError;
}

const codes = (result: RunResult) => result.problems.map((p) => p.code);

/** A run's job folder is removed while its result goes out (not before run() resolves). */
const jobFoldersGone = () => vi.waitFor(async () => expect(await fsp.readdir(path.join(store.dir, 'jobs'))).toEqual([]));

describe('RunService: good runs', () => {
  it('feeds inputs in the model\'s order, not by name, and stores the outputs', async () => {
    const lines: string[] = [];
    const result = await service.run({ ...(await request()), repeat: 3 }, { onLine: (_s, line) => lines.push(line) });
    expect(result.status).toBe('ok');
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    // The fake's outputs are its inputs concatenated in --data order: zeta first.
    expect(result.outputs).toEqual([
      { name: 'head/cat', hash: sha256('ZZZZAAAA'), size: 8 },
      { name: 'tail', hash: sha256('ZZZZ'), size: 4 },
    ]);
    expect(Buffer.from(await store.read(result.outputs[0].hash, 0, 8)).toString()).toBe('ZZZZAAAA');
    expect(result.parsed.inputs.map((t) => t.name)).toEqual(['zeta', 'alpha']);
    expect(result.parsed.run?.rounds).toBe(2);
    expect(result.log).toContain('dump output[0] head/cat as');
    expect(lines).toContain('Input[0]: zeta');
    await jobFoldersGone();
  });

  it('passes allowed extra options to run_joint', async () => {
    const result = await service.run({ ...(await request()), extraArgs: ['--mode', '1_1', '--wbt_index=0'] });
    expect(result.status).toBe('ok');
  });
});

describe('RunService: classification', () => {
  it('calls a run fed random data an input-error, naming input, file and reason', async () => {
    const req = await request({}, 'AAA');
    const result = await service.run(req);
    expect(result.status).toBe('input-error');
    expect(result.outputs).toEqual([]);
    expect(codes(result)).toEqual(['INPUT_SIZE_WRONG']);
    const message = result.problems[0].message;
    expect(message).toContain('input[1] alpha');
    expect(message).toContain(await store.pathOf(req.inputs[0].hash));
    expect(message).toContain('expects 4 bytes');
    expect(message).toContain('3 bytes');
  });

  it('calls an aborted run failed, with the assertion from stderr though stdout is lost', async () => {
    const result = await service.run(await request({ abort: 'AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync(h, c, &io)' }));
    expect(result.status).toBe('failed');
    expect(result.signal).toBe('SIGABRT');
    expect(result.log).not.toContain('Input[0]');
    expect(codes(result)).toEqual(['RUN_ASSERTION', 'RUN_ABORTED']);
    expect(result.problems[0].message).toContain('Assertion `AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync(h, c, &io)\' failed.');
    expect(result.outputs).toEqual([]);
  });

  it('calls a run without a successful dump failed (MISSING_OUTPUT), keeping the outputs it did dump', async () => {
    const result = await service.run(await request({ noDump: 'tail' }));
    expect(result.status).toBe('failed');
    expect(codes(result)).toEqual(['MISSING_OUTPUT']);
    expect(result.problems[0].message).toContain('output[1] tail');
    expect(result.outputs).toEqual([{ name: 'head/cat', hash: sha256('ZZZZAAAA'), size: 8 }]);
  });

  it('calls a reported dump whose file is not there failed (MISSING_OUTPUT)', async () => {
    const result = await service.run(await request({ lieDump: 'head/cat' }));
    expect(result.status).toBe('failed');
    expect(codes(result)).toEqual(['MISSING_OUTPUT']);
    expect(result.problems[0].message).toContain('head_cat.bin');
  });

  it('calls a dump of the wrong size failed', async () => {
    const result = await service.run(await request({ shortDump: 'tail' }));
    expect(result.status).toBe('failed');
    expect(codes(result)).toEqual(['OUTPUT_SIZE_MISMATCH']);
    expect(result.problems[0].message).toContain('dumped 3 bytes, expected 4');
  });

  it("accepts a dump of Size / shape[0] * batch when the output's first dimension is not the batch", async () => {
    // 'tail' is [1, 4]; as [2, 2] of a batch-1 model run_joint dumps one of its two rows.
    const twoRows: FakeTensor[] = [OUTPUTS[0]!, { name: 'tail', shape: [2, 2], size: 4 }];
    const modelHash = await putBlob(store, fakeModel(INPUTS, twoRows, { dumpBytes: { tail: 2 } }));
    const inputs = [{ name: 'alpha', hash: await putBlob(store, 'AAAA') }, { name: 'zeta', hash: await putBlob(store, 'ZZZZ') }];
    const ok = await service.run({ modelHash, inputs });
    expect(ok.status).toBe('ok');
    expect(ok.outputs[1]).toMatchObject({ name: 'tail', size: 2 });
    // A size that fits no batch is still a failed run.
    const odd = await putBlob(store, fakeModel(INPUTS, twoRows, { dumpBytes: { tail: 3 } }));
    const failed = await service.run({ modelHash: odd, inputs });
    expect(codes(failed)).toEqual(['OUTPUT_SIZE_MISMATCH']);
  });

  it('takes the batch of the dump rule from the "Using batch size" line (max batch 4, using 1)', async () => {
    const fourRows: FakeTensor[] = [OUTPUTS[0]!, { name: 'tail', shape: [4, 2], size: 8 }];
    const modelHash = await putBlob(store, fakeModel(INPUTS, fourRows, { dumpBytes: { tail: 2 }, batch: { max: 4, using: 1 } }));
    const inputs = [{ name: 'alpha', hash: await putBlob(store, 'AAAA') }, { name: 'zeta', hash: await putBlob(store, 'ZZZZ') }];
    const result = await service.run({ modelHash, inputs });
    expect(result.status).toBe('ok');
    expect(result.outputs[1]).toMatchObject({ name: 'tail', size: 2 });
  });

  it('calls a non-zero exit failed, keeping what it dumped before (no MISSING_OUTPUT for a crash)', async () => {
    const result = await service.run(await request({ exitCode: 3 }));
    expect(result).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(codes(result)).toEqual(['RUN_EXIT_NONZERO']);
    expect(result.outputs.map((o) => o.name)).toEqual(['head/cat', 'tail']);
    // A crash explains outputs it did not dump: only the crash is reported, not each output.
    const partly = await service.run(await request({ exitCode: 3, noDump: 'tail' }));
    expect(codes(partly)).toEqual(['RUN_EXIT_NONZERO']);
    expect(partly.outputs.map((o) => o.name)).toEqual(['head/cat']);
  });

  it('stops a run at its timeout and calls it failed', async () => {
    const result = await service.run({ ...(await request({ sleepMs: 60_000, ignoreTerm: true })), timeoutMs: 2000 });
    expect(result).toMatchObject({ status: 'failed', timedOut: true, signal: 'SIGKILL' });
    expect(codes(result)).toEqual(['RUN_TIMEOUT']);
    await jobFoldersGone();
  });

  it('calls a run whose outputs do not fit in the store failed, keeping none of them', async () => {
    const small = await tempStore(700);
    try {
      const model = fakeModel([{ name: 'x', shape: [1, 1], size: 1 }], [{ name: 'a', shape: [1, 4], size: 4 }, { name: 'big', shape: [1, 600], size: 600 }]);
      const modelHash = await putBlob(small.store, model);
      const local = new RunService({ store: small.store, runJoint: FAKE_RUN_JOINT });
      const result = await local.run({ modelHash, inputs: [{ name: 'x', hash: await putBlob(small.store, 'q') }] });
      expect(result.status).toBe('failed');
      expect(codes(result)).toEqual(['STORE_FULL']);
      expect(result.problems[0].message).toContain('output big');
      expect(result.outputs).toEqual([]);
    } finally {
      await small.cleanup();
    }
  });

  it('reports a missing run_joint as a failed run', async () => {
    const broken = new RunService({ store, runJoint: path.join(dir, 'no-run-joint') });
    const result = await broken.run(await request());
    expect(result.status).toBe('failed');
    expect(codes(result)).toEqual(['RUN_JOINT_NOT_FOUND']);
  });
});

describe('RunService: the queue', () => {
  it('runs two requests one at a time; the second is told position 1, then 0', async () => {
    const req = await request({ sleepMs: 300 });
    await service.run(req); // learn the model's I/O first, so the trace holds only the two runs
    await fsp.rm(trace, { force: true });
    const positions: number[][] = [[], []];
    const waiting: number[] = [];
    const runs = [0, 1].map((i) =>
      service.run(req, {
        onQueue: (p) => {
          positions[i].push(p);
          waiting.push(service.queueLength);
        },
      }),
    );
    const results = await Promise.all(runs);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    // Both are asked for at once: either may reach the queue first (each checks its blobs on
    // the way); one runs at once and is told nothing, the other is told 1, then 0.
    expect(positions.map((p) => p.join(',')).sort()).toEqual(['', '1,0']);
    expect(waiting).toEqual([1, 0]);
    expect(await readTrace(trace)).toEqual(['start', 'end', 'start', 'end']);
    expect(service.queueLength).toBe(0);
  });

  it('drops a cancelled waiting request from the line without running it', async () => {
    const req = await request({ sleepMs: 300 });
    await service.run(req);
    await fsp.rm(trace, { force: true });
    const controller = new AbortController();
    const first = service.run(req);
    // Asked for together, either could reach the queue first (each checks its blobs on the way):
    // the second is asked for once the first's run_joint has started.
    await vi.waitFor(async () => expect(await readTrace(trace)).toEqual(['start']), { timeout: 10_000, interval: 20 });
    const second = service.run(req, { signal: controller.signal, onQueue: (p) => p === 1 && controller.abort() });
    const cancelled = await second;
    expect(cancelled).toMatchObject({ status: 'failed', cancelled: true, exitCode: null });
    expect(codes(cancelled)).toEqual(['RUN_CANCELLED']);
    expect(service.queueLength).toBe(0);
    expect((await first).status).toBe('ok');
    expect(await readTrace(trace)).toEqual(['start', 'end']);
  });

  it('cancels a running request by stopping run_joint', async () => {
    const controller = new AbortController();
    const result = await service.run(await request({ sleepMs: 60_000 }), {
      signal: controller.signal,
      onLine: (_s, line) => line.startsWith('dump output[1]') && controller.abort(),
    });
    expect(result).toMatchObject({ status: 'failed', cancelled: true, signal: 'SIGTERM' });
    expect(codes(result)).toEqual(['RUN_CANCELLED']);
  });
});

describe('RunService: requests it refuses', () => {
  it('names the blobs that are not on the board (BLOB_MISSING)', async () => {
    const req = await request();
    const absent = sha256('never uploaded');
    const err = await rejection(service.run({ ...req, inputs: [req.inputs[0], { name: 'zeta', hash: absent }] }));
    expect(err.code).toBe('BLOB_MISSING');
    expect(err.message).toContain(`input 'zeta' ${absent}`);
    expect((await rejection(service.run({ ...req, modelHash: absent }))).message).toContain(`model ${absent}`);
  });

  it('wants every model input exactly once, by name', async () => {
    const req = await request();
    const missing = await rejection(service.run({ ...req, inputs: [req.inputs[0]] }));
    expect(missing.code).toBe('INPUT_MISSING');
    expect(missing.message).toContain("'zeta'");
    expect(missing.hint).toContain('zeta, alpha');
    const unknown = await rejection(service.run({ ...req, inputs: [...req.inputs, { name: 'beta', hash: req.inputs[0].hash }] }));
    expect(unknown.code).toBe('INPUT_UNKNOWN');
    expect(unknown.message).toContain("'beta'");
    expect((await rejection(service.run({ ...req, inputs: [req.inputs[0], req.inputs[0]] }))).code).toBe('INPUT_DUPLICATE');
  });

  it('checks repeat, warmup, timeout, options and hashes before queueing', async () => {
    const req = await request();
    const limited = new RunService({ store, runJoint: FAKE_RUN_JOINT, maxRepeat: 100 });
    expect((await rejection(limited.run({ ...req, repeat: -1 }))).code).toBe('BAD_REPEAT');
    expect((await rejection(limited.run({ ...req, repeat: 101 }))).code).toBe('BAD_REPEAT');
    expect((await rejection(limited.run({ ...req, repeat: 1.5 }))).code).toBe('BAD_REPEAT');
    expect((await rejection(limited.run({ ...req, warmup: -1 }))).code).toBe('BAD_WARMUP');
    expect((await rejection(limited.run({ ...req, timeoutMs: -5 }))).code).toBe('BAD_TIMEOUT');
    expect((await rejection(limited.run({ ...req, inputs: [{ name: '../zeta', hash: req.inputs[0]!.hash }] }))).code).toBe('BAD_TENSOR_NAME');
    expect((await rejection(limited.run({ ...req, extraArgs: ['--bin-out-dir', '/tmp'] }))).code).toBe('OPTION_NOT_ALLOWED');
    expect((await rejection(limited.run({ ...req, modelHash: '../x' }))).code).toBe('BAD_HASH');
    expect((await rejection(limited.run({ ...req, inputs: [{ name: 'zeta', hash: '/etc/passwd' }] }))).code).toBe('BAD_HASH');
    expect(await readTrace(trace)).toEqual([]);
  });

  it('unpins the blobs after the run, so they can be evicted again', async () => {
    const small = await tempStore(200);
    try {
      const modelHash = await putBlob(small.store, fakeModel([{ name: 'x', shape: [1, 1], size: 1 }], [{ name: 'y', shape: [1, 1], size: 1 }]));
      const input = await putBlob(small.store, 'q');
      const local = new RunService({ store: small.store, runJoint: FAKE_RUN_JOINT });
      expect((await local.run({ modelHash, inputs: [{ name: 'x', hash: input }] })).status).toBe('ok');
      await putBlob(small.store, 'f'.repeat(190));
      expect(await small.store.has(modelHash)).toBeNull();
    } finally {
      await small.cleanup();
    }
  });
});
