/**
 * .axctl/builds.json written by several processes at once (two `axctl build` runs finishing
 * together): every record is kept. Real processes running the compiled build-records module
 * (`npm run build` first), a lock held by a live process, and one left by a dead one.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBuildRecord, readBuildRecords, type BuildRecord } from '../../host/toolchain/build-records';
import { isAxError } from '../../shared/errors';
import { ROOT } from './helpers';

const RECORDS_JS = path.join(ROOT, 'dist', 'host', 'toolchain', 'build-records.js');
let dir: string;
beforeAll(() => {
  if (!fs.existsSync(RECORDS_JS)) throw new Error(`${RECORDS_JS} is missing: run \`npm run build\` first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-records-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(joint: string): BuildRecord {
  const f = (name: string) => ({ path: `/p/${name}`, sha256: 'ab'.repeat(32) });
  return {
    createdAt: '2026-01-01T00:00:00.000Z', onnx: f('model.onnx'), config: f('config.prototxt'),
    outputConfig: f('output_config.prototxt'), joint: f(joint), lavaJoint: null, targetHardware: 'AX620',
    toolchain: { version: '0.6.1.14', commit: '4d9c2a71', raw: '0.6.1.14\n4d9c2a71' }, pulsar: 'pulsar',
  };
}

/** A process adding `count` records (joints `<tag>-<i>.joint`) one after another. */
function writer(file: string, tag: string, count: number): Promise<void> {
  const script = `
    const { addBuildRecord } = require(${JSON.stringify(RECORDS_JS)});
    const rec = ${JSON.stringify(record('X'))};
    (async () => {
      for (let i = 0; i < ${count}; i++) {
        await addBuildRecord(${JSON.stringify(file)}, { ...rec, joint: { ...rec.joint, path: '/p/${tag}-' + i + '.joint' } });
      }
    })().catch((e) => { console.error(e.message); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve()));
  });
}

describe('build records under concurrent builds', () => {
  it('keeps the record of every build when several processes add theirs at once', async () => {
    const file = path.join(dir, 'concurrent', '.axctl', 'builds.json');
    await Promise.all(['a', 'b', 'c', 'd'].map((tag) => writer(file, tag, 20)));
    const joints = (await readBuildRecords(file)).map((r) => r.joint.path);
    expect(joints).toHaveLength(80);
    expect(new Set(joints).size).toBe(80);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  }, 60_000);

  it('gives up with a clear error when another live process holds the lock, and writes nothing', async () => {
    const file = path.join(dir, 'held', '.axctl', 'builds.json');
    await addBuildRecord(file, record('first.joint'));
    const before = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(`${file}.lock`, `${process.pid}\n${os.hostname()}\n`);
    const err = await addBuildRecord(file, record('second.joint'), 300).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('BUILD_RECORDS_LOCKED');
    expect((err as Error).message).toMatch(new RegExp(`the build finished but was not recorded: .*builds\\.json\\.lock stayed locked by process ${process.pid}`));
    expect(isAxError(err) && err.hint).toContain('delete');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.existsSync(`${file}.lock`)).toBe(true); // not ours to remove
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const file = path.join(dir, 'stale', '.axctl', 'builds.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    fs.writeFileSync(`${file}.lock`, `${dead.stdout.trim()}\n${os.hostname()}\n`);
    await addBuildRecord(file, record('after-crash.joint'), 300);
    expect((await readBuildRecords(file)).map((r) => r.joint.path)).toEqual(['/p/after-crash.joint']);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });
});
