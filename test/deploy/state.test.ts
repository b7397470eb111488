/** The .axctl/ record and how deploy/verify take their defaults from it. */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTargets } from '../../host/deploy/targets';
import { readState, stateFile, writeState, type DeployRecord } from '../../host/state/axctl-state';
import { ModelIoStore, modelIoOf } from '../../host/state/model-io';
import { parseRunJointLog } from '../../shared/parsers/run-joint-log';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-state-')));
  dirs.push(d);
  return d;
}

function record(dir: string, outside: string): DeployRecord {
  return {
    board: 'ws://board:7007',
    tokenFile: path.join(outside, 'board.token'),
    model: { path: path.join(dir, 'models', 'm.joint'), hash: 'a'.repeat(64), size: 10 },
    gt: { path: path.join(dir, 'gt'), inputs: [{ path: path.join(dir, 'gt', 'input', 'data.bin'), hash: 'b'.repeat(64), size: 3 }] },
    deployedAt: '2024-01-01T00:00:00.000Z',
  };
}

describe('.axctl/state.json', () => {
  it('stores paths inside the folder relative to it, others absolute, and reads them back absolute', async () => {
    const dir = await tmp();
    const outside = await tmp();
    await writeState(dir, record(dir, outside));
    const onDisk = JSON.parse(await fsp.readFile(stateFile(dir), 'utf8'));
    expect(onDisk).toMatchObject({ version: 1, model: { path: path.join('models', 'm.joint') }, gt: { path: 'gt' }, tokenFile: path.join(outside, 'board.token') });
    expect(await fsp.readdir(path.join(dir, '.axctl'))).toEqual(['state.json']);

    // The project moved: the relative paths follow it.
    const moved = path.join(await tmp(), 'moved');
    await fsp.rename(dir, moved);
    const back = await readState(moved);
    expect(back!.model.path).toBe(path.join(moved, 'models', 'm.joint'));
    expect(back!.gt.inputs[0]!.path).toBe(path.join(moved, 'gt', 'input', 'data.bin'));
  });

  it('no record is null; a damaged one is a clear error (exit 2)', async () => {
    const dir = await tmp();
    expect(await readState(dir)).toBeNull();
    await fsp.mkdir(path.join(dir, '.axctl'));
    await fsp.writeFile(stateFile(dir), '{"version": 1, "board": 3}');
    await expect(readState(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', exitCode: 2 });
    await fsp.writeFile(stateFile(dir), 'not json');
    await expect(readState(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it.each([
    ['null', 'holds null, not a deploy record (a JSON object)'],
    ['[]', 'holds a JSON array, not a deploy record (a JSON object)'],
    ['"x"', 'holds a JSON string, not a deploy record (a JSON object)'],
    ['{}', 'has no "version" field; this axctl reads version 1 records'],
    ['{"version": "1"}', 'has "version": "1", not a version number; this axctl reads version 1'],
    ['{"version": 2}', 'has version 2, this axctl reads version 1'],
  ])('a record of %s is STATE_CORRUPT saying what is wrong (exit 2)', async (json, problem) => {
    const dir = await tmp();
    await fsp.mkdir(path.join(dir, '.axctl'));
    await fsp.writeFile(stateFile(dir), json);
    await expect(readState(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', exitCode: 2, message: `${stateFile(dir)}: ${problem}` });
    await expect(resolveTargets({}, dir, 'verify')).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('a .axctl that is a file, or a state.json that is a folder, is STATE_CORRUPT saying so (exit 2)', async () => {
    const dir = await tmp();
    await fsp.writeFile(path.join(dir, '.axctl'), 'a file where the folder goes');
    await expect(readState(dir)).rejects.toMatchObject({
      code: 'STATE_CORRUPT',
      exitCode: 2,
      message: `${path.join(dir, '.axctl')}: is a file, not the folder where axctl keeps the deploy record`,
      hint: expect.stringContaining('move or delete'),
    });
    await fsp.rm(path.join(dir, '.axctl'));
    await fsp.mkdir(stateFile(dir), { recursive: true });
    await expect(readState(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: `${stateFile(dir)}: is a folder, not the file holding the deploy record`, hint: expect.stringContaining('run axctl deploy again') });
  });

  it('a record that cannot be written says "cannot be written" and why (exit 2)', async () => {
    const dir = await tmp();
    await fsp.writeFile(path.join(dir, '.axctl'), 'a file where the folder goes');
    await expect(writeState(dir, record(dir, dir))).rejects.toMatchObject({
      code: 'FILE_NOT_FOLDER',
      exitCode: 2,
      message: `${stateFile(dir)}: cannot be written: a part of its path is a file, not a folder`,
      hint: expect.any(String),
    });
    await fsp.rm(path.join(dir, '.axctl'));
    await fsp.mkdir(stateFile(dir), { recursive: true });
    await expect(writeState(dir, record(dir, dir))).rejects.toMatchObject({ code: 'FILE_IS_FOLDER', message: `${stateFile(dir)}: cannot be written: it is a folder` });
  });
});

/** The files `record` names, so a record of them can be used. */
async function makeRecordedFiles(rec: DeployRecord): Promise<void> {
  await fsp.mkdir(path.dirname(rec.model.path), { recursive: true });
  await fsp.writeFile(rec.model.path, 'model');
  await fsp.mkdir(path.dirname(rec.gt.inputs[0]!.path), { recursive: true });
  await fsp.writeFile(rec.gt.inputs[0]!.path, 'abc');
  await fsp.writeFile(rec.tokenFile!, 'x'.repeat(32));
}

describe('resolveTargets', () => {
  it('the command line wins; the rest comes from the record; the token file only for its own board', async () => {
    const dir = await tmp();
    const outside = await tmp();
    await writeState(dir, record(dir, outside));
    await makeRecordedFiles(record(dir, outside));
    const all = await resolveTargets({}, dir, 'verify');
    expect(all).toMatchObject({ board: 'ws://board:7007', model: path.join(dir, 'models', 'm.joint'), gt: path.join(dir, 'gt'), tokenFile: path.join(outside, 'board.token') });
    expect(all.fromState).toEqual(['board', 'model', 'gt', 'token-file']);
    const other = await resolveTargets({ board: 'ws://other:7007', gt: 'gt2' }, dir, 'verify');
    expect(other.tokenFile).toBeUndefined();
    expect(other.gt).toBe(path.join(dir, 'gt2'));
    expect(other.fromState).toEqual(['model']);
  });

  it('with --board, --model and --gt all given, the recorded token file still comes for the same board (a trailing / too)', async () => {
    const dir = await tmp();
    const outside = await tmp();
    await writeState(dir, record(dir, outside));
    await makeRecordedFiles(record(dir, outside));
    const all = { model: 'models/m.joint', gt: 'gt' };
    for (const board of ['ws://board:7007', 'ws://board:7007/']) {
      const targets = await resolveTargets({ board, ...all }, dir, 'verify', {});
      expect(targets.tokenFile).toBe(path.join(outside, 'board.token'));
      expect(targets.fromState).toEqual(['token-file']);
    }
    // Another board, a token given another way, or a path on the board's URL: not the recorded token.
    expect((await resolveTargets({ board: 'ws://other:7007', ...all }, dir, 'verify', {})).tokenFile).toBeUndefined();
    expect((await resolveTargets({ board: 'ws://board:7007/x', ...all }, dir, 'verify', {})).tokenFile).toBeUndefined();
    expect((await resolveTargets({ board: 'ws://board:7007', ...all }, dir, 'verify', { AXCTL_TOKEN: 'y'.repeat(32) })).tokenFile).toBeUndefined();
    expect((await resolveTargets({ board: 'ws://board:7007', ...all, tokenFile: 'mine' }, dir, 'verify', {})).tokenFile).toBe(path.join(dir, 'mine'));
    // Recorded as ws://board:7007/, given without the slash: the same board.
    await writeState(dir, { ...record(dir, outside), board: 'ws://board:7007/' });
    expect((await resolveTargets({ board: 'ws://board:7007', ...all }, dir, 'verify', {})).tokenFile).toBe(path.join(outside, 'board.token'));
  });

  it('with --board, --model and --gt all given, a damaged record is no error: it is only a token source then', async () => {
    const dir = await tmp();
    await fsp.mkdir(path.join(dir, '.axctl'));
    await fsp.writeFile(stateFile(dir), 'not json');
    const targets = await resolveTargets({ board: 'ws://board:7007', model: 'm.joint', gt: 'gt' }, dir, 'verify', {});
    expect(targets).toMatchObject({ board: 'ws://board:7007', model: path.join(dir, 'm.joint'), fromState: [] });
    expect(targets.tokenFile).toBeUndefined();
  });

  it.each([
    ['model', (r: DeployRecord) => r.model.path, 'FILE'],
    ['gt', (r: DeployRecord) => r.gt.path, 'FOLDER'],
    ['token-file', (r: DeployRecord) => r.tokenFile!, 'FILE'],
  ] as const)('a recorded %s that is gone is said to come from the last deploy, with how to give another', async (name, pathOf, arg) => {
    const dir = await tmp();
    const outside = await tmp();
    const rec = record(dir, outside);
    await writeState(dir, rec);
    await makeRecordedFiles(rec);
    await fsp.rm(pathOf(rec), { recursive: true });
    const what = { model: 'the model', gt: 'the gt folder', 'token-file': 'the token file' }[name];
    const message = `${stateFile(dir)}: ${what} of the last deploy, ${pathOf(rec)}: no such file or folder`;
    await expect(resolveTargets({}, dir, 'verify')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', exitCode: 2, message, hint: `pass --${name} ${arg}, or run axctl deploy again` });
    await expect(resolveTargets({}, dir, 'deploy')).rejects.toMatchObject({ message, hint: `pass --${name} ${arg}` });
  });

  it('a recorded board name that axctl.yaml no longer has is said to come from the last deploy', async () => {
    const dir = await tmp();
    const outside = await tmp();
    const rec = { ...record(dir, outside), board: 'evb1' };
    await writeState(dir, rec);
    await makeRecordedFiles(rec);
    await fsp.writeFile(path.join(dir, 'axctl.yaml'), 'boards:\n  evb2: { url: "ws://10.0.0.2:7007" }\n');
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = outside; // no user inventory with an evb1
    try {
      await expect(resolveTargets({}, dir, 'verify')).rejects.toMatchObject({
        code: 'BOARD_UNKNOWN',
        exitCode: 2,
        message: expect.stringMatching(new RegExp(`^${stateFile(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the board of the last deploy, unknown board "evb1"`)),
        hint: expect.stringMatching(/^pass --board URL, or run axctl deploy again; known boards: evb2/),
      });
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('asks for what is missing when nothing was deployed', async () => {
    const dir = await tmp();
    await expect(resolveTargets({ board: 'ws://b:1' }, dir, 'deploy')).rejects.toMatchObject({ code: 'MISSING_OPTION', exitCode: 2, message: expect.stringMatching(/no --model given, and nothing was deployed/) });
  });
});

describe('ModelIoStore', () => {
  it('remembers a complete listing by model hash across instances', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'cache', 'model-io.json');
    const log = parseRunJointLog(await fsp.readFile(path.join(__dirname, '../fixtures/compare/run_joint-q.log'), 'utf8'));
    const io = modelIoOf(log)!;
    expect(io.inputs.map((t) => t.name)).toEqual(['data']);
    await new ModelIoStore(file).remember('c'.repeat(64), io);
    const again = await new ModelIoStore(file).get('c'.repeat(64));
    expect(again!.outputs.map((t) => [t.name, t.q])).toEqual([['/head/conv_out', 256], ['prob', null], ['logits_q', 16]]);
    expect(await new ModelIoStore(file).get('d'.repeat(64))).toBeNull();
  });

  it('an incomplete listing (an aborted run lost it) is not remembered', () => {
    expect(modelIoOf(parseRunJointLog(''))).toBeNull();
    expect(modelIoOf(parseRunJointLog('run joint version: 0.5.10\nInput[0]: data\n'))).toBeNull();
  });

  it('a damaged cache file is rebuilt, not an error', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'model-io.json');
    await fsp.writeFile(file, '{{{');
    expect(await new ModelIoStore(file).get('c'.repeat(64))).toBeNull();
  });

  it('a damaged entry is dropped, the others kept, and remembering goes on', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'model-io.json');
    const io = modelIoOf(parseRunJointLog(await fsp.readFile(path.join(__dirname, '../fixtures/compare/run_joint-q.log'), 'utf8')))!;
    const good = { ...io, seenAt: '2024-01-01T00:00:00.000Z' };
    await fsp.writeFile(file, JSON.stringify({ version: 1, models: { ['a'.repeat(64)]: 5, ['b'.repeat(64)]: { ...good, inputs: null }, ['c'.repeat(64)]: good, ['e'.repeat(64)]: { ...good, seenAt: 7 } } }));
    const store = new ModelIoStore(file);
    expect(await store.get('a'.repeat(64))).toBeNull();
    expect(await store.get('b'.repeat(64))).toBeNull();
    expect((await store.get('c'.repeat(64)))!.inputs.map((t) => t.name)).toEqual(['data']);
    await store.remember('d'.repeat(64), io);
    expect(Object.keys(JSON.parse(await fsp.readFile(file, 'utf8')).models).sort()).toEqual(['c'.repeat(64), 'd'.repeat(64)]);
  });
});
