/** Shared setup for the agent-core tests: a store in a temp folder, blobs put in one chunk. */
import { createHash } from 'node:crypto';
import { chmodSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { BlobStore } from '../../agent/store/blob-store';
import { StoreError } from '../../agent/store/errors';

export const FAKE_RUN_JOINT = path.resolve(__dirname, '../fixtures/agent-core/fake-run-joint.js');
chmodSync(FAKE_RUN_JOINT, 0o755); // in case a checkout lost the executable bit

export const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

export async function tempStore(capBytes = 100_000_000): Promise<{ store: BlobStore; dir: string; cleanup(): Promise<void> }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-agent-core-'));
  const store = await BlobStore.open(path.join(dir, 'store'), { capBytes });
  return { store, dir, cleanup: () => fsp.rm(dir, { recursive: true, force: true }) };
}

export async function putBlob(store: BlobStore, data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const hash = sha256(bytes);
  await store.writeChunk(hash, bytes.length, 0, bytes);
  return hash;
}

export interface FakeTensor {
  name: string;
  shape: number[];
  size: number;
}

/** A model for fake-run-joint.js (see its header for `behaviour`). */
export function fakeModel(inputs: FakeTensor[], outputs: FakeTensor[], behaviour: Record<string, unknown> = {}): string {
  return JSON.stringify({ inputs, outputs, behaviour });
}

/** Lines of the fake's trace file ("start PID" / "end PID"). */
export async function readTrace(file: string): Promise<string[]> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => line.split(' ')[0]);
}

/** The StoreError `promise` rejects with (fails the test when it resolves or rejects otherwise). */
export async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}
