/** From --board to a session: inventory names, the token's sources, the opener registry. */
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openBoard, registerBoardOpener, resolveBoard, resolveToken, type BoardTarget } from '../../host/board/open-board';
import type { BoardSession } from '../../host/board/session';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-board-'));
  dirs.push(d);
  return d;
}

const TOKENS = { flag: 'flag-token-0123456789', env: 'env-token-0123456789', file: 'inventory-file-token-0123', inline: 'inventory-inline-token-01' };

async function inventory(dir: string): Promise<string> {
  await fsp.writeFile(path.join(dir, 'inv.token'), `${TOKENS.file}\n`);
  const file = path.join(dir, 'axctl.yaml');
  await fsp.writeFile(
    file,
    [
      'boards:',
      '  evb1:',
      '    url: ws://10.0.0.2:7007',
      '    token-file: inv.token',
      '  evb2:',
      '    url: ws://10.0.0.3:7007',
      `    token: ${TOKENS.inline}`,
      '  plain-ssh:',
      '    url: ssh://root@10.0.0.4',
      '    agentless: true',
      '  faked:',
      '    url: fake://board-1',
      '',
    ].join('\n'),
  );
  return file;
}

const text = (secret: Uint8Array) => Buffer.from(secret).toString();

describe('resolveBoard and resolveToken', () => {
  it('a URL is used as is; a name goes through the inventory', async () => {
    const dir = await tmp();
    const inv = await inventory(dir);
    expect(await resolveBoard({ board: 'ws://h:1' })).toEqual({ given: 'ws://h:1', url: 'ws://h:1', mode: 'agent' });
    const evb1 = await resolveBoard({ board: 'evb1', inventoryFiles: [inv] });
    expect(evb1).toMatchObject({ given: 'evb1', url: 'ws://10.0.0.2:7007', mode: 'agent' });
    expect((await resolveBoard({ board: 'plain-ssh', inventoryFiles: [inv] })).mode).toBe('agentless');
    await expect(resolveBoard({ board: 'nope', inventoryFiles: [inv] })).rejects.toMatchObject({ code: 'BOARD_UNKNOWN', exitCode: 2 });
  });

  it('the token: --token-file, then AXCTL_TOKEN, then the inventory\'s token-file, then its token', async () => {
    const dir = await tmp();
    const inv = await inventory(dir);
    const flagFile = path.join(dir, 'flag.token');
    await fsp.writeFile(flagFile, TOKENS.flag);
    const evb1 = await resolveBoard({ board: 'evb1', inventoryFiles: [inv] });
    const evb2 = await resolveBoard({ board: 'evb2', inventoryFiles: [inv] });
    expect(text(await resolveToken(evb1, { tokenFile: flagFile, env: { AXCTL_TOKEN: TOKENS.env } }))).toBe(TOKENS.flag);
    expect(text(await resolveToken(evb1, { env: { AXCTL_TOKEN: TOKENS.env } }))).toBe(TOKENS.env);
    expect(text(await resolveToken(evb1, { env: {} }))).toBe(TOKENS.file);
    expect(text(await resolveToken(evb2, { env: {} }))).toBe(TOKENS.inline);
    const bare: BoardTarget = { given: 'ws://h:1', url: 'ws://h:1', mode: 'agent' };
    await expect(resolveToken(bare, { env: {} })).rejects.toMatchObject({ code: 'TOKEN_MISSING', exitCode: 2 });
    await expect(resolveToken(bare, { env: { AXCTL_TOKEN: 'short' } })).rejects.toMatchObject({ code: 'TOKEN_TOO_SHORT' });
  });
});

describe('values the inventory supplied', () => {
  it('a token-file that is missing or empty is said to come from the inventory and its board', async () => {
    const dir = await tmp();
    const inv = path.join(dir, 'axctl.yaml');
    await fsp.writeFile(inv, 'boards:\n  b1:\n    url: ws://10.0.0.2:7007\n    token-file: missing.token\n');
    const b1 = await resolveBoard({ board: 'b1', inventoryFiles: [inv] });
    const missing = path.join(dir, 'missing.token');
    await expect(resolveToken(b1, { env: {} })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      exitCode: 2,
      message: `${inv}: board "b1": "token-file": ${missing}: no such file or folder`,
    });
    await fsp.writeFile(missing, '\n');
    await expect(resolveToken(b1, { env: {} })).rejects.toMatchObject({ code: 'TOKEN_EMPTY', message: `${inv}: board "b1": "token-file": ${missing}: the token file is empty` });
  });
});

describe('the opener registry', () => {
  function fakeSession(url: string): BoardSession {
    return {
      identity: { url, mode: 'agentless' },
      has: async (blobs) => blobs.map(() => false),
      upload: async () => ({ sentBytes: 0 }),
      run: async () => {
        throw new Error('not used here');
      },
      download: async () => undefined,
      close: async () => undefined,
    };
  }

  it('agentless boards need an agentless opener; with one registered it is used', async () => {
    const dir = await tmp();
    const inv = await inventory(dir);
    await expect(openBoard({ board: 'plain-ssh', inventoryFiles: [inv] })).rejects.toMatchObject({ code: 'BOARD_MODE_UNSUPPORTED', exitCode: 2 });
    const seen: BoardTarget[] = [];
    registerBoardOpener('agentless', async (target) => {
      seen.push(target);
      return fakeSession(target.url);
    });
    const session = await openBoard({ board: 'plain-ssh', inventoryFiles: [inv] });
    expect(session.identity.url).toBe('ssh://root@10.0.0.4');
    expect(seen[0]!.entry?.name).toBe('plain-ssh');
  });

  it('an opener registered for a URL scheme replaces the default transport + agent', async () => {
    const dir = await tmp();
    const inv = await inventory(dir);
    registerBoardOpener('fake', async (target) => fakeSession(`opened ${target.url}`));
    expect((await openBoard({ board: 'faked', inventoryFiles: [inv] })).identity.url).toBe('opened fake://board-1');
    expect((await openBoard({ board: 'fake://direct' })).identity.url).toBe('opened fake://direct');
  });

  it('a token that cannot be read is the error at once, while connecting: the half-open connection is dropped, not waited for', async () => {
    // A board that takes the TCP connection and never answers the WebSocket upgrade.
    const held: net.Socket[] = [];
    const closed: net.Socket[] = [];
    const server = net.createServer((socket) => {
      held.push(socket);
      socket.on('close', () => closed.push(socket)).on('error', () => undefined).resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const dir = await tmp();
      const err = await openBoard({ board: `ws://127.0.0.1:${port}`, tokenFile: path.join(dir, 'missing.token'), connectTimeoutMs: 600_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FILE_NOT_FOUND', exitCode: 2 });
      // The connection made meanwhile is closed, not left to the 10-minute connect timeout.
      await expect.poll(() => held.length > 0 && closed.length === held.length, { timeout: 5000 }).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 15_000);

  it('the default opener refuses an unknown scheme with the known ones', async () => {
    await expect(openBoard({ board: 'gopher://h:1', env: { AXCTL_TOKEN: TOKENS.env } })).rejects.toMatchObject({ code: 'UNKNOWN_URL_SCHEME', exitCode: 2 });
  });
});

describe('a missing token, and the host\'s copies for the same host under another SSH port', () => {
  const TOKEN = 'a'.repeat(64);
  const BOARD: BoardTarget = { given: 'ws://evb.lan:8700', url: 'ws://evb.lan:8700', mode: 'agent' };

  /** A config folder (as XDG_CONFIG_HOME) holding the given host token files. */
  async function configWith(...names: string[]): Promise<string> {
    const config = await tmp();
    await fsp.mkdir(path.join(config, 'axctl', 'tokens'), { recursive: true });
    for (const name of names) await fsp.writeFile(path.join(config, 'axctl', 'tokens', name), `${TOKEN}\n`);
    return config;
  }

  async function hintOf(target: BoardTarget, env: NodeJS.ProcessEnv): Promise<string> {
    const err = await resolveToken(target, { env }).then(
      () => undefined,
      (e: { code?: string; hint?: string }) => e,
    );
    expect(err).toMatchObject({ code: 'TOKEN_MISSING', exitCode: 2 });
    return err!.hint ?? '';
  }

  it('names the one copy install made over SSH port 2222, as a path the user can type, and does not use it', async () => {
    const config = await configWith('evb.lan_2222.token', 'other.lan_2222.token');
    const hint = await hintOf(BOARD, { XDG_CONFIG_HOME: config, HOME: path.dirname(config) });
    const typed = `~/${path.basename(config)}/axctl/tokens/evb.lan_2222.token`;
    expect(hint).toContain('SSH port 2222');
    expect(hint).toContain(`--token-file ${typed}`);
    expect(hint).not.toContain('other.lan');
    expect(hint).not.toContain('\n');
  });

  it('over ssh:// on a non-standard port, the port-22 copy (HOST.token) is named too; several are listed, at most 3', async () => {
    const config = await configWith('evb.lan.token', 'evb.lan_2201.token', 'evb.lan_2202.token', 'evb.lan_2203.token');
    const target: BoardTarget = { given: 'ssh://root@evb.lan:2222', url: 'ssh://root@evb.lan:2222', mode: 'agent' };
    const hint = await hintOf(target, { XDG_CONFIG_HOME: config });
    const named = hint.match(/evb\.lan(_\d+)?\.token/g) ?? [];
    expect(named).toHaveLength(3);
    expect(named).toContain('evb.lan.token');
    expect(hint).toContain('--token-file');
    expect(hint).toContain('1 more');
  });

  it('without such a copy the hint is the usual one', async () => {
    const config = await configWith('other.lan_2222.token');
    const hint = await hintOf(BOARD, { XDG_CONFIG_HOME: config });
    expect(hint).toBe('pass --token-file FILE (the file the agent was started with), set AXCTL_TOKEN, or add token-file to the board in axctl.yaml');
    const empty = await tmp();
    expect(await hintOf(BOARD, { XDG_CONFIG_HOME: empty })).toBe(hint);
  });
});
