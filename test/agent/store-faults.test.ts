/**
 * The store folder deleted or made read-only while the agent runs: the agent says which folder
 * and what to do, and recovers without a restart once the folder can be used again.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AxError } from '../../shared/errors';
import { makeModel } from '../../scripts/sim/make-gt';
import { sha256, startAgent } from './helpers';
import { mountTmpfs } from './tmpfs';

/** An agent whose store is on a fresh tmpfs of `options` (size=...), and a client of it; all undone by cleanups. */
async function agentOnTmpfs(prefix: string, options: string, args: string[] = []) {
  const base = await fsp.mkdtemp(path.join(process.env.TMPDIR ?? '/tmp', prefix));
  const mount = path.join(base, 'disk');
  const unmount = await mountTmpfs(mount, options);
  cleanups.push(() => fsp.rm(base, { recursive: true, force: true }));
  cleanups.push(() => unmount());
  const storeDir = path.join(mount, 'store');
  const agent = await startAgent({ storeDir, args });
  cleanups.push(() => agent.stop());
  const client = await agent.connect();
  cleanups.push(() => client.close());
  return { mount, storeDir, client, agent };
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('store folder trouble while the agent runs', () => {
  it('a deleted store is made again on demand: uploads and runs go on without a restart', async () => {
    const agent = await startAgent();
    cleanups.push(() => agent.stop());
    const client = await agent.connect();
    cleanups.push(() => client.close());
    const first = randomBytes(1000);
    await client.putBytes(first, sha256(first));

    await fsp.rm(agent.storeDir, { recursive: true, force: true });
    const second = randomBytes(2000);
    await client.putBytes(second, sha256(second));
    expect((await client.has([sha256(second)]))[0]).toMatchObject({ size: 2000 });
    // A run needs a job folder (the model's probe runs in one).
    const modelFile = path.join(agent.dir, 'm.joint');
    makeModel('classifier', modelFile);
    const model = await fsp.readFile(modelFile);
    await client.putBytes(model, sha256(model));
    const described = await client.describeModel(sha256(model));
    expect(described.inputs.length).toBeGreaterThan(0);
  }, 60_000);

  it('a read-only store: the error names the folder and what to do; writable again, it works', async () => {
    const { mount, storeDir, client } = await agentOnTmpfs('axctl-ro-store-', 'size=8m');

    execFileSync('mount', ['-o', 'remount,ro', mount]);
    const data = randomBytes(1000);
    const err = (await client.putBytes(data, sha256(data)).catch((e: unknown) => e)) as AxError;
    expect(err.code).toBe('STORE_IO_ERROR');
    expect(err.hint).toBe(`the store folder ${storeDir} is gone or not writable on the board: restore it, fix its permissions, or restart axagent`);

    execFileSync('mount', ['-o', 'remount,rw', mount]);
    await client.putBytes(data, sha256(data));
  }, 60_000);

  it('an upload larger than the disk is refused at once and blocks nothing after it', async () => {
    const { storeDir, client } = await agentOnTmpfs('axctl-small-disk-', 'size=20m', ['--store-cap', '100M']);
    const big = randomBytes(57 * 1024 * 1024);
    const err = (await client.putBytes(big, sha256(big)).catch((e: unknown) => e)) as AxError;
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toMatch(/more bytes do not fit on the board's disk: \d+ bytes free/);
    expect(await fsp.readdir(path.join(storeDir, 'partial'))).toEqual([]);
    const small = randomBytes(976);
    await client.putBytes(small, sha256(small));
  }, 60_000);

  it("a host cut off mid-upload no longer holds the rest of its bytes: another host's upload fits beside its partial", async () => {
    const { storeDir, client, agent } = await agentOnTmpfs('axctl-two-hosts-', 'size=40m', ['--store-cap', '100M']);
    const first = randomBytes(32 * 1024 * 1024);
    const firstHash = sha256(first);
    const cutOff = await agent.connect({ chunkBytes: 256 * 1024 });
    const cut = cutOff.putBytes(first, firstHash, {
      onProgress: (p) => {
        if (p.stored > 0) cutOff.transport.destroy();
      },
    });
    await expect(cut).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    // Waits for a write of that upload still in progress; its partial stays, to be resumed.
    const [partial] = await client.has([{ hash: firstHash, size: first.length }]);
    expect(partial!.partialOffset).toBeGreaterThan(0);
    // The partial holds at most the agent's 12 MiB put window and a batch more, however loaded
    // the machine: 40 MiB of disk less that leaves room for 14 MiB with 8 MiB to spare. Were
    // the rest of the first upload still promised, 40 - 32 = 8 MiB would be all there is.
    const second = randomBytes(14 * 1024 * 1024);
    await client.putBytes(second, sha256(second));
    expect((await fsp.readdir(path.join(storeDir, 'partial'))).length).toBe(1);
  }, 60_000);
});
