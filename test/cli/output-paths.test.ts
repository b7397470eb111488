/**
 * verify and diagnose refuse, before any work, to write a report or the board's outputs over
 * their own inputs: `--junit model.joint` replaced the model, `verify --save-outputs gt/joint`
 * the simulator's reference outputs, and `--junit r --html r` kept one report of the two; and
 * a report path that is a folder (`--junit .`), which no run could fill; and a report inside
 * the --save-outputs folder, which broke that folder's next run or replaced a saved output; and
 * a --save-outputs folder in .axctl/, beside the deploy record.
 */
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { runAxctl, type CliRun } from '../built';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-cli-outputs-');
let tmp: string;

beforeAll(async () => {
  tmp = dirs.make();
  makeModel('classifier', path.join(tmp, 'm.joint'));
  await makeGt(path.join(tmp, 'm.joint'), path.join(tmp, 'gt'), { seed: 1 });
  writeFileSync(path.join(tmp, 'tok'), `${'a'.repeat(64)}\n`, { mode: 0o600 });
  symlinkSync('gt', path.join(tmp, 'gt-link'));
  mkdirSync(path.join(tmp, 'out'));
  symlinkSync('out', path.join(tmp, 'out-link'));
});
afterAll(() => dirs.cleanup());

function axctl(...args: string[]): Promise<CliRun> {
  return runAxctl(tmp, args);
}

/** Real model, gt and token; nothing listens on port 1, so a verify that started would exit 5. */
const VERIFY = ['verify', '--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt', '--token-file', 'tok'];

const STATE_REFUSED = (given: string) => `--save-outputs ${given} is in .axctl/, where axctl keeps this folder's deploy record (give --save-outputs a folder outside .axctl/, e.g. board-outputs)`;

describe('outputs onto inputs', () => {
  it.each([
    ['verify: --junit and --html the same file', [...VERIFY, '--junit', 'r.xml', '--html', './r.xml'], '--junit and --html both name ./r.xml (give --html a path of its own)'],
    ['verify: --junit onto the model', [...VERIFY, '--junit', 'm.joint'], '--junit m.joint would overwrite the model (--model) (give --junit another path)'],
    ['verify: --html onto the token file', [...VERIFY, '--html', 'tok'], '--html tok would overwrite the token file (--token-file) (give --html another path)'],
    ['verify: --save-outputs into gt/joint', [...VERIFY, '--save-outputs', 'gt/joint'], '--save-outputs gt/joint is inside the gt folder (--gt) (give --save-outputs a path outside the gt folder)'],
    ['verify: --save-outputs into gt through a link', [...VERIFY, '--save-outputs', 'gt-link/joint'], '--save-outputs gt-link/joint is inside the gt folder (--gt) (give --save-outputs a path outside the gt folder)'],
    ['verify: --save-outputs the gt folder itself', [...VERIFY, '--save-outputs', 'gt'], '--save-outputs gt is the gt folder (--gt) (give --save-outputs a path outside the gt folder)'],
    ['verify: --junit into the gt folder', [...VERIFY, '--junit', 'gt/report.xml'], '--junit gt/report.xml is inside the gt folder (--gt) (give --junit a path outside the gt folder)'],
    ['diagnose: --junit onto the model', ['diagnose', '--joint', 'm.joint', '--gt', 'gt', '--junit', 'm.joint'], '--junit m.joint would overwrite the model (--joint) (give --junit another path)'],
    ['diagnose: --html onto an --input file', ['diagnose', '--joint', 'm.joint', '--input', 'gt/input/data.bin', '--html', 'gt/input/data.bin'], '--html gt/input/data.bin would overwrite an input file (--input) (give --html another path)'],
    ['diagnose: --junit and --html the same file', ['diagnose', '--joint', 'm.joint', '--gt', 'gt', '--junit', 'd', '--html', 'd'], '--junit and --html both name d (give --html a path of its own)'],
    // The next run would refuse the folder for a file it did not write, or the report replaces a saved output.
    ['verify: --junit inside the --save-outputs folder', [...VERIFY, '--junit', 'out/x.xml', '--save-outputs', 'out'], '--junit out/x.xml is inside the --save-outputs folder out (put the report outside out)'],
    ['verify: --html inside the --save-outputs folder, given after it', [...VERIFY, '--save-outputs', './out/', '--html', 'out/sub/r.html'], '--html out/sub/r.html is inside the --save-outputs folder ./out/ (put the report outside ./out/)'],
    ['verify: --junit on an output file of the folder', [...VERIFY, '--junit', 'o3/resnetv15_dense0_fwd.bin', '--save-outputs', 'o3'], '--junit o3/resnetv15_dense0_fwd.bin is inside the --save-outputs folder o3 (put the report outside o3)'],
    ['verify: --junit inside the --save-outputs folder through a link', [...VERIFY, '--junit', 'out-link/x.xml', '--save-outputs', 'out'], '--junit out-link/x.xml is inside the --save-outputs folder out (put the report outside out)'],
    ['verify: --junit the --save-outputs folder itself', [...VERIFY, '--junit', 'new-out', '--save-outputs', 'new-out'], '--junit new-out is the --save-outputs folder new-out (put the report outside new-out)'],
    // .axctl/ holds the deploy record: outputs there mix with it (and clearing them could take it).
    ['verify: --save-outputs the state folder', [...VERIFY, '--save-outputs', '.axctl'], STATE_REFUSED('.axctl')],
    ['verify: --save-outputs ./.axctl/', [...VERIFY, '--save-outputs', './.axctl/'], STATE_REFUSED('./.axctl/')],
    ['verify: --save-outputs inside the state folder', [...VERIFY, '--save-outputs', '.axctl/out'], STATE_REFUSED('.axctl/out')],
    ['verify: --junit a folder', [...VERIFY, '--junit', '.'], '--junit . is a folder (name a file inside it)'],
    ['diagnose: --html a folder', ['diagnose', '--joint', 'm.joint', '--gt', 'gt', '--html', '..'], '--html .. is a folder (name a file inside it)'],
  ])('%s: refused before any work, one line, exit 2, nothing written', async (_name, args, message) => {
    const model = readFileSync(path.join(tmp, 'm.joint'));
    const reference = readFileSync(path.join(tmp, 'gt/joint/resnetv15_dense0_fwd.bin'));
    const run = await axctl(...args);
    expect(run.stderr).toBe(`axctl: ${message}\n`);
    expect(run.code).toBe(2);
    expect(readFileSync(path.join(tmp, 'm.joint')).equals(model)).toBe(true);
    expect(readFileSync(path.join(tmp, 'gt/joint/resnetv15_dense0_fwd.bin')).equals(reference)).toBe(true);
  });

  it('--save-outputs into an existing .axctl/ through a link is refused too, nothing made there', async () => {
    const project = path.join(tmp, 'project');
    mkdirSync(path.join(project, '.axctl'), { recursive: true });
    symlinkSync('.axctl', path.join(project, 'state-link'));
    const run = await runAxctl(project, ['verify', '--board', 'ws://127.0.0.1:1', '--model', '../m.joint', '--gt', '../gt', '--token-file', '../tok', '--save-outputs', 'state-link/out']);
    expect(run.stderr).toBe(`axctl: ${STATE_REFUSED('state-link/out')}\n`);
    expect(run.code).toBe(2);
    expect(readdirSync(path.join(project, '.axctl'))).toEqual([]);
  });

  it('outputs beside the inputs are fine: the command goes on (here to connect, exit 5)', async () => {
    const run = await axctl(...VERIFY, '--junit', 'out.xml', '--html', 'r.html', '--save-outputs', 'out');
    expect(run.stderr).toMatch(/^axctl: .*127\.0\.0\.1:1/);
    expect(run.code).toBe(5);
  });
});
