/**
 * What the built axctl loads to start: yargs loads every command module to list the commands,
 * so a command module that imports SSH or the diagnosis at module level makes every command pay
 * for it (SSH, yaml, the protocol and WebSocket, the diagnosis). Checked in a real process: the modules in require.cache when `axctl --version` and
 * `axctl compare` (a local command) exit.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuild } from '../built';

let dir: string;
let hook: string;
beforeAll(async () => {
  requireBuild();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-start-up-'));
  hook = path.join(dir, 'loaded.js');
  // Preloaded into the CLI's process: at exit, the npm packages and axctl modules it loaded.
  await fsp.writeFile(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'loaded.json'))}, JSON.stringify(Object.keys(require.cache))));\n`);
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

async function loadedBy(args: string[]): Promise<string[]> {
  await promisify(execFile)(process.execPath, ['--require', hook, CLI, ...args], { cwd: dir }).catch(() => undefined);
  return JSON.parse(await fsp.readFile(path.join(dir, 'loaded.json'), 'utf8')) as string[];
}

describe('axctl start-up', () => {
  it.each([[['--version']], [['compare', 'a.npy', 'b.npy']]])('%j loads no SSH, yaml, protocol, WebSocket or diagnosis code', async (args) => {
    const loaded = await loadedBy(args);
    expect(loaded.some((m) => m.includes(`${path.sep}yargs${path.sep}`))).toBe(true); // the hook saw the CLI's modules
    for (const heavy of ['/node_modules/ssh2/', '/node_modules/yaml/', '/node_modules/protobufjs/', '/node_modules/ws/', '/node_modules/cli-progress/', '/dist/host/ssh/connection', '/dist/host/ssh/register', '/dist/host/diagnose/', '/dist/host/agent-install/service']) {
      expect(loaded.filter((m) => m.includes(heavy)), heavy).toEqual([]);
    }
  });
});
