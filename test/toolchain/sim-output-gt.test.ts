/**
 * `axctl sim --output-gt DIR` with the stand-in pulsar: DIR ends up holding exactly this
 * run's gt (nothing left from earlier runs), a failed run leaves the previous DIR as it was,
 * and a DIR that is not a gt folder is refused without deleting anything.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PulsarToolchain, pulsarBuild, pulsarSim } from '../../host/toolchain';
import { isAxError } from '../../shared/errors';
import { mountTmpfs } from '../agent/tmpfs';
import { makePulsarProject, PULSAR, removeProject, requireBuild } from './helpers';

let project: string;
const at = (p: string) => path.join(project, p);

function tool(pulsar = PULSAR): PulsarToolchain {
  return new PulsarToolchain({ pulsar, cwd: project, env: {}, childEnv: { AXPULSAR_FAULT: '', AXPULSAR_VERSION: '' } });
}

const simOptions = (gt: string) => ({
  onnx: at('model.onnx'), model: at('out/model.joint'), config: at('out/output_config.prototxt'),
  inputs: [at('images/cat.jpg')], outputGt: at(gt),
});

/** Every file under `dir`, relative, sorted. */
function listing(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Names beside `dir` that a run left behind (its fresh or old copies). */
function leftovers(dir: string): string[] {
  return fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith(`.${path.basename(dir)}.axctl-`));
}

beforeAll(async () => {
  requireBuild();
  project = makePulsarProject('gt-swap');
  await pulsarBuild(tool(), {
    onnx: at('model.onnx'), config: at('config/config.prototxt'),
    output: at('out/model.joint'), outputConfig: at('out/output_config.prototxt'),
  });
});
afterAll(() => removeProject(project));

describe('axctl sim --output-gt', () => {
  it('clears what a killed sim left beside the folder: set-aside old gt at once, a fresh one once a day old', async () => {
    fs.mkdirSync(at('gt-kill'), { recursive: true });
    const old = at('.gt-kill.axctl-old-abc123');
    const staleFresh = at('.gt-kill.axctl-new-def456');
    const liveFresh = at('.gt-kill.axctl-new-ghi789');
    for (const d of [old, staleFresh, liveFresh]) fs.mkdirSync(path.join(d, 'joint'), { recursive: true });
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    fs.utimesSync(staleFresh, twoDaysAgo, twoDaysAgo);
    await pulsarSim(tool(), simOptions('gt-kill'));
    expect(leftovers(at('gt-kill'))).toEqual([path.basename(liveFresh)]);
    fs.rmSync(liveFresh, { recursive: true });
  });

  it('replaces an earlier gt whole: files of other tensors from earlier runs are gone', async () => {
    const first = await pulsarSim(tool(), simOptions('gt'));
    const fresh = listing(at('gt'));
    expect(fresh).toContain('joint/resnetv15_dense0_fwd.bin');
    expect(first.dumps.map((d) => d.path)).toContain('gt/joint/resnetv15_dense0_fwd.bin');
    // What an earlier run for another model (other input and output names) left there.
    for (const stale of ['input/image.bin', 'input/image.npy', 'joint/old_head.bin', 'onnx/old_head.npy']) {
      fs.writeFileSync(at(path.join('gt', stale)), 'stale');
    }
    await pulsarSim(tool(), simOptions('gt'));
    expect(listing(at('gt'))).toEqual(fresh);
    expect(leftovers(at('gt'))).toEqual([]);
  });

  it('a run that fails after writing part of its gt leaves the previous gt as it was', async () => {
    await pulsarSim(tool(), simOptions('gt-kept'));
    const before = listing(at('gt-kept'));
    const joint = fs.readFileSync(at('gt-kept/joint/resnetv15_dense0_fwd.bin'));
    // A pulsar that writes the whole gt plus one file of its own, then dies.
    const failing = at('pulsar-dies.js');
    fs.writeFileSync(failing, `
      const { spawnSync } = require('child_process');
      const args = process.argv.slice(2);
      const r = spawnSync(process.execPath, [${JSON.stringify(PULSAR)}, ...args], { stdio: 'inherit' });
      if (args[0] !== 'run') process.exit(r.status);
      const gt = args[args.indexOf('--output_gt') + 1];
      require('fs').writeFileSync(require('path').join(gt, 'joint', 'half_written.bin'), 'x');
      console.error('RuntimeError: killed while dumping');
      process.exit(1);
    `);
    const err = await pulsarSim(tool(`'${process.execPath}' '${failing}'`), simOptions('gt-kept')).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('PULSAR_RUN_FAILED');
    expect(listing(at('gt-kept'))).toEqual(before);
    expect(fs.readFileSync(at('gt-kept/joint/resnetv15_dense0_fwd.bin'))).toEqual(joint);
    expect(leftovers(at('gt-kept'))).toEqual([]);
  });

  it('refuses a folder that is not a gt folder and deletes nothing in it', async () => {
    fs.mkdirSync(at('src/joint'), { recursive: true });
    fs.writeFileSync(at('src/main.c'), 'int main(void) { return 0; }\n');
    fs.writeFileSync(at('src/joint/weights.bin'), 'mine');
    const err = await pulsarSim(tool(), simOptions('src')).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('SIM_OUTPUT_GT_NOT_GT');
    expect((err as Error).message).toBe(`${at('src')}: does not look like a gt folder (it holds main.c, which pulsar run does not write); not replacing it`);
    expect(listing(at('src'))).toEqual(['joint/weights.bin', 'main.c']);
    // A gt-shaped folder with one foreign file inside is refused too.
    fs.rmSync(at('src/main.c'));
    fs.writeFileSync(at('src/joint/notes.txt'), 'keep me');
    const inner = await pulsarSim(tool(), simOptions('src')).catch((e: unknown) => e);
    expect(isAxError(inner) && inner.code).toBe('SIM_OUTPUT_GT_NOT_GT');
    expect(listing(at('src'))).toEqual(['joint/notes.txt', 'joint/weights.bin']);
    expect(leftovers(at('src'))).toEqual([]);
  });

  it('makes a missing folder and fills an empty one', async () => {
    fs.mkdirSync(at('empty'));
    await pulsarSim(tool(), simOptions('empty'));
    await pulsarSim(tool(), simOptions('new/deeper/gt'));
    expect(listing(at('empty'))).toEqual(listing(at('new/deeper/gt')));
    expect(listing(at('empty'))).toContain('input/filename.txt');
    // mkdtemp would have made it 700; a farm's gt is read by other accounts too.
    expect(fs.statSync(at('empty')).mode & 0o777).toBe(0o777 & ~process.umask());
  });

  it('a folder that cannot be written says so (a write error, not a read error)', async () => {
    const ro = at('ro');
    fs.mkdirSync(ro);
    execFileSync('mount', ['--bind', ro, ro]);
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    try {
      const err = await pulsarSim(tool(), simOptions('ro/gt')).then(() => null, (e: unknown) => e);
      expect(isAxError(err) && [err.code, err.exitCode]).toEqual(['FILE_WRITE_FAILED', 2]);
      expect((err as Error).message).toMatch(/ro\/gt: cannot be written: .*read-only/);
    } finally {
      execFileSync('umount', ['-l', ro]);
    }
  });

  it('a bind mount from the same file system is refilled in place too (its device number is its parent s)', async () => {
    const source = at('bind-source');
    const mounted = at('gt-bind');
    fs.mkdirSync(path.join(source, 'joint'), { recursive: true });
    fs.writeFileSync(path.join(source, 'joint', 'old_head.bin'), 'stale');
    fs.mkdirSync(mounted);
    execFileSync('mount', ['--bind', source, mounted]);
    try {
      await pulsarSim(tool(), simOptions('gt-bind'));
      expect(listing(mounted)).toContain('joint/resnetv15_dense0_fwd.bin');
      expect(listing(mounted)).not.toContain('joint/old_head.bin');
    } finally {
      execFileSync('umount', ['-l', mounted]);
    }
  });

  it('a file added to the folder while pulsar ran is not deleted: the swap is refused, the new gt kept aside', async () => {
    await pulsarSim(tool(), simOptions('gt-added'));
    const before = listing(at('gt-added'));
    const adding = at('pulsar-while-you-wait.js');
    fs.writeFileSync(adding, `
      const { spawnSync } = require('child_process');
      const args = process.argv.slice(2);
      const r = spawnSync(process.execPath, [${JSON.stringify(PULSAR)}, ...args], { stdio: 'inherit' });
      if (args[0] === 'run') require('fs').writeFileSync(${JSON.stringify(at('gt-added/notes.txt'))}, 'mine');
      process.exit(r.status);
    `);
    const err = await pulsarSim(tool(`'${process.execPath}' '${adding}'`), simOptions('gt-added')).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('SIM_OUTPUT_GT_NOT_GT');
    expect(fs.readFileSync(at('gt-added/notes.txt'), 'utf8')).toBe('mine');
    expect(listing(at('gt-added')).filter((f) => f !== 'notes.txt')).toEqual(before);
    for (const kept of leftovers(at('gt-added'))) fs.rmSync(at(kept), { recursive: true });
  });

  it('a gt folder that is a mount point (a docker volume) is refilled in place, old files gone, a failed run changing nothing', async () => {
    const mounted = at('gt-mount');
    const unmount = await mountTmpfs(mounted, 'size=8m');
    try {
      fs.mkdirSync(path.join(mounted, 'joint'));
      fs.writeFileSync(path.join(mounted, 'joint', 'old_head.bin'), 'stale');
      await pulsarSim(tool(), simOptions('gt-mount'));
      const filled = listing(mounted);
      expect(filled).toContain('joint/resnetv15_dense0_fwd.bin');
      expect(filled).not.toContain('joint/old_head.bin');
      expect(fs.readdirSync(mounted).filter((n) => n.startsWith('.'))).toEqual([]);
      const failing = at('pulsar-fails.js');
      fs.writeFileSync(failing, `
        const { spawnSync } = require('child_process');
        const args = process.argv.slice(2);
        const r = spawnSync(process.execPath, [${JSON.stringify(PULSAR)}, ...args], { stdio: 'inherit' });
        process.exit(args[0] === 'run' ? 1 : r.status);
      `);
      const err = await pulsarSim(tool(`'${process.execPath}' '${failing}'`), simOptions('gt-mount')).catch((e: unknown) => e);
      expect(isAxError(err) && err.code).toBe('PULSAR_RUN_FAILED');
      expect(listing(mounted)).toEqual(filled);
      expect(fs.readdirSync(mounted).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      unmount();
    }
  });
});
