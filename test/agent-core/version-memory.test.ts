/**
 * run_joint's version survives an agent restart: remembered in the store with run_joint's
 * path, size and mtime, and forgotten when run_joint is replaced.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunJointVersionMemory } from '../../agent/run/version-memory';

let dir: string;
let runJoint: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-version-memory-'));
  runJoint = path.join(dir, 'run_joint');
  await fsp.writeFile(runJoint, '#!/bin/sh\n', { mode: 0o755 });
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('RunJointVersionMemory', () => {
  it('is blank at first, and a learnt version is there after a restart', async () => {
    const first = await RunJointVersionMemory.load(dir, runJoint);
    expect(first.runJointVersion).toBe('');
    await first.learn('0.5.10');
    expect(first.runJointVersion).toBe('0.5.10');
    expect((await RunJointVersionMemory.load(dir, runJoint)).runJointVersion).toBe('0.5.10');
  });

  it('forgets the version when run_joint was replaced or another run_joint is configured', async () => {
    await (await RunJointVersionMemory.load(dir, runJoint)).learn('0.5.10');
    const other = path.join(dir, 'other_run_joint');
    await fsp.copyFile(runJoint, other);
    expect((await RunJointVersionMemory.load(dir, other)).runJointVersion).toBe('');
    await fsp.writeFile(runJoint, '#!/bin/sh\n# a newer build\n');
    expect((await RunJointVersionMemory.load(dir, runJoint)).runJointVersion).toBe('');
  });

  it('treats a damaged record as unknown, and a store it cannot write as no memory, not an error', async () => {
    await fsp.writeFile(path.join(dir, 'run-joint-version.json'), '{not json');
    const memory = await RunJointVersionMemory.load(dir, runJoint);
    expect(memory.runJointVersion).toBe('');
    await fsp.rm(path.join(dir, 'run-joint-version.json'));
    await fsp.mkdir(path.join(dir, 'run-joint-version.json')); // the atomic rename onto it fails
    await expect(memory.learn('0.5.11')).resolves.toBeUndefined();
    expect(memory.runJointVersion).toBe('0.5.11');
  });
});
