/**
 * Agentless SSH when things go wrong, against a real sshd: a link that drops while outputs are
 * fetched, Ctrl-C while the run's channel opens, hosts sharing the board's cache, run_joint
 * paths the start-up check resolves, and leftovers swept from the cache. Agentless must give
 * the agent path's verdicts and exit codes.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../host/ssh/register';
import { openAgentless, type AgentlessOptions } from '../../host/ssh/agentless/open';
import type { AgentlessSession } from '../../host/ssh/agentless/session';
import { SshConnection } from '../../host/ssh/connection';
import { SftpSession } from '../../host/ssh/sftp';
import { isAxError, type AxError } from '../../shared/errors';
import { fixture, loginTo, requireBuild, runJointAt, startRelay, tempDir, verifyOn, type Fixture, type Relay } from './helpers';
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

async function failure(promise: Promise<unknown>): Promise<AxError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(isAxError(err)).toBe(true);
  return err as AxError;
}

describe('agentless: a lost connection', () => {
  it('ends verify with the connection error (exit 5), not RUN FAILED, when the link drops while outputs are fetched', async () => {
    const { relay, url, knownHosts } = await throughRelay();
    const get = SftpSession.prototype.get;
    let cut = false;
    // The link drops just as the first output is fetched (after a run that went well).
    vi.spyOn(SftpSession.prototype, 'get').mockImplementation(function (this: SftpSession, remote, ...rest) {
      if (!cut && /\/runs\/run-[^/]+\/out\//.test(remote)) {
        cut = true;
        relay.cut();
      }
      return get.call(this, remote, ...rest);
    });
    const err = await failure(verifyOn(dir, url, classifier, { agentless: true, ssh: { ...loginTo(board), knownHosts, runJoint, cacheDir } }));
    expect(cut).toBe(true);
    expect(err.code).toBe('SSH_DISCONNECTED');
    expect(err.exitCode).toBe(5);
  });
});

describe('agentless: cancelling', () => {
  it('stops a run cancelled while its channel was opening', async () => {
    const req = await classifierRequest();
    const session = await open({ runJoint: await runJointAt(dir, 'slow=8000'), killGraceMs: 300 });
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
    expect(Date.now() - started).toBeLessThan(5000); // not the 8 s run
  });
});
