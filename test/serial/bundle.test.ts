/**
 * The bundled agent on a board without node_modules: serialport is not there, so the port is
 * opened with stty and Node's tty streams. The agent side is its own process, bundled from
 * test/fixtures/serial/echo-agent.ts with the agent's esbuild settings.
 */
import { execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { sttyCommand } from '../../shared/serial/port-open';
import { HAVE_SOCAT, receiveBytes, sendAll, sha256, startLine, stopLines } from './line';

const cleanups: (() => void)[] = [];

/** A temp folder from which `require('serialport')` finds nothing, as on a board. */
function folderWithoutNodeModules(): string {
  for (const base of ['/var/tmp', os.homedir(), os.tmpdir()]) {
    const dir = mkdtempSync(path.join(base, 'axctl-serial-bundle-'));
    try {
      require.resolve('serialport', { paths: [dir] });
    } catch {
      return dir;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error('every temp folder sees a node_modules with serialport in a parent folder');
}
afterEach(async () => {
  cleanups.splice(0).forEach((c) => c());
  await stopLines();
});

describe.runIf(HAVE_SOCAT)('bundled agent without serialport', () => {
  it('opens the port with stty, and a host talks to it over serial://', async () => {
    const dir = folderWithoutNodeModules();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const bundle = path.join(dir, 'agent.js');
    await build({
      entryPoints: [path.join(__dirname, '../fixtures/serial/echo-agent.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      external: ['bufferutil', 'utf-8-validate', '@serialport/bindings-cpp', 'serialport'],
      logLevel: 'silent',
    });
    const line = await startLine({ baud: 921_600, corruptFrames: 0.01, seed: 3 });
    execSync(sttyCommand(line.board, 921_600)); // as whoever starts the agent must (it checks)
    const agent = spawn(process.execPath, [bundle, line.board, '921600'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    cleanups.push(() => agent.kill());
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    const said = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (stderr.includes(text) ? resolve() : undefined);
        agent.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          check();
        });
        void exited.then(() => reject(new Error(`agent exited: ${stderr}`)));
        check();
      });
    await said('driver=');
    expect(stderr).toContain('driver=stty');
    const host = await line.openHost();
    await said('connected');
    const data = randomBytes(200_000);
    const echoed = receiveBytes(host, data.length);
    await sendAll(host, data, 20_000);
    expect(sha256(await echoed)).toBe(sha256(data));
    await host.close();
    expect(await exited).toBe(0);
    expect(stderr).toContain('closed remote');
  });
});
