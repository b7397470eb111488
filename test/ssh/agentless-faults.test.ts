/**
 * Agentless SSH when things go wrong, against a real sshd: a link that drops while outputs are
 * fetched, Ctrl-C while the run's channel opens, hosts sharing the board's cache, run_joint
 * paths the start-up check resolves, and leftovers swept from the cache. Agentless must give
 * the agent path's verdicts and exit codes.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../host/ssh/register';
import { STALE_WRITER_S } from '../../host/ssh/agentless/cache';
import { openAgentless, type AgentlessOptions } from '../../host/ssh/agentless/open';
import type { AgentlessSession } from '../../host/ssh/agentless/session';
import { SshConnection } from '../../host/ssh/connection';
import { SftpSession } from '../../host/ssh/sftp';
import { isAxError, type AxError } from '../../shared/errors';
import { ROOT, fixture, loginTo, requireBuild, runJointAt, startRelay, tempDir, verifyOn, type Fixture, type Relay } from './helpers';
import { startSshd, type Sshd } from './sshd';

let board: Sshd;
let dir: string;
let cacheDir: string;
let runJoint: string;
let classifier: Fixture;
const sessions: AgentlessSession[] = [];
const relays: Relay[] = [];

beforeAll(async () => {
  requireBuild();
  dir = await tempDir();
  cacheDir = path.join(dir, 'board cache');
  board = await startSshd();
  runJoint = await runJointAt(dir);
  classifier = await fixture(path.join(dir, 'data'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await board?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function open(opts: Partial<AgentlessOptions> = {}): Promise<AgentlessSession> {
  const session = await openAgentless({ url: board.url, ...loginTo(board), runJoint, cacheDir, ...opts });
  sessions.push(session);
  return session;
}

/** Puts a file on the board as a blob; returns its hash. */
async function put(session: AgentlessSession, file: string): Promise<string> {
  const data = await fsp.readFile(file);
  await session.upload(file, sha256(data), data.length);
  return sha256(data);
}

/** The classifier's run request, its blobs on the board, and its listing learnt (a probe run with the healthy run_joint). */
async function classifierRequest() {
  const healthy = await open();
  const req = { modelHash: await put(healthy, classifier.model), inputs: [{ name: 'data', hash: await put(healthy, path.join(classifier.gt, 'input', 'data.bin')) }] };
  await healthy.describeModel(req.modelHash);
  return req;
}

/** The board reached through a relay the test can cut: its URL and SSH settings. */
async function throughRelay(): Promise<{ relay: Relay; url: string; knownHosts: string }> {
  const relay = await startRelay(board.port);
  relays.push(relay);
  const knownHosts = path.join(dir, `known_hosts_${relay.port}`);
  await fsp.writeFile(knownHosts, (await fsp.readFile(board.knownHosts, 'utf8')).replace(`]:${board.port} `, `]:${relay.port} `));
  return { relay, url: `ssh://${board.user}@127.0.0.1:${relay.port}`, knownHosts };
}

/** The board through a relay that is cut just as the first output of a run is fetched. */
async function cutWhenOutputsAreFetched(): Promise<{ url: string; knownHosts: string; wasCut: () => boolean }> {
  const { relay, url, knownHosts } = await throughRelay();
  const get = SftpSession.prototype.get;
  let cut = false;
  vi.spyOn(SftpSession.prototype, 'get').mockImplementation(function (this: SftpSession, remote, ...rest) {
    if (!cut && /\/runs\/run-[^/]+\/out\//.test(remote)) {
      cut = true;
      relay.cut();
    }
    return get.call(this, remote, ...rest);
  });
  return { url, knownHosts, wasCut: () => cut };
}

async function failure(promise: Promise<unknown>): Promise<AxError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(isAxError(err)).toBe(true);
  return err as AxError;
}

describe('agentless: a lost connection', () => {
  it('ends verify with the connection error (exit 5), not RUN FAILED, when the link drops while outputs are fetched', async () => {
    const { url, knownHosts, wasCut } = await cutWhenOutputsAreFetched();
    const err = await failure(verifyOn(dir, url, classifier, { agentless: true, ssh: { ...loginTo(board), knownHosts, runJoint, cacheDir } }));
    expect(wasCut()).toBe(true);
    expect(err.code).toBe('SSH_DISCONNECTED');
    expect(err.exitCode).toBe(5);
  });
});

describe('agentless: a lost connection after a failed run', () => {
  it('keeps RUN FAILED (its log and reasons) when the link drops while the outputs it did dump are fetched', async () => {
    const multi = await fixture(path.join(dir, 'multi'), 'multi-input');
    const { url, knownHosts, wasCut } = await cutWhenOutputsAreFetched();
    // Output 1 cannot be dumped: a failed run, with output 0 dumped whole to fetch as evidence.
    const { report } = await verifyOn(dir, url, multi, { agentless: true, ssh: { ...loginTo(board), knownHosts, runJoint: await runJointAt(dir, 'no-dump=1'), cacheDir } });
    expect(wasCut()).toBe(true);
    expect(report.verdict).toBe('run-failed');
    expect(report.outputs).toEqual([]);
    expect(report.run.log).toMatch(/dump output\[1\] .* failed/);
  });
});

describe('agentless: cancelling', () => {
  it('stops a run cancelled while its channel was opening', async () => {
    const req = await classifierRequest();
    const session = await open({ runJoint: await runJointAt(dir, 'slow=20000'), killGraceMs: 300 });
    await session.ready(); // the board's shell has answered: what is timed below is the run
    const controller = new AbortController();
    const execStream = SshConnection.prototype.execStream;
    // Ctrl-C lands during the round trip that opens the run's channel.
    vi.spyOn(SshConnection.prototype, 'execStream').mockImplementation(async function (this: SshConnection, command, ...rest) {
      const channel = await execStream.call(this, command, ...rest);
      if (command.includes('axctl-run-pid')) controller.abort();
      return channel;
    });
    const started = Date.now();
    const result = await session.run(req, { signal: controller.signal });
    expect(controller.signal.aborted).toBe(true);
    expect(result).toMatchObject({ status: 'failed', cancelled: true });
    // Not the 20 s run. Stopping it takes commands through the login shell (the kill, the run
    // folder's removal): ~0.7 s each here, several seconds under a full test run's load.
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});

describe('agentless: hosts sharing the cache', () => {
  /** A file of `mb` random MiB and its hash. */
  async function randomFile(name: string, mb: number): Promise<{ file: string; hash: string; data: Buffer }> {
    const data = randomBytes(mb * 1024 * 1024);
    const file = path.join(dir, name);
    await fsp.writeFile(file, data);
    return { file, hash: sha256(data), data };
  }

  it('lets two hosts upload the same blob at once: both succeed and the blob is intact', async () => {
    const cache = path.join(dir, 'shared-cache');
    const { file, hash, data } = await randomFile('shared.bin', 48);
    const [a, b] = await Promise.all([open({ cacheDir: cache }), open({ cacheDir: cache })]);
    const results = await Promise.allSettled([a.upload(file, hash, data.length), b.upload(file, hash, data.length)]);
    expect(results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok'))).toEqual(['ok', 'ok']);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', hash)))).toBe(hash);
    expect(await fsp.readdir(path.join(cache, 'partial'))).toEqual([]);
  });

  it('waits for another host uploading the same blob to land it instead of sending it again', async () => {
    const cache = path.join(dir, 'waiting-cache');
    const { file, hash, data } = await randomFile('waited.bin', 64);
    const [a, b] = await Promise.all([open({ cacheDir: cache }), open({ cacheDir: cache })]);
    let second: Promise<{ sentBytes: number }> | undefined;
    const first = a.upload(file, hash, data.length, (p) => {
      if (!second && p.doneBytes >= 4 * 1024 * 1024) second = b.upload(file, hash, data.length);
    });
    expect((await first).sentBytes).toBe(data.length);
    expect(second).toBeDefined();
    expect((await second!).sentBytes).toBe(0);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', hash)))).toBe(hash);
    expect(await fsp.readdir(path.join(cache, 'partial'))).toEqual([]);
  });

  it('resumes a partial whose writer died (not written for minutes), and leaves one being written alone', async () => {
    const cache = path.join(dir, 'stale-cache');
    const { file, hash, data } = await randomFile('stale.bin', 1);
    const partials = path.join(cache, 'partial');
    await fsp.mkdir(partials, { recursive: true });
    const dead = path.join(partials, `${hash}.0123456789ab.part`);
    await fsp.writeFile(dead, data.subarray(0, 300_000));
    const old = new Date(Date.now() - (STALE_WRITER_S + 60) * 1000);
    await fsp.utimes(dead, old, old);
    const session = await open({ cacheDir: cache });
    expect((await session.upload(file, hash, data.length)).sentBytes).toBe(data.length - 300_000);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', hash)))).toBe(hash);

    // Another host is writing this one (written just now): never resumed, truncated or removed;
    // it never grows, so after waiting OTHERS_STALL_MS for it this upload sends the blob itself.
    const other = await randomFile('live.bin', 1);
    const live = path.join(partials, `${other.hash}.ba9876543210.part`);
    await fsp.writeFile(live, Buffer.alloc(100_000, 5));
    expect((await session.upload(other.file, other.hash, other.data.length)).sentBytes).toBe(other.data.length);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', other.hash)))).toBe(other.hash);
    expect((await fsp.readFile(live)).equals(Buffer.alloc(100_000, 5))).toBe(true);
  });

  it('resumes the partial of a host killed mid-upload within a minute, not after 5', async () => {
    const cache = path.join(dir, 'killed-cache');
    const { file, hash, data } = await randomFile('killed.bin', 64);
    // Another host's axctl, killed (SIGKILL: no chance to give its partial up) once 4 MiB are written.
    const writer = path.join(dir, 'killed-writer.js');
    await fsp.writeFile(writer, [
      `require(${JSON.stringify(path.join(ROOT, 'dist/host/ssh/register'))});`,
      `const { openAgentless } = require(${JSON.stringify(path.join(ROOT, 'dist/host/ssh/agentless/open'))});`,
      `const [opts, file, hash, size] = JSON.parse(process.argv[2]);`,
      `openAgentless(opts).then((s) => s.upload(file, hash, size, (p) => process.stdout.write(p.doneBytes + '\\n')));`,
    ].join('\n'));
    const opts = { url: board.url, ...loginTo(board), runJoint, cacheDir: cache };
    const child = spawn(process.execPath, [writer, JSON.stringify([opts, file, hash, data.length])], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdout.on('data', (d: Buffer) => {
      if (Math.max(...d.toString().trim().split('\n').map(Number)) >= 4 * 1024 * 1024) child.kill('SIGKILL');
    });
    await exited;
    const partials = path.join(cache, 'partial');
    const [left] = await fsp.readdir(partials);
    expect(left).toMatch(new RegExp(`^${hash}\\.[0-9a-f]+\\.part$`)); // its own, not given up
    // Written last once the board's sftp-server has written what was on its way.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { size: held, mtimeMs } = await fsp.stat(path.join(partials, left!));
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(data.length);
    // 50 s after its last write, which a live writer would have followed with another long ago.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, mtimeMs + 50_000 - Date.now())));
    const next = await open({ cacheDir: cache });
    expect((await next.upload(file, hash, data.length)).sentBytes).toBe(data.length - held);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', hash)))).toBe(hash);
    expect(await fsp.readdir(partials)).toEqual([]);
  }, 120_000);

  it('gives up its partial when the session is closed during an upload, and the next session resumes it', async () => {
    const cache = path.join(dir, 'closed-cache');
    const { file, hash, data } = await randomFile('closed.bin', 48);
    const session = await open({ cacheDir: cache });
    let closing: Promise<void> | undefined;
    const err = await failure(session.upload(file, hash, data.length, (p) => {
      if (!closing && p.doneBytes >= 4 * 1024 * 1024) closing = session.close();
    }));
    await closing;
    expect(err.exitCode).toBe(5);
    const left = await fsp.readdir(path.join(cache, 'partial'));
    expect(left).toEqual([`${hash}.part`]);
    const held = (await fsp.stat(path.join(cache, 'partial', `${hash}.part`))).size;
    expect(held).toBeGreaterThan(0);
    const next = await open({ cacheDir: cache });
    expect((await next.upload(file, hash, data.length)).sentBytes).toBe(data.length - held);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', hash)))).toBe(hash);
  });

  it('succeeds when its resumed upload is damaged but another host has put the blob in place meanwhile', async () => {
    const cache = path.join(dir, 'meanwhile-cache');
    const { file, hash, data } = await randomFile('meanwhile.bin', 1);
    await fsp.mkdir(path.join(cache, 'partial'), { recursive: true });
    await fsp.writeFile(path.join(cache, 'partial', `${hash}.part`), Buffer.alloc(1000, 1)); // not this blob's first bytes
    const session = await open({ cacheDir: cache });
    let placed = false;
    const result = await session.upload(file, hash, data.length, (p) => {
      if (!placed && p.doneBytes === data.length) {
        placed = true; // the other host's upload lands as ours ends (before ours is checked)
        writeFileSync(path.join(cache, 'blobs', hash), data);
      }
    });
    expect(placed).toBe(true);
    expect(result.sentBytes).toBe(data.length - 1000);
    expect(sha256(await fsp.readFile(path.join(cache, 'blobs', hash)))).toBe(hash);
    expect(await fsp.readdir(path.join(cache, 'partial'))).toEqual([]);
  });
});

describe('agentless: where run_joint is', () => {
  it('runs a --run-joint given relative to the home folder or as ~/..., as it was found at start-up', async () => {
    const req = await classifierRequest();
    // The board's login is this user: its home is ours (a folder there, removed afterwards).
    const home = os.userInfo().homedir;
    const tools = await fsp.mkdtemp(path.join(home, '.axctl-test-rj-'));
    try {
      await fsp.symlink(runJoint, path.join(tools, 'run_joint'));
      const relative = path.relative(home, path.join(tools, 'run_joint'));
      for (const given of [relative, `~/${relative}`]) {
        const session = await open({ runJoint: given });
        const result = await session.run(req);
        expect({ given, status: result.status, problems: result.problems }).toEqual({ given, status: 'ok', problems: [] });
      }
    } finally {
      await fsp.rm(tools, { recursive: true, force: true });
    }
  });
});

describe('agentless: leftovers', () => {
  it('sweeps partial uploads and temporary files older than a day when a session starts, and nothing newer', async () => {
    const cache = path.join(dir, 'sweep-cache');
    const file = (...parts: string[]) => path.join(cache, ...parts);
    await fsp.mkdir(file('partial'), { recursive: true });
    await fsp.mkdir(file('model-io'), { recursive: true });
    const hash = 'e'.repeat(64);
    const old = [file('partial', `${hash}.part`), file('partial', `${hash}.0123456789ab.part`), file('partial', `${hash}.0123456789ab.check`), file('model-io', `.${hash}.json.0123456789ab.part`)];
    const kept = [file('partial', `${hash}.ba9876543210.part`), file('model-io', `.${hash}.json.ba9876543210.part`), file('model-io', `${hash}.json`)];
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    for (const f of [...old, ...kept]) await fsp.writeFile(f, 'x');
    for (const f of [...old, file('model-io', `${hash}.json`)]) await fsp.utimes(f, twoDaysAgo, twoDaysAgo); // a listing is kept however old
    await (await open({ cacheDir: cache })).ready(); // the board's shell has answered: its sweep is done
    const left = [...(await fsp.readdir(file('partial'))).map((n) => file('partial', n)), ...(await fsp.readdir(file('model-io'))).map((n) => file('model-io', n))];
    expect(left.sort()).toEqual([...kept].sort());
  });
});
