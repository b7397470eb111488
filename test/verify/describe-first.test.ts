/**
 * verify on a model the host has never seen: it asks the board to describe the model and maps
 * the gt files to the model's own input names before the one run, so an input named with '/'
 * needs no refused run. Against a real agent process, through openBoard with a test opener
 * that counts what the session is asked. Also: a failed run whose dumped outputs cannot be
 * fetched keeps its RUN FAILED verdict.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentBoardSession } from '../../host/board/agent-session';
import { openWithAgent, registerBoardOpener } from '../../host/board/open-board';
import type { AgentReinstall } from '../../shared/run/agent-run-joint-check';
import { DescribeUnsupportedError, type BoardSession } from '../../host/board/session';
import { ConnectError } from '../../shared/errors';
import { HashCache } from '../../host/deploy/hash-cache';
import { createProgress } from '../../host/deploy/progress';
import { ModelIoStore } from '../../host/state/model-io';
import { verify } from '../../host/verify/verify';
import { deploy } from '../../host/deploy/deploy';
import { writeSimRunJoint } from '../built';
import { writeModel } from '../../scripts/sim/make-gt';
import { readyModel } from '../../scripts/sim/ready-models';
import { Cleanup, makeFixture, requireBuild, startAgent, tempDir, type Agent, type Fixture } from '../e2e/helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

interface Counts {
  runs: number;
  runErrors: string[];
  describes: number;
  /** has() round trips (counted by countedBoard only). */
  has?: number;
}

/** A session that passes every call on to `inner` (its methods are not own properties: a spread would drop them). */
function forwarding(inner: BoardSession): BoardSession {
  return {
    identity: inner.identity,
    has: (blobs) => inner.has(blobs),
    upload: (...args) => inner.upload(...args),
    run: (...args) => inner.run(...args),
    describeModel: (...args) => inner.describeModel!(...args),
    download: (...args) => inner.download(...args),
    ...(inner.heldOutput && { heldOutput: (...args: [string, number]) => inner.heldOutput!(...args) }),
    reinstall: inner.reinstall,
    storeCapBytes: inner.storeCapBytes,
    close: () => inner.close(),
  };
}

/** Boards named counted://HOST:PORT are the agent at ws://HOST:PORT, with every call counted. */
function countedBoard(counts: Counts, opts: { describes: boolean }): void {
  registerBoardOpener('counted', async (target, open) => {
    const inner = await openWithAgent({ ...target, url: target.url.replace(/^counted:/, 'ws:') }, open);
    const session: BoardSession = {
      ...forwarding(inner),
      has: async (blobs) => {
        counts.has = (counts.has ?? 0) + 1;
        return inner.has(blobs);
      },
      run: async (req, runOpts) => {
        counts.runs++;
        return inner.run(req, runOpts).catch((err: { code?: string }) => {
          counts.runErrors.push(err.code ?? String(err));
          throw err;
        });
      },
      describeModel: async (hash, describeOpts) => {
        counts.describes++;
        if (!opts.describes) throw new DescribeUnsupportedError(target.url, '0.0.9');
        return inner.describeModel!(hash, describeOpts);
      },
    };
    return session;
  });
}

function verifyOptions(dir: string, agent: Agent, fx: Fixture, ioStore = new ModelIoStore(path.join(dir, 'model-io.json'))) {
  return {
    board: agent.url.replace(/^ws:/, 'counted:'),
    tokenFile: agent.tokenFile,
    model: fx.model,
    gt: fx.gt,
    cwd: dir,
    env: {},
    progress: createProgress('quiet'),
    hashes: new HashCache(path.join(dir, 'hashes.json')),
    ioStore,
  };
}

async function verifyCounted(dir: string, agent: Agent, fx: Fixture, ioStore: ModelIoStore) {
  return verify(verifyOptions(dir, agent, fx, ioStore));
}

/** The multi-input model with its input `depth` renamed `sensor/depth` (gt file sensor_depth.bin). */
async function slashFixture(dir: string): Promise<Fixture> {
  const fx = await makeFixture(path.join(dir, 'data'), 'multi-input', 4);
  const base = readyModel('multi-input');
  const model = path.join(dir, 'slash.joint');
  writeModel({ ...base, inputs: base.inputs.map((t) => (t.name === 'depth' ? { ...t, name: 'sensor/depth' } : t)) }, model);
  for (const ext of ['bin', 'npy']) await fsp.rename(path.join(fx.gt, 'input', `depth.${ext}`), path.join(fx.gt, 'input', `sensor_depth.${ext}`));
  return { ...fx, model };
}

/** Boards named evicting://HOST:PORT delete run inputs from the agent's store before the first `times` runs (another host's eviction). */
function evictingBoard(agent: Agent, counts: Counts, times: number): void {
  registerBoardOpener('evicting', async (target, open) => {
    const inner = await openWithAgent({ ...target, url: target.url.replace(/^evicting:/, 'ws:') }, open);
    return {
      ...forwarding(inner),
      run: async (req, runOpts) => {
        if (counts.runs++ < times) for (const input of req.inputs) await fsp.rm(path.join(agent.storeDir, 'blobs', input.hash), { force: true });
        return inner.run(req, runOpts).catch((err: { code?: string }) => {
          counts.runErrors.push(err.code ?? String(err));
          throw err;
        });
      },
    } satisfies BoardSession;
  });
}

/**
 * A verify of a fresh fixture on an agent whose run inputs vanish before its first `times` runs.
 * `ioStore`: the host's model listings (one that knows the model runs without asking first).
 */
async function verifyEvicting(times: number, ioStore?: (dir: string) => Promise<ModelIoStore>) {
  const agent = await startAgent(cleanup);
  const dir = await tempDir(cleanup);
  const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
  const counts: Counts = { runs: 0, runErrors: [], describes: 0 };
  evictingBoard(agent, counts, times);
  const store = ioStore ? await ioStore(dir) : undefined;
  return { counts, run: () => verify({ ...verifyOptions(dir, agent, fx, store), board: agent.url.replace(/^ws:/, 'evicting:') }) };
}

/** A listing store that knows the model: learnt by a verify on another (fresh) board. */
async function knowingStore(dir: string): Promise<ModelIoStore> {
  const other = await startAgent(cleanup);
  const ioStore = new ModelIoStore(path.join(dir, 'model-io.json'));
  const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
  expect((await verify({ ...verifyOptions(dir, other, fx, ioStore), board: other.url })).report.verdict).toBe('match');
  return ioStore;
}

describe('verify when the board evicts a blob between upload and run', () => {
  it('sends it again once and runs: a match, not BLOB_MISSING (exit 2)', async () => {
    const { counts, run } = await verifyEvicting(1);
    const outcome = await run();
    expect(outcome.report.verdict).toBe('match');
    expect(counts).toMatchObject({ runs: 2, runErrors: ['BLOB_MISSING'] });
  });

  it('says the store cap is too small when it happens again', async () => {
    const { counts, run } = await verifyEvicting(2);
    const err = await run().then(() => null, (e: unknown) => e as { code: string; message: string; hint?: string });
    expect(err).toMatchObject({ code: 'BLOB_MISSING' });
    expect(err!.message).toContain('again after sending it once more');
    // How much of the cap this run needs, so the owner can size it.
    expect(err!.message).toMatch(/\(they take \d+ bytes \([^)]*\) of its store cap of \d+ bytes \([^)]*\); other hosts' uploads need the rest\)$/);
    expect(err!.hint).toContain('--store-cap');
    expect(counts.runs).toBe(2);
  });

  it('with the listing known, asks for the run first: missing blobs are sent on its BLOB_MISSING, evicted ones once more', async () => {
    const { counts, run } = await verifyEvicting(2, knowingStore);
    const outcome = await run();
    expect(outcome.report.verdict).toBe('match');
    expect(counts).toMatchObject({ runs: 3, runErrors: ['BLOB_MISSING', 'BLOB_MISSING'], describes: 0 });
  });
});

describe('verify of a model the host has not seen', () => {
  it("describes the model first: an input named 'sensor/depth' runs once, with no refused run, and the listing is cached", async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await slashFixture(dir);
    const ioStore = new ModelIoStore(path.join(dir, 'model-io.json'));
    const counts: Counts = { runs: 0, runErrors: [], describes: 0 };
    countedBoard(counts, { describes: true });

    const outcome = await verifyCounted(dir, agent, fx, ioStore);
    expect(outcome.report.verdict).toBe('match');
    expect(outcome.report.io.inputs.map((i) => i.name)).toEqual(['rgb_image', 'sensor/depth', 'aux']);
    expect(counts).toMatchObject({ runs: 1, runErrors: [], describes: 1 });
    const cached = await new ModelIoStore(path.join(dir, 'model-io.json')).get(outcome.report.model.hash);
    expect(cached?.inputs.map((t) => t.name)).toEqual(['rgb_image', 'sensor/depth', 'aux']);

    // Known now: the next verify neither describes nor is refused, and asks for the run at
    // once (its blobs are there): no has() round trip before it.
    const hasBefore = counts.has;
    const again = await verifyCounted(dir, agent, fx, ioStore);
    expect(again.report.verdict).toBe('match');
    expect(counts).toEqual({ runs: 2, runErrors: [], describes: 1, has: hasBefore });

    // Another board, which holds none of it: the run's BLOB_MISSING has them sent, then it runs.
    const fresh = await startAgent(cleanup);
    const third = await verifyCounted(dir, fresh, fx, ioStore);
    expect(third.report.verdict).toBe('match');
    expect(counts).toMatchObject({ runs: 4, runErrors: ['BLOB_MISSING'], describes: 1 });
  });

  it('does without a description when the board cannot give one (an older agent): gt file names are the input names', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'multi-input', 2);
    const counts: Counts = { runs: 0, runErrors: [], describes: 0 };
    countedBoard(counts, { describes: false });

    const outcome = await verifyCounted(dir, agent, fx, new ModelIoStore(path.join(dir, 'model-io.json')));
    expect(outcome.report.verdict).toBe('match');
    expect(counts).toMatchObject({ runs: 1, runErrors: [], describes: 1 });
  });
});

describe('verify when the link drops after a failed run', () => {
  it('keeps RUN FAILED when the outputs the run did dump cannot be fetched (agent path)', async () => {
    const agent = await startAgent(cleanup, { fault: 'no-dump=1' });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'multi-input', 3);
    let downloads = 0;
    registerBoardOpener('dropping', async (target, open) => {
      const inner = await openWithAgent({ ...target, url: target.url.replace(/^dropping:/, 'ws:') }, open);
      return {
        ...forwarding(inner),
        // Outputs too large to come back with the result (none held), and the board went down
        // with run_joint: fetching what it dumped fails as a lost link does.
        heldOutput: undefined,
        download: async () => {
          downloads++;
          throw new ConnectError('TRANSPORT_DISCONNECTED', `${target.url}: the connection was lost`);
        },
      } satisfies BoardSession;
    });
    const outcome = await verify({ ...verifyOptions(dir, agent, fx), board: agent.url.replace(/^ws:/, 'dropping:') });
    expect(downloads).toBeGreaterThan(0);
    expect(outcome.report.verdict).toBe('run-failed');
    expect(outcome.report.outputs).toEqual([]);
    expect(outcome.report.advice.join('\n')).toMatch(/OUTPUTS_NOT_COMPARED: the outputs it dumped could not be compared: .*connection was lost/);
  });
});

describe('run_joint removed between the handshake and the description', () => {
  /** Boards named vanishing://HOST:PORT are the agent at ws://HOST:PORT, whose run_joint is removed once the handshake said it is there. */
  async function vanishingBoard(reinstall?: AgentReinstall) {
    const dir = await tempDir(cleanup);
    const runJoint = path.join(dir, 'run_joint');
    await writeSimRunJoint(runJoint);
    const agent = await startAgent(cleanup, { runJoint });
    registerBoardOpener('vanishing', async (target, open) => {
      const opened = await openWithAgent({ ...target, url: target.url.replace(/^vanishing:/, 'ws:') }, open);
      // As the ssh:// opener makes it: knowing how the board was reached (--prefix, --via).
      const inner = reinstall ? new AgentBoardSession((opened as AgentBoardSession).client, { url: target.url, reinstall }) : opened;
      expect(inner.identity.runJointProblem).toBeUndefined();
      await fsp.rm(runJoint);
      return forwarding(inner);
    });
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    return { dir, agent, runJoint, options: { ...verifyOptions(dir, agent, fx), board: agent.url.replace(/^ws:/, 'vanishing:') } };
  }

  /** What to do for this board (a WebSocket agent: restarted, or reinstalled over SSH to its host), which the agent itself does not know. */
  const fix = (board: string) =>
    `(put run_joint back at that path, or restart the agent with the right --run-joint (for a service: reinstall it over SSH with axctl agent install --board ssh://USER@${new URL(board).hostname} --run-joint PATH))`;

  it("verify: the agent's RUN_JOINT_NOT_FOUND is a run-failed verdict with what to do, not an error", async () => {
    const { runJoint, options } = await vanishingBoard();
    const { report } = await verify(options);
    expect(report.verdict).toBe('run-failed');
    expect(report.summary).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    expect(report.advice.join('\n')).toMatch(/^RUN_JOINT_NOT_FOUND: .*does not exist on the board \(put run_joint back at that path/m);
    expect(report.advice[0]).toContain(fix(options.board));
  });

  it('verify of a model whose listing is known (no description, the run asked at once): the failed run says what to do too', async () => {
    const { dir, runJoint, options } = await vanishingBoard();
    const { report } = await verify({ ...options, ioStore: await knowingStore(dir) });
    expect(report.verdict).toBe('run-failed');
    expect(report.summary).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    expect(report.advice).toEqual([expect.stringMatching(/^RUN_JOINT_NOT_FOUND: .*does not exist on the board/)]);
    expect(report.advice[0]).toContain(fix(options.board));
  });

  it('says to reinstall the agent as the board was reached: with its --prefix and --via', async () => {
    const command = 'axctl agent install --board ssh://root@evb --prefix /data/axagent --via ssh://me@gateway';
    const { options } = await vanishingBoard({ command, overSsh: true });
    const { report } = await verify(options);
    expect(report.verdict).toBe('run-failed');
    expect(report.advice[0]).toContain(`${command} --run-joint PATH`);
    expect(report.run.problems).toEqual([{ code: 'RUN_JOINT_NOT_FOUND', message: expect.stringContaining('does not exist on the board'), hint: expect.stringContaining(command) }]);
    const deployed = await deploy((await vanishingBoard({ command, overSsh: true })).options);
    expect(deployed.runJointProblem?.hint).toContain(`${command} --run-joint PATH`);
  });

  it("deploy: the agent's RUN_JOINT_NOT_FOUND is a listing problem: everything is sent, with the warning", async () => {
    const { agent, runJoint, options } = await vanishingBoard();
    const result = await deploy(options);
    expect(result.listing).toBe('none');
    expect(result.listingProblem).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    expect(result.runJointProblem).toMatchObject({ code: 'RUN_JOINT_NOT_FOUND', hint: fix(options.board).slice(1, -1) });
    expect(result.inputs).toHaveLength(1);
    expect(await fsp.readdir(path.join(agent.storeDir, 'blobs'))).toHaveLength(2);
  });
});
