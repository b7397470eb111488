/**
 * Agentless uploads do not need the board's shell. The board here is a real sshd whose
 * commands (sshd's ForceCommand: a script that logs and runs the command asked for) are held
 * at a gate until the test opens it, or fail; SFTP (sftp-server, which the same script lets
 * through) works all the while. What the session needs from the shell — run_joint's path,
 * sha256sum, the clock, its sweep of old partials — it asks where it first needs it, and a
 * shell that fails is the error there.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../host/ssh/register';
import { openAgentless } from '../../host/ssh/agentless/open';
import type { AgentlessSession } from '../../host/ssh/agentless/session';
import { isAxError } from '../../shared/errors';
import { fixture, loginTo, requireBuild, runJointAt, tempDir, type Fixture } from './helpers';
import { startSshd, type Sshd } from './sshd';

/** Debian's openssh-sftp-server (a dependency of openssh-server). */
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

let board: Sshd;
let dir: string;
let gate: string;
let commandLog: string;
let runJoint: string;
let classifier: Fixture;
const sessions: AgentlessSession[] = [];

beforeAll(async () => {
  requireBuild();
  dir = await tempDir();
  gate = path.join(dir, 'gate');
  commandLog = path.join(dir, 'commands.log');
  // Every session runs this instead of what it asked for: SFTP goes through; a command waits
  // for the gate file, then fails when it holds "fail", else runs.
  const forced = path.join(dir, 'forced-command.sh');
  await fsp.writeFile(forced, [
    '#!/bin/sh',
    `[ "$SSH_ORIGINAL_COMMAND" = internal-sftp ] && exec ${SFTP_SERVER}`,
    `echo "$SSH_ORIGINAL_COMMAND" | head -n 1 >> ${commandLog}`,
    `while [ ! -e ${gate} ]; do sleep 0.05; done`,
    `[ "$(cat ${gate})" = fail ] && exit 7`,
    'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
    '',
  ].join('\n'), { mode: 0o755 });
  board = await startSshd({ config: [`ForceCommand ${forced}`] });
  runJoint = await runJointAt(dir);
  classifier = await fixture(path.join(dir, 'data'));
});

afterEach(async () => {
  await fsp.rm(gate, { force: true });
  await fsp.rm(commandLog, { force: true });
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await board?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function open(cacheName: string): Promise<{ session: AgentlessSession; cache: string }> {
  const cache = path.join(dir, cacheName);
  const session = await openAgentless({ url: board.url, ...loginTo(board), runJoint, cacheDir: cache });
  sessions.push(session);
  return { session, cache };
}

/** How many commands the board's shell was asked to run so far. */
async function commandsRun(): Promise<number> {
  const text = await fsp.readFile(commandLog, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

/** Whether `promise` settles within `ms`. */
async function settled(promise: Promise<unknown>, ms = 0): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
}

describe('agentless: the board\'s shell answers while the bytes go up', () => {
  it('opens and uploads without asking the shell anything, then asks it once for a run', async () => {
    const { session, cache } = await open('gated-cache');
    const model = await fsp.readFile(classifier.model);
    const input = await fsp.readFile(path.join(classifier.gt, 'input', 'data.bin'));
    const sent = await session.upload(classifier.model, sha256(model), model.length);
    await session.upload(path.join(classifier.gt, 'input', 'data.bin'), sha256(input), input.length);
    expect(sent.sentBytes).toBe(model.length);
    expect(await fsp.readFile(path.join(cache, 'blobs', sha256(model)))).toEqual(model);
    expect(await commandsRun()).toBe(0);
    expect(session.identity.hostname).toBeUndefined();

    const ready = session.ready(); // asked now, and held at the gate
    await vi.waitFor(async () => expect(await commandsRun()).toBe(1), { timeout: 10_000, interval: 50 });
    expect(await settled(ready, 200)).toBe(false);
    await fsp.writeFile(gate, 'open');
    await ready;
    expect(session.identity.hostname).toBeTruthy();
    const before = await commandsRun();
    const result = await session.run({ modelHash: sha256(model), inputs: [{ name: 'data', hash: sha256(input) }] });
    expect({ status: result.status, problems: result.problems, outputs: result.outputs.length }).toEqual({ status: 'ok', problems: [], outputs: 1 });
    // The facts were not asked again: the run's commands are the probe's and the run's own.
    const asked = (await fsp.readFile(commandLog, 'utf8')).split('\n').filter(Boolean).slice(before);
    expect(asked.filter((line) => line === 'sh -s')).toEqual([]);
  });

  it('checks blobs already there in the same command that asks the facts (one command, not two), and drops a damaged one', async () => {
    await fsp.writeFile(gate, 'open');
    const first = await open('checked-cache');
    const model = await fsp.readFile(classifier.model);
    const input = await fsp.readFile(path.join(classifier.gt, 'input', 'data.bin'));
    await first.session.upload(classifier.model, sha256(model), model.length);
    await first.session.upload(path.join(classifier.gt, 'input', 'data.bin'), sha256(input), input.length);
    // The input's bytes damaged on the board, its size unchanged.
    const damaged = path.join(first.cache, 'blobs', sha256(input));
    await fsp.chmod(damaged, 0o600);
    await fsp.writeFile(damaged, Buffer.alloc(input.length, 0x33));
    await fsp.rm(commandLog, { force: true });

    const { session } = await open('checked-cache');
    const blobs = [{ hash: sha256(model), size: model.length }, { hash: sha256(input), size: input.length }];
    expect(await session.has(blobs)).toEqual([true, false]);
    expect((await fsp.readFile(commandLog, 'utf8')).split('\n').filter(Boolean)).toEqual(['sh -s']);
    await expect(fsp.stat(damaged)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(session.identity.hostname).toBeTruthy();
    // Checked once per session: asking again runs nothing.
    expect(await session.has(blobs.slice(0, 1))).toEqual([true]);
    expect(await commandsRun()).toBe(1);
  });

  it('does not resume a partial a day old, which the shell\'s sweep removes: it waits for the sweep and sends the blob whole', async () => {
    const { session, cache } = await open('sweep-cache');
    const model = await fsp.readFile(classifier.model);
    const hash = sha256(model);
    // A given-up partial of this blob, two days old, whose bytes are not the blob's.
    const old = path.join(cache, 'partial', `${hash}.part`);
    await fsp.writeFile(old, Buffer.alloc(Math.floor(model.length / 2), 0x55));
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await fsp.utimes(old, twoDaysAgo, twoDaysAgo);

    const upload = session.upload(classifier.model, hash, model.length);
    // Partials of this blob are there: the upload waits for the shell (and its sweep).
    expect(await settled(upload, 500)).toBe(false); // a blob this small goes up in milliseconds
    await fsp.writeFile(gate, 'open');
    const { sentBytes } = await upload;
    expect(sentBytes).toBe(model.length);
    expect(await fsp.readFile(path.join(cache, 'blobs', hash))).toEqual(model);
    await expect(fsp.stat(old)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('uploads to a board whose shell fails, and says SSH_NO_SHELL when it is needed: ready() and a run', async () => {
    await fsp.writeFile(gate, 'fail');
    const { session, cache } = await open('no-shell-cache');
    const model = await fsp.readFile(classifier.model);
    await session.upload(classifier.model, sha256(model), model.length);
    expect(await fsp.readFile(path.join(cache, 'blobs', sha256(model)))).toEqual(model);
    const code = (err: unknown) => (isAxError(err) ? err.code : err);
    expect(await session.ready().then(() => 'ready', code)).toBe('SSH_NO_SHELL');
    expect(await session.run({ modelHash: sha256(model), inputs: [] }).then(() => 'ran', code)).toBe('SSH_NO_SHELL');
  });
});
