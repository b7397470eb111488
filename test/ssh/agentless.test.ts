/**
 * Agentless SSH against a real sshd: the host uploads over SFTP into the board's cache, runs
 * run_joint (the board simulator, at a path with a space) over SSH and fetches the outputs;
 * the verdicts must be those of the agent. A model whose tensor names need quoting and a cache
 * folder whose path does prove the quoting; the simulator's fault switches give every verdict.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../../host/ssh/register';
import { openAgentless, type AgentlessOptions } from '../../host/ssh/agentless/open';
import type { AgentlessSession } from '../../host/ssh/agentless/session';
import { remoteRunCommand } from '../../host/ssh/agentless/remote-run';
import { isAxError, type AxError } from '../../shared/errors';
import { makeGt, writeModel } from '../../scripts/sim/make-gt';
import { readyModel } from '../../scripts/sim/ready-models';
import { fixture, knownHostsFor, loginTo, requireBuild, runJointAt, tempDir, trust, verifyOn, type Fixture } from './helpers';
import { startSshd, type Sshd } from './sshd';

let board: Sshd;
let gateway: Sshd;
let dir: string;
let cacheDir: string;
let runJoint: string;
let classifier: Fixture;
let quoted: Fixture;
const sessions: AgentlessSession[] = [];

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The multi-input model with tensor names a shell would mangle. */
const QUOTED_INPUTS = ["rgb image's", 'depth;1', '$aux'];
const QUOTED_OUTPUTS = ['head/cls score', 'head/bbox/"pred"'];

beforeAll(async () => {
  requireBuild();
  dir = await tempDir();
  cacheDir = path.join(dir, "board cache's $HOME");
  [board, gateway] = await Promise.all([startSshd(), startSshd()]);
  await trust(gateway, board);
  runJoint = await runJointAt(dir);
  classifier = await fixture(path.join(dir, 'data'));
  const model = readyModel('multi-input');
  const renamed = {
    ...model,
    inputs: model.inputs.map((t, i) => ({ ...t, name: QUOTED_INPUTS[i]! })),
    outputs: model.outputs.map((t, i) => ({ ...t, name: QUOTED_OUTPUTS[i]! })),
  };
  const file = path.join(dir, 'data', 'quoted.joint');
  writeModel(renamed, file);
  await makeGt(file, path.join(dir, 'data', 'gt-quoted'), { seed: 7 });
  quoted = { model: file, gt: path.join(dir, 'data', 'gt-quoted') };
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await Promise.all([board?.stop(), gateway?.stop()]);
  await fsp.rm(dir, { recursive: true, force: true });
});

async function open(opts: Partial<AgentlessOptions> = {}): Promise<AgentlessSession> {
  const session = await openAgentless({ url: board.url, ...loginTo(board), runJoint, cacheDir, ...opts });
  sessions.push(session);
  return session;
}

async function failure(promise: Promise<unknown>): Promise<AxError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(isAxError(err)).toBe(true);
  return err as AxError;
}

/** Puts a file on the board as a blob; returns its hash and size. */
async function put(session: AgentlessSession, file: string): Promise<{ hash: string; size: number }> {
  const data = await fsp.readFile(file);
  const hash = sha256(data);
  await session.upload(file, hash, data.length);
  return { hash, size: data.length };
}

async function classifierRequest(session: AgentlessSession, inputFile = path.join(classifier.gt, 'input', 'data.bin')) {
  const model = await put(session, classifier.model);
  const input = await put(session, inputFile);
  return { modelHash: model.hash, inputs: [{ name: 'data', hash: input.hash }] };
}

describe('agentless verify', () => {
  it('verifies a model end to end with no agent on the board (match, exit 0)', async () => {
    const { report } = await verifyOn(dir, board.url, classifier, { agentless: true, ssh: { ...loginTo(board), runJoint, cacheDir } });
    expect(report.verdict).toBe('match');
    expect(report.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', exact: true, pass: true });
    expect(report.board.url).toBe(board.url);
    expect(report.board.agentVersion).toBeUndefined();
    expect(report.board.runJointVersion).toBe('0.5.10');
    // The cache holds the blobs and the model's listing; the run folder is gone.
    expect((await fsp.readdir(path.join(cacheDir, 'blobs'))).length).toBe(2);
    expect(await fsp.readdir(path.join(cacheDir, 'model-io'))).toHaveLength(1);
    expect(await fsp.readdir(path.join(cacheDir, 'runs'))).toEqual([]);
  });

  it('feeds inputs in the model\'s order and keeps tensor names that need quoting intact', async () => {
    const { report } = await verifyOn(dir, board.url, quoted, { agentless: true, ssh: { ...loginTo(board), runJoint, cacheDir } });
    expect(report.verdict).toBe('match');
    expect(report.io.inputs.map((t) => t.name)).toEqual(QUOTED_INPUTS);
    expect(report.outputs.map((o) => [o.name, o.exact])).toEqual([[QUOTED_OUTPUTS[0], true], [QUOTED_OUTPUTS[1], true]]);
  });

  it('verifies through a jump host', async () => {
    const knownHosts = await knownHostsFor(dir, [board, gateway]);
    const { report } = await verifyOn(dir, board.url, classifier, { agentless: true, ssh: { ...loginTo(board), knownHosts, via: [gateway.url], runJoint, cacheDir } });
    expect(report.verdict).toBe('match');
  });

  it('gives the agent\'s verdicts for a crashing, a hanging and a dump-less run_joint', async () => {
    const abort = await verifyOn(dir, board.url, classifier, { agentless: true, ssh: { ...loginTo(board), runJoint: await runJointAt(dir, 'abort'), cacheDir } });
    expect(abort.report.verdict).toBe('run-failed');
    expect(abort.report.run).toMatchObject({ signal: 'SIGABRT' });
    const hang = await verifyOn(dir, board.url, classifier, { agentless: true, timeoutMs: 1500, ssh: { ...loginTo(board), runJoint: await runJointAt(dir, 'hang'), cacheDir } });
    expect(hang.report.verdict).toBe('run-failed');
    expect(hang.report.run.timedOut).toBe(true);
    const noDump = await verifyOn(dir, board.url, classifier, { agentless: true, ssh: { ...loginTo(board), runJoint: await runJointAt(dir, 'no-dump'), cacheDir } });
    expect(noDump.report.verdict).toBe('run-failed');
    const perturb = await verifyOn(dir, board.url, classifier, { agentless: true, ssh: { ...loginTo(board), runJoint: await runJointAt(dir, 'perturb'), cacheDir } });
    expect(perturb.report.verdict).toBe('mismatch');
  });
});

describe('AgentlessSession', () => {
  it('says who it is and skips what the board already holds', async () => {
    const session = await open();
    expect(session.identity).toMatchObject({ url: board.url, mode: 'agentless' });
    await session.ready(); // the rest comes from the board's shell
    expect(session.identity.hostname).toBeTruthy();
    expect(session.identity.freeBytes).toBeGreaterThan(0);
    const data = await fsp.readFile(classifier.model);
    const progress: number[] = [];
    const first = await session.upload(classifier.model, sha256(data), data.length, (p) => progress.push(p.doneBytes));
    const again = await session.upload(classifier.model, sha256(data), data.length);
    expect(again.sentBytes).toBe(0);
    expect(first.sentBytes === data.length || first.sentBytes === 0).toBe(true);
    expect(progress[progress.length - 1]).toBe(data.length);
    expect(await session.has([{ hash: sha256(data), size: data.length }, { hash: sha256(data), size: data.length + 1 }, { hash: 'a'.repeat(64), size: 1 }])).toEqual([true, false, false]);
  });

  it('puts a ~/ or relative cache folder in the SSH user\'s home, made over SFTP', async () => {
    // The board's login is this user: its home is ours (folders there, removed afterwards).
    const home = os.userInfo().homedir;
    const names = [`.axctl-test-cache-${process.pid}-a`, `.axctl-test-cache-${process.pid}-b`];
    try {
      for (const [given, name] of [[`~/${names[0]}/inner`, names[0]!], [`${names[1]}/inner`, names[1]!]] as const) {
        const session = await open({ cacheDir: given });
        const { hash } = await put(session, classifier.model);
        expect(await fsp.readFile(path.join(home, name, 'inner', 'blobs', hash))).toEqual(await fsp.readFile(classifier.model));
        expect((await fsp.stat(path.join(home, name))).mode & 0o777, 'a parent it made').toBe(0o700);
      }
    } finally {
      for (const name of names) await fsp.rm(path.join(home, name), { recursive: true, force: true });
    }
  });

  it('refuses a cache folder it cannot make (SSH_CACHE_UNUSABLE) or whose path run_joint would split (SSH_BAD_CACHE_DIR), exit 2', async () => {
    const inTheWay = path.join(dir, 'a-file');
    await fsp.writeFile(inTheWay, 'not a folder');
    const failure = (opts: Partial<AgentlessOptions>) => open(opts).then(() => null, (err: unknown) => err as AxError);
    const unusable = await failure({ cacheDir: path.join(inTheWay, 'cache') });
    expect(unusable).toMatchObject({ code: 'SSH_CACHE_UNUSABLE', exitCode: 2 });
    expect(unusable!.message).toContain(`cannot create the cache folder ${path.join(inTheWay, 'cache')}`);
    expect(unusable!.hint).toMatch(/writable folder/);
    expect(await failure({ cacheDir: path.join(dir, 'a;b') })).toMatchObject({ code: 'SSH_BAD_CACHE_DIR', exitCode: 2 });
  });

  it('keeps the cache private to the SSH user: folders 0700, blobs 0400', async () => {
    const privateCache = path.join(dir, 'private-cache');
    const session = await open({ cacheDir: privateCache });
    const { hash } = await put(session, classifier.model);
    const mode = async (p: string) => (await fsp.stat(p)).mode & 0o777;
    expect(await mode(privateCache)).toBe(0o700);
    for (const folder of ['blobs', 'partial', 'model-io', 'runs']) expect(await mode(path.join(privateCache, folder)), folder).toBe(0o700);
    expect(await mode(path.join(privateCache, 'blobs', hash))).toBe(0o400);
  });

  it('resumes a partial upload and refuses content that is not what its name says', async () => {
    const session = await open();
    const file = path.join(dir, 'resume.bin');
    const data = Buffer.alloc(300_000, 7);
    data.write('resume me');
    await fsp.writeFile(file, data);
    const hash = sha256(data);
    await fsp.writeFile(path.join(cacheDir, 'partial', `${hash}.part`), data.subarray(0, 100_000));
    expect((await session.upload(file, hash, data.length)).sentBytes).toBe(200_000);
    expect((await fsp.readFile(path.join(cacheDir, 'blobs', hash))).equals(data)).toBe(true);

    // A partial whose first part is not that blob's is caught by the board's sha256sum and dropped.
    const other = Buffer.alloc(300_000, 9);
    const otherFile = path.join(dir, 'other.bin');
    await fsp.writeFile(otherFile, other);
    const otherPartial = path.join(cacheDir, 'partial', `${sha256(other)}.part`);
    await fsp.writeFile(otherPartial, Buffer.alloc(1000, 1));
    expect((await failure(session.upload(otherFile, sha256(other), other.length))).code).toBe('SSH_UPLOAD_CORRUPT');
    await expect(fsp.access(otherPartial)).rejects.toThrow();
    // A local file that is not what its hash says (it changed since hashing) is refused too.
    const changed = await failure(session.upload(otherFile, 'd'.repeat(64), other.length));
    expect(changed.code).toBe('FILE_CHANGED');
    expect(changed.exitCode).toBe(2);
    expect(await fsp.readdir(path.join(cacheDir, 'partial'))).toEqual([]);

    // Damage the stored blob (same size): a new session checks it with sha256sum and drops it.
    const stored = path.join(cacheDir, 'blobs', hash);
    await fsp.chmod(stored, 0o644);
    await fsp.writeFile(stored, Buffer.alloc(data.length, 1));
    const fresh = await open();
    expect(await fresh.has([{ hash, size: data.length }])).toEqual([false]);
    await expect(fsp.access(stored)).rejects.toThrow();
  });

  it('calls a run on random data input-error, as the agent does (wrong-sized input)', async () => {
    const session = await open();
    const wrong = path.join(dir, 'short.bin');
    await fsp.writeFile(wrong, Buffer.alloc(100, 3));
    const result = await session.run(await classifierRequest(session, wrong));
    expect(result.status).toBe('input-error');
    expect(result.problems.map((p) => p.code)).toContain('INPUT_SIZE_WRONG');
    expect(result.outputs).toEqual([]);
  });

  it('runs, streams lines and fetches outputs that download() hands over hash-checked', async () => {
    const session = await open();
    const lines: string[] = [];
    const result = await session.run(await classifierRequest(session), { onLine: (_s, line) => lines.push(line) });
    expect(result.status).toBe('ok');
    expect(result.exitCode).toBe(0);
    expect(lines).toContain('run joint version: 0.5.10');
    expect(result.stderr).not.toContain('axctl-run-pid');
    const [out] = result.outputs;
    const to = path.join(dir, 'fetched', 'out.bin');
    await session.download(out!.hash, out!.size, to);
    expect(sha256(await fsp.readFile(to))).toBe(out!.hash);
    expect((await fsp.readFile(to)).equals(await fsp.readFile(path.join(classifier.gt, 'joint', 'resnetv15_dense0_fwd.bin')))).toBe(true);
    // A blob that is not an output comes straight from the board's cache.
    const modelData = await fsp.readFile(classifier.model);
    await session.download(sha256(modelData), modelData.length, path.join(dir, 'fetched', 'model.joint'));
    expect((await fsp.readFile(path.join(dir, 'fetched', 'model.joint'))).equals(modelData)).toBe(true);
    expect((await failure(session.download('b'.repeat(64), 10, path.join(dir, 'fetched', 'none')))).code).toBe('BLOB_NOT_FOUND');
  });

  it('stops a cancelled run on the board', async () => {
    // A healthy run first, so the model's listing is in the cache (the hanging tool would hang its probe too).
    const healthy = await open();
    const req = await classifierRequest(healthy);
    expect((await healthy.run(req)).status).toBe('ok');
    const session = await open({ runJoint: await runJointAt(dir, 'hang-ignore-term'), killGraceMs: 300 });
    await session.ready(); // the board's shell has answered: the second below is run_joint's
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 1000);
    const result = await session.run(req, { signal: controller.signal });
    clearTimeout(timer);
    expect(result).toMatchObject({ status: 'failed', cancelled: true });
    expect(result.signal).toBe('SIGKILL'); // it ignores SIGTERM: the grace period ran out
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(path.join(cacheDir, 'blobs', req.modelHash)));
    expect(left).toEqual([]);
  });

  it('stops run_joint on the board when the session is closed during a run', async () => {
    const healthy = await open();
    const req = await classifierRequest(healthy); // the model's listing is cached by earlier runs of it
    expect((await healthy.run(req)).status).toBe('ok');
    const session = await open({ runJoint: await runJointAt(dir, 'hang'), killGraceMs: 300 });
    await session.ready(); // the board's shell has answered: the second below is run_joint's
    const pending = session.run(req);
    await new Promise((r) => setTimeout(r, 1000));
    await session.close();
    expect(await pending).toMatchObject({ status: 'failed', cancelled: true });
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(path.join(cacheDir, 'blobs', req.modelHash)));
    expect(left).toEqual([]);
  });

  it('takes turns with another host on the same board: the second waits (queue 1, then 0) and its time limit starts with its own run', async () => {
    const healthy = await open();
    const req = await classifierRequest(healthy); // the model's listing is cached: no probe below
    expect((await healthy.run(req)).status).toBe('ok');
    const [first, second] = await Promise.all([open({ runJoint: await runJointAt(dir, 'slow=5000') }), open({ runJoint: await runJointAt(dir, 'slow=100') })]);
    await Promise.all([first.ready(), second.ready()]); // the timings below are the runs'
    const running = first.run(req);
    // Until the first run holds the board's lock (this board is this machine: ask flock).
    const lock = path.join(cacheDir, 'run.lock');
    for (let i = 0; spawnSync('flock', ['-n', lock, 'true']).status === 0; i++) {
      if (i > 400) throw new Error('the first run never took the lock');
      await new Promise((r) => setTimeout(r, 25));
    }
    const positions: number[] = [];
    const waitedFrom = performance.now();
    // 2.5 s is enough for its own run, not for the wait as well: counted from the start, it would time out.
    const result = await second.run({ ...req, timeoutMs: 2500 }, { onQueue: (p) => positions.push(p) });
    const waited = performance.now() - waitedFrom;
    const before = await running;
    expect(before.status).toBe('ok');
    expect(result.status).toBe('ok');
    expect(positions).toEqual([1, 0]);
    expect(waited).toBeGreaterThan(2000); // it ran after the first one's 5 s, not beside it
    expect(result.durationMs).toBeLessThan(waited - 1000); // its duration is its own run's, without the wait
  });

  it('stops waiting for the board\'s lock when cancelled, without running run_joint or disturbing the run that holds it', async () => {
    const healthy = await open();
    const req = await classifierRequest(healthy); // the model's listing is cached: no probe below
    expect((await healthy.run(req)).status).toBe('ok');
    // Long enough that the second reaches the lock while the first holds it, also when each
    // command through the login shell takes seconds (a full test run's load).
    const slow = await runJointAt(dir, 'slow=6000');
    const [first, second] = await Promise.all([open({ runJoint: slow }), open({ runJoint: slow })]);
    await Promise.all([first.ready(), second.ready()]); // the second reaches the lock while the first holds it
    const running = first.run(req);
    const lock = path.join(cacheDir, 'run.lock');
    for (let i = 0; spawnSync('flock', ['-n', lock, 'true']).status === 0; i++) {
      if (i > 400) throw new Error('the first run never took the lock');
      await new Promise((r) => setTimeout(r, 25));
    }
    const controller = new AbortController();
    const positions: number[] = [];
    const waiting = second.run(req, { signal: controller.signal, onQueue: (p) => {
      positions.push(p);
      if (p === 1) controller.abort();
    } });
    const cancelled = await waiting;
    expect(positions).toEqual([1]);
    expect(cancelled).toMatchObject({ status: 'failed', cancelled: true });
    expect(cancelled.outputs).toEqual([]);
    expect(await running).toMatchObject({ status: 'ok' }); // the holder ran to the end
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes('flock') && l.includes(lock));
    expect(left).toEqual([]);
  });

  it('says RUN_JOINT_NOT_FOUND when run_joint is not on the board', async () => {
    const session = await open({ runJoint: 'no-such-run_joint' });
    const result = await session.run(await classifierRequest(session));
    expect(result.status).toBe('failed');
    expect(result.problems[0]).toMatchObject({ code: 'RUN_JOINT_NOT_FOUND' });
    expect(result.problems[0]!.message).toBe(`no-such-run_joint: not found on ${board.url} (not on the login shell's PATH, or not executable); give its path with --run-joint`);
  });

  it('names the path it tried for a --run-joint path, and what is wrong with it (not "give its path")', async () => {
    const gone = path.join(dir, 'no', 'run_joint');
    const session = await open({ runJoint: gone });
    const req = await classifierRequest(session);
    const result = await session.run(req);
    expect(result.problems[0]).toEqual({ code: 'RUN_JOINT_NOT_FOUND', message: `run_joint ${gone} does not exist on ${board.url}; check the path given with --run-joint` });
    // The model's listing is asked for first on a fresh model: the same words.
    const err = await failure(session.describeModel(req.modelHash));
    expect(err).toMatchObject({ code: 'RUN_JOINT_NOT_FOUND', message: `run_joint ${gone} does not exist on ${board.url}`, hint: 'check the path given with --run-joint' });

    // ~/x is in the login's home: the path it stands for is shown.
    const inHomeGiven = `~/axctl-test-nothing-${process.pid}/run_joint`;
    const inHome = await open({ runJoint: inHomeGiven });
    expect((await inHome.run(await classifierRequest(inHome))).problems[0]!.message).toBe(
      `run_joint ${path.join(os.userInfo().homedir, inHomeGiven.slice(2))} (--run-joint ${inHomeGiven}) does not exist on ${board.url}; check the path given with --run-joint`,
    );

    // There but not executable: chmod +x it.
    const plain = path.join(dir, 'rj-not-executable');
    await fsp.writeFile(plain, '#!/bin/sh\n', { mode: 0o644 });
    const notExecutable = await open({ runJoint: plain });
    expect((await notExecutable.run(await classifierRequest(notExecutable))).problems[0]).toEqual({
      code: 'RUN_JOINT_NOT_EXECUTABLE',
      message: `run_joint ${plain} is not executable on ${board.url}; chmod +x ${plain}`,
    });

    // A folder (searchable, so "executable") is not a program either.
    const folder = await open({ runJoint: dir });
    expect((await folder.run(await classifierRequest(folder))).problems[0]).toEqual({
      code: 'RUN_JOINT_NOT_EXECUTABLE',
      message: `run_joint ${dir} is not a file on ${board.url}; give the path of the run_joint program itself`,
    });
  });

  it('refuses what the agent refuses, before anything runs', async () => {
    const session = await open();
    const req = await classifierRequest(session);
    expect((await failure(session.run({ ...req, extraArgs: ['--data', 'x'] }))).code).toBe('OPTION_NOT_ALLOWED');
    expect((await failure(session.run({ ...req, inputs: [{ name: 'nope', hash: req.inputs[0]!.hash }] }))).code).toBe('INPUT_UNKNOWN');
    expect((await failure(session.run({ ...req, modelHash: 'c'.repeat(64) }))).code).toBe('BLOB_MISSING');
    expect((await failure(session.run({ ...req, repeat: -1 }))).code).toBe('BAD_REPEAT');
  });
});

describe('remoteRunCommand', () => {
  it('runs without the lock on a board that has no flock', async () => {
    const probe = path.join(dir, 'ran.sh');
    await fsp.writeFile(probe, '#!/bin/sh\necho ran "$@"\n', { mode: 0o755 });
    const noTools = path.join(dir, 'no tools');
    await fsp.mkdir(noTools, { recursive: true });
    const command = remoteRunCommand({ runJoint: probe, args: ['x'], cwd: dir, lock: path.join(dir, 'run.lock') });
    const out = execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { PATH: noTools }, stdio: ['pipe', 'pipe', 'ignore'] });
    expect(out).toBe('ran x\n');
  });


  it('single-quotes every word, so `;`, spaces, quotes and $ reach run_joint as written', async () => {
    const args = ['/m', '--data', "/a b/x;/c'd/$y", '--bin-out-dir', '/o u t'];
    const command = remoteRunCommand({ runJoint: '/tools/run joint', args, cwd: "/w'd", env: { LD_LIBRARY_PATH: '/opt/lib dir' } });
    const probe = path.join(dir, 'argv.sh');
    await fsp.writeFile(probe, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\nprintf "%s\\n" "$LD_LIBRARY_PATH"\n', { mode: 0o755 });
    const script = command.replace("cd -- '/w'\\''d' || exit; ", '').replace("'/tools/run joint'", `'${probe}'`);
    const printed = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(printed.split('\n').slice(0, -1)).toEqual([...args, '/opt/lib dir']);
    expect(command).toContain("cd -- '/w'\\''d'");
  });
});
