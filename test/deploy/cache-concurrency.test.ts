/**
 * The user's caches (hashes.json, model-io.json) written by several axctl processes at once, as a
 * farm's parallel verifies do: every process's entries are kept. Real processes running the
 * compiled modules (`npm run build` first).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../built';

const HASH_CACHE_JS = path.join(ROOT, 'dist', 'host', 'deploy', 'hash-cache.js');
const MODEL_IO_JS = path.join(ROOT, 'dist', 'host', 'state', 'model-io.js');
const WRITERS = 6;
let dir: string;
beforeAll(() => {
  if (!fs.existsSync(MODEL_IO_JS)) throw new Error(`${MODEL_IO_JS} is missing: run \`npm run build\` first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-caches-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function node(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', `(async () => { ${script} })().catch((e) => { console.error(e.message); process.exit(1); });`], { timeout: 60_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve());
  });
}

const tensor = (name: string, index: number) => ({ name, index, shape: [1, 4], size: 4, dtype: 'uint8', layout: null, colorSpace: null, q: null });

describe('caches shared by processes running at once', () => {
  it('keeps the hash of every file hashed by any of them', async () => {
    const cache = path.join(dir, 'hash', 'hashes.json');
    const files = Array.from({ length: WRITERS }, (_, i) => path.join(dir, `file-${i}.bin`));
    files.forEach((f, i) => fs.writeFileSync(f, `content ${i}`));
    await Promise.all(files.map((f) => node(`
      const { HashCache } = require(${JSON.stringify(HASH_CACHE_JS)});
      const cache = new HashCache(${JSON.stringify(cache)});
      await cache.digest(${JSON.stringify(f)});
      await cache.save();`)));
    expect(Object.keys(JSON.parse(fs.readFileSync(cache, 'utf8'))).sort()).toEqual([...files].sort());
    expect(fs.existsSync(`${cache}.lock`)).toBe(false);
  }, 60_000);

  it('keeps the listing of every model any of them learnt', async () => {
    const cache = path.join(dir, 'io', 'model-io.json');
    const hashes = Array.from({ length: WRITERS }, (_, i) => String(i).repeat(64));
    await Promise.all(hashes.map((hash) => node(`
      const { ModelIoStore } = require(${JSON.stringify(MODEL_IO_JS)});
      const store = new ModelIoStore(${JSON.stringify(cache)});
      await store.get(${JSON.stringify(hash)});
      await store.remember(${JSON.stringify(hash)}, { inputs: [${JSON.stringify(tensor('data', 0))}], outputs: [${JSON.stringify(tensor('prob', 0))}], maxBatchSize: null });`)));
    expect(Object.keys(JSON.parse(fs.readFileSync(cache, 'utf8')).models).sort()).toEqual(hashes);
  }, 60_000);
});
