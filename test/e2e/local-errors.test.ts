/**
 * User errors about local files, URLs and records, end to end: each is one line on stderr,
 * `axctl: <what is wrong> (<what to do>)`, and exit 2 — never exit 70 ("internal error").
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, makeFixture, requireBuild, runCli, startAgent, targetArgs, tempDir, type CliResult } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

/** Nothing listens here: local checks must fail before any connection is tried. */
const NO_BOARD = 'ws://127.0.0.1:9';

function expectOneLineError(res: CliResult, message: RegExp): void {
  expect(res.code, res.stderr).toBe(2);
  expect(res.stderr).not.toMatch(/internal error/);
  const lines = res.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^axctl: .+ \(.+\)$/);
  expect(lines[0]).toMatch(message);
}

async function project(): Promise<{ dir: string; model: string; gt: string; token: string }> {
  const dir = await tempDir(cleanup);
  const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
  const token = path.join(dir, 'token');
  await fsp.writeFile(token, `${'a'.repeat(64)}\n`, { mode: 0o600 });
  return { dir, model: fx.model, gt: fx.gt, token };
}

describe('gt folders with links to nowhere', () => {
  it('an input .bin linked to nowhere: verify, deploy and inspect name it (exit 2)', async () => {
    const p = await project();
    const bin = path.join(p.gt, 'input', 'data.bin');
    await fsp.rm(bin);
    await fsp.symlink('/nonexistent/data.bin', bin);
    for (const command of ['verify', 'deploy']) {
      const res = await runCli([command, '--board', NO_BOARD, '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
      expectOneLineError(res, /data\.bin: is a symbolic link to \/nonexistent\/data\.bin, which does not exist/);
    }
    expectOneLineError(await runCli(['inspect', p.gt], { cwd: p.dir }), /data\.bin: is a symbolic link to \/nonexistent\/data\.bin/);
  });

  it('an input/ folder linked to nowhere: verify and inspect name it (exit 2)', async () => {
    const p = await project();
    await fsp.rm(path.join(p.gt, 'input'), { recursive: true });
    await fsp.symlink('/nonexistent/input', path.join(p.gt, 'input'));
    const res = await runCli(['verify', '--board', NO_BOARD, '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, /input: is a symbolic link to \/nonexistent\/input, which does not exist/);
    expectOneLineError(await runCli(['inspect', p.gt], { cwd: p.dir }), /input: is a symbolic link to \/nonexistent\/input/);
  });

  it('a gt input or a model that is a device is "not a regular file" (exit 2)', async () => {
    const p = await project();
    const res = await runCli(['verify', '--board', NO_BOARD, '--model', '/dev/null', '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, /^axctl: \/dev\/null: is not a regular file \(a device, socket or pipe\)/);
  });
});

describe('records and caches', () => {
  it.each([
    ['null', /state\.json: holds null, not a deploy record/],
    ['{"version": "1"}', /state\.json: has "version": "1", not a version number; this axctl reads version 1/],
    ['[]', /state\.json: holds a JSON array, not a deploy record/],
  ])('a .axctl/state.json of %s is STATE_CORRUPT (exit 2)', async (json, message) => {
    const dir = await tempDir(cleanup);
    await fsp.mkdir(path.join(dir, '.axctl'));
    await fsp.writeFile(path.join(dir, '.axctl', 'state.json'), json);
    expectOneLineError(await runCli(['verify'], { cwd: dir }), message);
  });

  it('a .axctl that is a file is STATE_CORRUPT saying so (exit 2), not "is not a folder (name a folder)"', async () => {
    const dir = await tempDir(cleanup);
    await fsp.writeFile(path.join(dir, '.axctl'), '');
    expectOneLineError(await runCli(['verify'], { cwd: dir }), /^axctl: \S+\/\.axctl: is a file, not the folder where axctl keeps the deploy record \(move or delete that file/);
  });

  it('a hash cache of null is rebuilt silently: verify matches (exit 0)', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const cacheHome = path.join(dir, 'cache');
    await fsp.mkdir(path.join(cacheHome, 'axctl'), { recursive: true });
    await fsp.writeFile(path.join(cacheHome, 'axctl', 'hashes.json'), 'null');
    const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir, cacheHome });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
  });
});

describe('deploy with a record it cannot write', () => {
  // Tests run as root here, where chmod 555 does not stop a write: a file where the folder
  // goes, or a folder where the file goes, stops root too. NO_BOARD makes the order visible:
  // a check after connecting would end as a refused connection (exit 5).
  it.each([
    ['.axctl is a file', async (dir: string) => fsp.writeFile(path.join(dir, '.axctl'), ''), /state\.json: cannot be written: a part of its path is a file, not a folder/],
    ['.axctl/state.json is a folder', async (dir: string) => fsp.mkdir(path.join(dir, '.axctl', 'state.json'), { recursive: true }), /state\.json: cannot be written: it is a folder/],
  ])('%s: refused before the board is opened (exit 2)', async (_what, spoil, message) => {
    const p = await project();
    await spoil(p.dir);
    const res = await runCli(['deploy', '--board', NO_BOARD, '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, message);
  });
});

describe('--board URLs', () => {
  it('a --board URL with a #fragment is BAD_AGENT_URL (exit 2)', async () => {
    const p = await project();
    const res = await runCli(['verify', '--board', 'ws://127.0.0.1:1#frag', '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, /is not an agent URL: it has a #fragment \(leave out #frag\)$/);
  });

  it('a --board URL with port 0 is BAD_AGENT_URL (exit 2), not a refused connection (exit 5)', async () => {
    const p = await project();
    const res = await runCli(['verify', '--board', 'ws://127.0.0.1:0', '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, /^axctl: 'ws:\/\/127\.0\.0\.1:0' has port 0, not 1 to 65535 \(/);
  });

  it('an inventory url that is a number is INVENTORY_BAD_VALUE (exit 2), not a failed ping', async () => {
    const dir = await tempDir(cleanup);
    await fsp.writeFile(path.join(dir, 'axctl.yaml'), 'boards:\n  evb1:\n    url: 12345\n');
    const res = await runCli(['boards'], { cwd: dir, env: { XDG_CONFIG_HOME: path.join(dir, 'config') } });
    expectOneLineError(res, /axctl\.yaml: board "evb1": "url" must be a URL, not the number 12345 \(write it like ws:\/\//);
  });

  it('an inventory identity that is missing names the inventory and the board (exit 2), before any connection', async () => {
    const p = await project();
    const inv = path.join(p.dir, 'axctl.yaml');
    // Nothing listens on port 9: without the check the run would end as a refused connection (exit 5).
    await fsp.writeFile(inv, 'boards:\n  b1:\n    url: ssh://root@127.0.0.1:9\n    identity: keys/none\n');
    const res = await runCli(['verify', '--board', 'b1', '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir, env: { XDG_CONFIG_HOME: path.join(p.dir, 'config') } });
    expectOneLineError(res, new RegExp(`^axctl: ${inv}: board "b1": "identity": ${path.join(p.dir, 'keys/none')}: no such file or folder`));
  });
});

describe('verify --save-outputs', () => {
  it('an existing file, a link to nowhere or a folder of someone else is refused before the run (exit 2)', async () => {
    const p = await project();
    const args = ['verify', '--board', NO_BOARD, '--model', p.model, '--gt', p.gt, '--token-file', p.token];
    // The model itself is refused by the check of output paths, any other file by the folder check.
    expectOneLineError(await runCli([...args, '--save-outputs', p.model], { cwd: p.dir }), /classifier\.joint would overwrite the model/);
    const file = path.join(p.dir, 'a-file');
    await fsp.writeFile(file, 'x');
    expectOneLineError(await runCli([...args, '--save-outputs', file], { cwd: p.dir }), /a-file: is a file, --save-outputs needs a folder/);
    const link = path.join(p.dir, 'outs');
    await fsp.symlink('/nonexistent/outs', link);
    expectOneLineError(await runCli([...args, '--save-outputs', link], { cwd: p.dir }), /outs: is a symbolic link to \/nonexistent\/outs, which does not exist/);
    const mine = path.join(p.dir, 'mine');
    await fsp.mkdir(mine);
    await fsp.writeFile(path.join(mine, 'resnetv15_dense0_fwd.bin'), 'my own');
    expectOneLineError(await runCli([...args, '--save-outputs', mine], { cwd: p.dir }), /mine: holds files --save-outputs did not write \(resnetv15_dense0_fwd\.bin\); they could be replaced/);
    expect(await fsp.readFile(path.join(mine, 'resnetv15_dense0_fwd.bin'), 'utf8')).toBe('my own');
  });

  it('outputs that cannot be written: the verdict first, then one line saying so (exit 2)', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const saved = path.join(dir, 'saved');
    await fsp.mkdir(path.join(saved, 'resnetv15_dense0_fwd.bin'), { recursive: true }); // a folder where the output goes
    // ...listed as an earlier run's output, so the folder passes the check before the run.
    await fsp.writeFile(path.join(saved, '.axctl-saved-outputs.json'), JSON.stringify({ files: ['resnetv15_dense0_fwd.bin'] }));
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--save-outputs', saved], { cwd: dir });
    expect(res.stdout).toMatch(/^MATCH /);
    expectOneLineError(res, /resnetv15_dense0_fwd\.bin: cannot be written: it is a folder/);
  });

  it('a TMPDIR that cannot hold outputs to be fetched as files is a usage error naming it (exit 2)', async () => {
    // A small model's outputs come back with the run and are compared from memory: files are
    // made for outputs too large for that, and for --save-outputs.
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--save-outputs', path.join(dir, 'kept')], { cwd: dir, env: { TMPDIR: fx.model } });
    expectOneLineError(res, /classifier\.joint: cannot hold the board's outputs while they are compared: a part of its path is a file, not a folder \(set TMPDIR/);
  });
});

describe('axctl lint', () => {
  it('a FIFO is refused at once (exit 2), not waited on', async () => {
    const dir = await tempDir(cleanup);
    const fifo = path.join(dir, 'f.prototxt');
    execFileSync('mkfifo', [fifo]);
    const res = await runCli(['lint', fifo], { cwd: dir, timeoutMs: 15_000 });
    expectOneLineError(res, /f\.prototxt: is not a regular file \(a device, socket or pipe\)/);
  });
});

describe('SSH-only settings for a serial:// board', () => {
  // A serial board is the agent on a console line: no SSH is involved, so these would be ignored.
  it('--agentless is refused (exit 2), not ignored', async () => {
    const p = await project();
    const res = await runCli(['verify', '--board', 'serial:///dev/ttyNONE', '--agentless', '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, /agentless mode works over ssh:\/\/ only, not serial:\/\/\/dev\/ttyNONE/);
  });

  it('--via is refused (exit 2), not ignored', async () => {
    const p = await project();
    const res = await runCli(['verify', '--board', 'serial:///dev/ttyNONE', '--via', 'ssh://me@gateway', '--model', p.model, '--gt', p.gt, '--token-file', p.token], { cwd: p.dir });
    expectOneLineError(res, /jump hosts \(--via\) lead to ssh:\/\/ and ws:\/\/ boards, not to serial:\/\/\/dev\/ttyNONE/);
  });
});

describe('a token file that cannot be read, with the board down', () => {
  // The file is the user's to fix whatever the board does: exit 2 at once, not "connection refused" (exit 5).
  it('ws:// is refused as a bad local file before any connection', async () => {
    const p = await project();
    const missing = path.join(p.dir, 'no-such-token');
    const res = await runCli(['verify', '--board', NO_BOARD, '--model', p.model, '--gt', p.gt, '--token-file', missing], { cwd: p.dir });
    expectOneLineError(res, /no-such-token: no such file/);
    expect(res.stderr).not.toMatch(/refused|connect/);
  });
});
