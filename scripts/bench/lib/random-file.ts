/** The benches' upload files: random bytes (nothing to compress), renewable into a new blob. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';

const MB = 1024 * 1024;

/** A new blob of the same size: new first bytes. Returns its sha256. */
export async function renewFile(file: string): Promise<string> {
  const handle = await fsp.open(file, 'r+');
  await handle.write(randomBytes(16), 0, 16, 0);
  await handle.close();
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 8 * MB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file of `mb` MiB of random bytes. Returns its sha256. */
export async function writeRandomFile(file: string, mb: number): Promise<string> {
  const handle = await fsp.open(file, 'w');
  for (let i = 0; i < mb; i++) await handle.write(randomBytes(MB));
  await handle.close();
  return renewFile(file);
}
