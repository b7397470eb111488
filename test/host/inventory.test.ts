import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDirs } from '../temp-dirs';
import { loadInventory, lookupBoard, readInventoryFile } from '../../host/boards/inventory';
import { AxError } from '../../shared/errors';

const dirs = tempDirs('axctl-inv-');
afterEach(dirs.cleanup);
const tmp = dirs.make;

describe('board inventory', () => {
  it('reads entries with every key, resolving paths against the file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'axctl.yaml');
    writeFileSync(
      file,
      ['boards:', '  evb1:', '    url: ssh://root@10.0.0.5', '    identity: keys/evb1', '    token-file: evb1.token',
        '    via: ssh://me@gw', '    run-joint: /opt/bin/run_joint', '    agentless: true', '  desk: ws://127.0.0.1:7070'].join('\n'),
    );
    const [evb1, desk] = await readInventoryFile(file);
    expect(evb1).toMatchObject({ name: 'evb1', url: 'ssh://root@10.0.0.5', identity: path.join(dir, 'keys/evb1'),
      tokenFile: path.join(dir, 'evb1.token'), via: ['ssh://me@gw'], runJoint: '/opt/bin/run_joint', agentless: true });
    expect(desk).toMatchObject({ name: 'desk', url: 'ws://127.0.0.1:7070', via: [], agentless: false });
  });

  it('lets the project file win over the user file and finds it from a subfolder', async () => {
    const user = tmp();
    const project = tmp();
    writeFileSync(path.join(user, 'axctl.yaml'), 'boards:\n  a: ws://user:1\n  b: ws://user:2\n');
    writeFileSync(path.join(project, 'axctl.yaml'), 'boards:\n  a: ws://project:1\n');
    const sub = path.join(project, 'deep', 'er');
    mkdirSync(sub, { recursive: true });
    const boards = await loadInventory({ files: [path.join(user, 'axctl.yaml'), path.join(project, 'axctl.yaml')] });
    expect(boards.get('a')?.url).toBe('ws://project:1');
    expect(boards.get('b')?.url).toBe('ws://user:2');
    const prev = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = path.join(user, 'none');
    try {
      expect((await lookupBoard('a', { cwd: sub }))?.url).toBe('ws://project:1');
    } finally {
      if (prev === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = prev;
    }
  });

  it('passes URLs through and names known boards when one is unknown', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'axctl.yaml'), 'boards:\n  evb1: ws://x:1\n');
    expect(await lookupBoard('ws://h:1', { files: [] })).toBeUndefined();
    await expect(lookupBoard('evb2', { files: [path.join(dir, 'axctl.yaml')] })).rejects.toMatchObject({
      code: 'BOARD_UNKNOWN',
      hint: expect.stringContaining('evb1'),
    });
  });

  it('suggests the URL a HOST:PORT or a bare address probably meant', async () => {
    const files = { files: [] };
    await expect(lookupBoard('192.168.1.20:7007', files)).rejects.toMatchObject({ code: 'BOARD_UNKNOWN', hint: expect.stringMatching(/^did you mean ws:\/\/192\.168\.1\.20:7007\?/) });
    await expect(lookupBoard('evb-1.lab:7007', files)).rejects.toMatchObject({ hint: expect.stringMatching(/^did you mean ws:\/\/evb-1\.lab:7007\?/) });
    await expect(lookupBoard('10.0.0.7', files)).rejects.toMatchObject({ hint: expect.stringMatching(/^did you mean ssh:\/\/root@10\.0\.0\.7\?/) });
    await expect(lookupBoard('evb7', files)).rejects.toMatchObject({ hint: expect.not.stringMatching(/did you mean/) });
  });

  it.each([
    ['boards:\n  a:\n    url: ws://x:1\n    colour: red\n', 'INVENTORY_UNKNOWN_KEY'],
    ['boards:\n  a:\n    identity: k\n', 'INVENTORY_NO_URL'],
    ['boards:\n  a:\n    url: ws://x:1\n    agentless: yes please\n', 'INVENTORY_BAD_VALUE'],
    ['boards: [1, 2]\n', 'INVENTORY_SHAPE'],
    ['boards:\n  a:\n    url: ws://x:1\n    token: 12345678901234567890123\n', 'INVENTORY_BAD_VALUE'],
    ['boards:\n  a: [unclosed\n', 'INVENTORY_SYNTAX'],
  ])('refuses a bad file with a stable code (%#)', async (text, code) => {
    const file = path.join(tmp(), 'axctl.yaml');
    writeFileSync(file, text);
    const err = await readInventoryFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxError);
    expect((err as AxError).code).toBe(code);
    expect((err as AxError).message.startsWith(file)).toBe(true);
    expect((err as AxError).hint, 'every inventory error says what to do').toBeTruthy();
  });

  it.each([
    ['url: 12345', 'board "a": "url" must be a URL, not the number 12345'],
    ['url: foo', `board "a": "url" must be a URL, not 'foo'`],
    ["url: 'ws://[::1'", `board "a": "url" must be a URL, not 'ws://[::1'`],
    ['url: [ws://x:1]', 'board "a": "url" must be a URL, not a list'],
  ])('refuses a url that is no URL (%s) as INVENTORY_BAD_VALUE, not a failed ping', async (line, problem) => {
    const file = path.join(tmp(), 'axctl.yaml');
    writeFileSync(file, `boards:\n  a:\n    ${line}\n`);
    await expect(readInventoryFile(file)).rejects.toMatchObject({ code: 'INVENTORY_BAD_VALUE', exitCode: 2, message: `${file}: ${problem}`, hint: expect.stringContaining('ws://') });
  });

  it.each([
    ['token-file: ""', '"token-file" must be a path, not empty', 'token-file: ~/'],
    ['identity: ""', '"identity" must be a path, not empty', 'identity: ~/.ssh/'],
    ['agent-prefix: 7', '"agent-prefix" must be an absolute path on the board, not the number 7', '/opt/axagent'],
    ['agent-prefix: opt/axagent', `"agent-prefix" must be an absolute path on the board, not 'opt/axagent'`, '/opt/axagent'],
    ['via: [ws://127.0.0.1:45001]', '"via": the jump host ws://127.0.0.1:45001 is not an ssh:// URL', 'ssh://me@gw1'],
    ['via: [ssh://me@gw1, "ssh://gw2:0"]', '"via": the jump host ssh://gw2:0 has port 0, not 1 to 65535', 'ssh://me@gw1'],
    ['run-joint: ""', '"run-joint" must be a string, not empty', 'text'],
  ])('refuses %s when the file is read, naming the file and the board', async (line, problem, hint) => {
    const file = path.join(tmp(), 'axctl.yaml');
    writeFileSync(file, `boards:\n  b1:\n    url: ssh://root@127.0.0.1:45002\n    ${line}\n`);
    await expect(readInventoryFile(file)).rejects.toMatchObject({ code: 'INVENTORY_BAD_VALUE', exitCode: 2, message: `${file}: board "b1": ${problem}`, hint: expect.stringContaining(hint) });
  });

  it('refuses a top-level key other than boards (a board: typo), and allows x- keys for anchors', async () => {
    const file = path.join(tmp(), 'axctl.yaml');
    writeFileSync(file, 'boards:\n  b1: ws://127.0.0.1:1\nboard:\n  b2: ws://127.0.0.1:2\n');
    await expect(readInventoryFile(file)).rejects.toMatchObject({ code: 'INVENTORY_UNKNOWN_KEY', exitCode: 2, message: `${file}: unknown top-level key "board"`, hint: expect.stringContaining('boards:') });
    writeFileSync(file, 'x-lab: &lab\n  agentless: true\nboards:\n  b1: ws://127.0.0.1:1\n');
    expect((await readInventoryFile(file)).map((b) => b.name)).toEqual(['b1']);
  });

  it('reads YAML merge keys, so boards can share settings through an anchor', async () => {
    const dir = tmp();
    const file = path.join(dir, 'axctl.yaml');
    writeFileSync(file, ['x-lab: &lab', '  identity: keys/lab', '  via: ssh://me@gw', 'boards:', '  evb1:', '    <<: *lab', '    url: ssh://root@10.0.0.5',
      '  evb2:', '    <<: *lab', '    url: ssh://root@10.0.0.6', '    via: ssh://me@gw2', ''].join('\n'));
    const [evb1, evb2] = await readInventoryFile(file);
    expect(evb1).toMatchObject({ url: 'ssh://root@10.0.0.5', identity: path.join(dir, 'keys/lab'), via: ['ssh://me@gw'] });
    expect(evb2).toMatchObject({ url: 'ssh://root@10.0.0.6', identity: path.join(dir, 'keys/lab'), via: ['ssh://me@gw2'] });
  });

  it.each([
    ['""', '"" is empty: --board could never select it'],
    ['"ws://127.0.0.1:1"', '"ws://127.0.0.1:1" looks like a URL: --board would take it for one and never select the board'],
    ['"lab://x"', '"lab://x" looks like a URL: --board would take it for one and never select the board'],
    ['" evb1"', '" evb1" starts or ends with white space, which --board trims: it could never select the board'],
    ['"evb\\t1"', '"evb\\t1" holds a control character'],
  ])('refuses the board name %s, which --board could not select or list on one line', async (name, problem) => {
    const file = path.join(tmp(), 'axctl.yaml');
    writeFileSync(file, `boards:\n  b1: ws://127.0.0.1:1\n  ${name}: ws://127.0.0.1:2\n`);
    await expect(readInventoryFile(file)).rejects.toMatchObject({
      code: 'INVENTORY_BAD_NAME',
      exitCode: 2,
      message: `${file}: the board name ${problem}`,
      hint: expect.stringContaining('evb1'),
    });
  });

  it('gives hints for a token-file that is not a path, a board without url, and YAML syntax errors', async () => {
    const file = path.join(tmp(), 'axctl.yaml');
    writeFileSync(file, 'boards:\n  a:\n    url: ws://x:1\n    token-file: 5\n');
    await expect(readInventoryFile(file)).rejects.toMatchObject({ code: 'INVENTORY_BAD_VALUE', message: `${file}: board "a": "token-file" must be a path, not the number 5`, hint: expect.stringContaining('token-file: ~/') });
    writeFileSync(file, 'boards:\n  a:\n    via: ssh://gw\n');
    await expect(readInventoryFile(file)).rejects.toMatchObject({ code: 'INVENTORY_NO_URL', hint: expect.stringContaining('url: ws://') });
    writeFileSync(file, 'boards:\n  a:\n    url: ws://x:1\n  bad: x: y\n');
    const err = (await readInventoryFile(file).catch((e: unknown) => e)) as AxError;
    expect(err).toMatchObject({ code: 'INVENTORY_SYNTAX', hint: expect.stringContaining('YAML') });
    expect(err.message).toMatch(/at line 4, column \d+$/);
  });
});
