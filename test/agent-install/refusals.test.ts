/**
 * What install refuses, before changing anything on the board, and what it says when the
 * service it started does not answer — against a real OpenSSH server on loopback.
 */
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_RUN_JOINT, axctl, startFakeBoard, type FakeBoard } from './helpers';

describe('axctl agent install refuses', () => {
  let board: FakeBoard;
  beforeAll(async () => {
    board = await startFakeBoard();
  });
  afterAll(async () => {
    await board?.stop();
  });

  const install = (...args: string[]) => axctl(['agent', 'install', ...board.boardArgs, '--run-joint', SIM_RUN_JOINT, ...args], board.env);

  it('a prefix that holds something else, and leaves it alone', async () => {
    await fsp.mkdir(board.prefix, { recursive: true });
    await fsp.writeFile(path.join(board.prefix, 'notes.txt'), 'mine');
    const r = await install('--service', 'none');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`axctl: ${board.sshd.url}: ${board.prefix} exists and holds something other than an axagent installation`);
    expect(await fsp.readdir(board.prefix)).toEqual(['notes.txt']);
    const u = await axctl(['agent', 'uninstall', ...board.boardArgs], board.env);
    expect(u.code).toBe(2);
    expect(await fsp.readdir(board.prefix)).toEqual(['notes.txt']);
    await fsp.rm(board.prefix, { recursive: true });
  });

  it('a --check-timeout that is no time, for status as for install, before connecting', async () => {
    // Port 1: nothing listens, so only a check made before connecting answers with exit 2.
    for (const command of ['install', 'status']) {
      const r = await axctl(['agent', command, '--board', 'ssh://nobody@127.0.0.1:1', '--check-timeout', '-5'], board.env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--check-timeout -5: expected a number of seconds from 0\.001 \(1 ms\)/);
    }
  });

  it('a run_joint that is not there', async () => {
    const r = await axctl(['agent', 'install', ...board.boardArgs, '--run-joint', '/nonexistent/run_joint'], board.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/run_joint is not an executable file \(give --run-joint PATH/);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
  });

  it('a node that is not there', async () => {
    const r = await install('--node', '/nonexistent/node');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/node does not run');
  });

  it('systemd where it does not run, and an init.d folder that does not exist', async () => {
    const systemd = await install('--service', 'systemd');
    expect(systemd.code).toBe(2);
    expect(systemd.stderr).toContain('--service systemd, but systemd is not running there');
    const initd = await axctl(['agent', 'install', ...board.boardArgs.map((a) => (a === board.initdDir ? path.join(board.dir, 'no/init.d') : a)), '--run-joint', SIM_RUN_JOINT, '--service', 'initd'], board.env);
    expect(initd.code).toBe(2);
    expect(initd.stderr).toContain(`${path.join(board.dir, 'no/init.d')} does not exist there`);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
  });

  it('a missing agent bundle or SSH key is named before connecting (not CONNECT_REFUSED)', async () => {
    // Port 1: nothing listens, so only a check made before connecting answers with exit 2.
    const nowhere = ['agent', 'install', '--board', 'ssh://nobody@127.0.0.1:1', '--run-joint', SIM_RUN_JOINT];
    const bundle = await axctl([...nowhere, '--agent-file', path.join(board.dir, 'nope.js')], board.env);
    expect(bundle.code, bundle.stderr).toBe(2);
    expect(bundle.stderr).toContain(`axctl: ${path.join(board.dir, 'nope.js')}: the agent bundle is missing (run \`npm run build\``);
    const key = await axctl([...nowhere, '--identity', path.join(board.dir, 'no-key')], board.env);
    expect(key.code, key.stderr).toBe(2);
    expect(key.stderr).toContain(`axctl: ${path.join(board.dir, 'no-key')}: no such file or folder`);
    expect(key.stderr).toContain('--identity');
    // An empty file runs under node and prints nothing: not an agent either.
    const empty = path.join(board.dir, 'empty.js');
    await fsp.writeFile(empty, '');
    const blank = await axctl([...nowhere, '--agent-file', empty], board.env);
    expect(blank.code, blank.stderr).toBe(2);
    expect(blank.stderr).toContain(`axctl: ${empty}: is not the agent: \`--version\` printed nothing`);
  });

  it('a store folder that cannot be made, naming --store; nothing is left behind and the next install works', async () => {
    const asFile = path.join(board.dir, 'store-is-a-file');
    await fsp.writeFile(asFile, 'not a folder');
    for (const store of ['/proc/axctl-no-store', asFile]) {
      const r = await install('--service', 'none', '--store', store);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`axctl: ${board.sshd.url}: --store ${store} cannot be used as the agent's store: `);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('axagent.js');
      await expect(fsp.access(board.prefix)).rejects.toThrow();
    }
    const store = path.join(board.dir, 'store/a/b');
    const ok = await install('--service', 'none', '--store', store, '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ store });
    expect((await axctl(['agent', 'uninstall', ...board.boardArgs, '--purge-store'], board.env)).code).toBe(0);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
  });

  it('a prefix holding only the empty folders of an install cut short is taken as ours, not refused', async () => {
    for (const d of ['bin', 'etc', 'lib', 'log', 'run']) await fsp.mkdir(path.join(board.prefix, d), { recursive: true });
    const r = await install('--service', 'none');
    expect(r.code, r.stderr).toBe(0);
    expect((await axctl(['agent', 'uninstall', ...board.boardArgs], board.env)).code).toBe(0);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
  });

  it('a missing agent bundle names the build', async () => {
    const r = await install('--agent-file', path.join(board.dir, 'nope.js'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the agent bundle is missing (run `npm run build`');
  });
});

describe('a service that does not answer', () => {
  let board: FakeBoard;
  let squatter: net.Server;
  beforeAll(async () => {
    board = await startFakeBoard();
    // Something else already holds the service's port and hangs up on everyone.
    squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(board.port, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => squatter?.close(resolve));
    await board?.stop();
  });

  it('fails with exit 5, the service log, and uninstall still cleans up', async () => {
    const r = await axctl(['agent', 'install', ...board.boardArgs, '--run-joint', SIM_RUN_JOINT, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1', '--check-timeout', '4'], board.env);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/axctl: the initd service did not answer through ws:\/\/127\.0\.0\.1:\d+ on ssh:\/\/.*\(ssh tunnel\)/);
    expect(r.stderr).toContain('; its log ends:\n    axagent: ');
    expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    expect(r.stderr).toMatch(/\(ssh tunnel\): the connection was reset/);
    const u = await axctl(['agent', 'uninstall', ...board.boardArgs], board.env);
    expect(u.code).toBe(0);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
  });
});

describe('a second installation at another prefix', () => {
  let board: FakeBoard;
  beforeAll(async () => {
    board = await startFakeBoard();
  });
  afterAll(async () => {
    await board?.stop();
  });

  it('is refused before it changes anything: the first one keeps its init.d script and its running service', async () => {
    const service = ['--run-joint', SIM_RUN_JOINT, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1'];
    const first = await axctl(['agent', 'install', ...board.boardArgs, ...service], board.env);
    expect(first.code).toBe(0);
    const script = path.join(board.initdDir, 'S99axagent');
    const before = await fsp.readFile(script, 'utf8');
    const other = path.join(board.dir, 'opt/other');
    const second = await axctl(['agent', 'install', ...board.boardArgs.map((a) => (a === board.prefix ? other : a)), ...service], board.env);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`axctl: ${board.sshd.url}: the initd service (${script}) already starts the agent installed at ${board.prefix} (remove that one first`);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(await fsp.readFile(script, 'utf8')).toBe(before);
    await expect(fsp.access(other)).rejects.toThrow();
    const status = await axctl(['agent', 'status', ...board.boardArgs], board.env);
    expect(status.stdout).toContain('initd running');
    expect(status.code).toBe(0);
    expect((await axctl(['agent', 'uninstall', ...board.boardArgs], board.env)).code).toBe(0);
  });

  it('uninstall leaves alone a service file that now starts another prefix (written over ours by an older axctl)', async () => {
    const service = ['--run-joint', SIM_RUN_JOINT, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1'];
    expect((await axctl(['agent', 'install', ...board.boardArgs, ...service], board.env)).code).toBe(0);
    const script = path.join(board.initdDir, 'S99axagent');
    const other = path.join(board.dir, 'opt/other');
    const taken = (await fsp.readFile(script, 'utf8')).split(board.prefix).join(other);
    await fsp.writeFile(script, taken);
    const u = await axctl(['agent', 'uninstall', ...board.boardArgs], board.env);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain(`service    initd left alone: it starts the agent installed at ${other}`);
    expect(await fsp.readFile(script, 'utf8')).toBe(taken);
    await expect(fsp.access(board.prefix)).rejects.toThrow();
    await fsp.rm(script);
  });
});


describe('a service file that axctl did not write', () => {
  let board: FakeBoard;
  beforeAll(async () => {
    board = await startFakeBoard();
  });
  afterAll(async () => {
    await board?.stop();
  });

  it('is refused, naming it, and left as it was; --replace-service-file replaces it', async () => {
    const script = path.join(board.initdDir, 'S99axagent');
    const mine = '#!/bin/sh\n# the board vendor starts its own daemon here\nexec /usr/bin/vendor-daemon\n';
    await fsp.writeFile(script, mine, { mode: 0o755 });
    const service = ['--run-joint', SIM_RUN_JOINT, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1'];
    const refused = await axctl(['agent', 'install', ...board.boardArgs, ...service], board.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `axctl: ${board.sshd.url}: ${script} exists and was not written by axctl agent install (look at it first; to replace it, run again with --replace-service-file, or keep it and install with --service none)`,
    );
    expect(await fsp.readFile(script, 'utf8')).toBe(mine);
    await expect(fsp.access(board.prefix)).rejects.toThrow();

    const replaced = await axctl(['agent', 'install', ...board.boardArgs, ...service, '--replace-service-file', '--json'], board.env);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ service: 'initd', serviceNote: `replaced ${script}, which axctl did not write` });
    expect(await fsp.readFile(script, 'utf8')).toContain(`PREFIX='${board.prefix}'`);
    expect((await axctl(['agent', 'uninstall', ...board.boardArgs], board.env)).code).toBe(0);
  });
});
