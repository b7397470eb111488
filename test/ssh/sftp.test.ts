/**
 * SftpSession when its channel goes away, against a real sshd: a link that drops during a
 * transfer must fail it at once as the connection's loss (SSH_DISCONNECTED, exit 5), not after
 * each request's 30 s deadline, and every later request must fail at once too.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSsh, type SshConnection } from '../../host/ssh/connection';
import { isAxError, type AxError } from '../../shared/errors';
import { startRelay, tempDir, type Relay } from './helpers';
import { startSshd, type Sshd } from './sshd';

let board: Sshd;
let dir: string;
let big: string;
const BIG_BYTES = 48 * 1024 * 1024;

beforeAll(async () => {
  dir = await tempDir('axctl-sftp-test-');
  board = await startSshd();
  big = path.join(dir, 'big.bin');
  await fsp.writeFile(big, randomBytes(BIG_BYTES));
});

afterAll(async () => {
  await board?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
});

/** A connection to the board through a relay that the test can cut. */
async function throughRelay(): Promise<{ ssh: SshConnection; relay: Relay }> {
  const relay = await startRelay(board.port);
  const knownHosts = path.join(dir, `known_hosts_${relay.port}`);
  const ssh = await openSsh({ url: `ssh://${board.user}@127.0.0.1:${relay.port}`, identity: board.clientKey.file, knownHosts, acceptNewHostKey: true, agentSocket: null });
  return { ssh, relay };
}

async function failure(promise: Promise<unknown>): Promise<{ err: AxError; ms: number }> {
  const started = Date.now();
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(isAxError(err)).toBe(true);
  return { err: err as AxError, ms: Date.now() - started };
}

/** Cuts the link once a transfer has moved 1 MiB; then checks the failure came within 5 s of the cut (a bound on a hang). */
function cutAfterOneMiB(relay: { cut(): void }) {
  let cutAt = 0;
  return {
    onProgress: (done: number) => {
      if (cutAt === 0 && done >= 1024 * 1024) {
        cutAt = Date.now();
        relay.cut();
      }
    },
    expectNoticedSoon: () => {
      expect(cutAt).toBeGreaterThan(0);
      expect(Date.now() - cutAt).toBeLessThan(5000);
    },
  };
}

describe('SftpSession on a channel that ended', () => {
  it('fails an upload at once as SSH_DISCONNECTED when the link drops during it, and every later request too', async () => {
    const { ssh, relay } = await throughRelay();
    try {
      const sftp = await ssh.sftp();
      const remote = path.join(dir, 'cut-upload.bin');
      const cut = cutAfterOneMiB(relay);
      const { err } = await failure(sftp.put(big, remote, { start: 0, onProgress: cut.onProgress }));
      cut.expectNoticedSoon();
      expect(err.code).toBe('SSH_DISCONNECTED');
      expect(err.exitCode).toBe(5);
      expect(err.hint).not.toMatch(/free space|stalled/);
      const later = await failure(sftp.stat(remote));
      expect(later.err.code).toBe('SSH_DISCONNECTED');
      expect(later.ms).toBeLessThan(1000);
    } finally {
      await ssh.close();
      await relay.close();
    }
  });

  it('fails a download at once as SSH_DISCONNECTED when the link drops during it', async () => {
    const remote = path.join(dir, 'download-source.bin');
    await fsp.copyFile(big, remote);
    const { ssh, relay } = await throughRelay();
    try {
      const sftp = await ssh.sftp();
      const cut = cutAfterOneMiB(relay);
      const { err } = await failure(sftp.get(remote, path.join(dir, 'downloaded.bin'), BIG_BYTES, { onProgress: cut.onProgress }));
      cut.expectNoticedSoon();
      expect(err.code).toBe('SSH_DISCONNECTED');
    } finally {
      await ssh.close();
      await relay.close();
    }
  });

  it('fails requests at once once the SFTP session itself ended, the connection still up', async () => {
    const ssh = await openSsh({ url: board.url, identity: board.clientKey.file, knownHosts: board.knownHosts, agentSocket: null });
    try {
      const sftp = await ssh.sftp();
      expect(await sftp.stat(dir)).toMatchObject({ isDirectory: true });
      sftp.end();
      await new Promise((resolve) => sftp.raw.once('close', resolve));
      const { err, ms } = await failure(sftp.stat(dir));
      expect(err.code).toBe('SSH_SFTP_ENDED');
      expect(err.exitCode).toBe(5);
      expect(ms).toBeLessThan(1000);
      expect((await ssh.exec('echo still up')).stdout).toBe('still up\n');
    } finally {
      await ssh.close();
    }
  });
});

describe('SftpSession.get with a local disk that fails', () => {
  it('is a bad local file (exit 2) naming it, not an SFTP or internal error', async () => {
    const { ssh, relay } = await throughRelay();
    try {
      const sftp = await ssh.sftp();
      const remote = path.join(dir, 'to-fetch.bin');
      await fsp.writeFile(remote, randomBytes(256 * 1024));
      // /dev/full opens for writing and fails every write with ENOSPC, as a full TMPDIR would.
      const { err } = await failure(sftp.get(remote, '/dev/full', 256 * 1024));
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(/^\/dev\/full: cannot be written: /);
      expect(err.describe()).toMatch(/space/);
    } finally {
      await ssh.close();
      await relay.close();
    }
  });
});

describe('SftpSession.removeTree', () => {
  it('removes a folder with files and folders in it, and removes a symbolic link without following it', async () => {
    const tree = path.join(dir, 'tree');
    const outside = path.join(dir, 'outside');
    await fsp.mkdir(path.join(tree, 'out', 'deeper'), { recursive: true });
    await fsp.mkdir(outside);
    await fsp.writeFile(path.join(outside, 'keep.bin'), 'kept');
    await fsp.writeFile(path.join(tree, 'log.txt'), 'x');
    await fsp.writeFile(path.join(tree, 'out', 'a.bin'), 'a');
    await fsp.writeFile(path.join(tree, 'out', 'deeper', 'b.bin'), 'b');
    await fsp.symlink(outside, path.join(tree, 'out', 'link-to-outside'));
    const ssh = await openSsh({ url: board.url, identity: board.clientKey.file, knownHosts: board.knownHosts, agentSocket: null });
    try {
      await (await ssh.sftp()).removeTree(tree);
    } finally {
      await ssh.close();
    }
    await expect(fsp.stat(tree)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fsp.readFile(path.join(outside, 'keep.bin'), 'utf8')).toBe('kept');
  });
});
