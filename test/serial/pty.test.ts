/**
 * End to end over real ptys: host ⇄ socat ⇄ fault-injecting relay ⇄ socat ⇄ board, the host
 * opening serial://... with serialport and the board opening the port as axagent --serial
 * does. Needs socat (apt-get install socat).
 */
import { execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import type { SerialTransport } from '../../shared/serial/serial-transport';
import type { Transport } from '../../shared/transport/transport';
import { sttyCommand } from '../../shared/serial/port-open';
import { HAVE_SOCAT, receiveBytes, sendAll, sha256, startLine, stopLines } from './line';

afterEach(stopLines);

const MB = 1024 * 1024;

describe.runIf(HAVE_SOCAT)('serial transport over ptys and the relay', () => {
  it('carries 3 MiB each way intact through dropped and corrupted frames, flipped bits and a 4 s cut', async () => {
    const line = await startLine({ baud: 3_000_000, corruptFrames: 0.01, dropFrames: 0.005, flipBytes: 0.00001, seed: 11 });
    const boardOpen = line.openBoard();
    const host = (await line.openHost()) as SerialTransport;
    const board = await boardOpen;
    const up = randomBytes(3 * MB);
    const down = randomBytes(3 * MB);
    const atBoard = receiveBytes(board, up.length);
    const atHost = receiveBytes(host, down.length);
    const lineChanges: boolean[] = [];
    host.onLineChange((state) => lineChanges.push(state));
    const cut = setTimeout(() => line.relay.cut(4000), 2000);
    await Promise.all([sendAll(host, up), sendAll(board, down)]);
    const [gotUp, gotDown] = await Promise.all([atBoard, atHost]);
    clearTimeout(cut);
    expect(sha256(gotUp)).toBe(sha256(up));
    expect(sha256(gotDown)).toBe(sha256(down));
    expect(line.relay.stats.ab.framesCorrupted + line.relay.stats.ab.framesDropped).toBeGreaterThan(10);
    expect(line.relay.stats.ab.bytesLost).toBeGreaterThan(0);
    expect(host.linkStats.framesResent).toBeGreaterThan(10);
    expect(host.state).toBe('open');
    expect(lineChanges).toEqual([false, true]);
    const closed = new Promise((r) => board.once('close', r));
    await host.close();
    expect(await closed).toEqual({ reason: 'remote' });
  });

  it('rides out the host adapter being unplugged and plugged back in', async () => {
    const line = await startLine({ baud: 3_000_000 });
    const boardOpen = line.openBoard();
    const host = (await line.openHost()) as SerialTransport;
    const board = await boardOpen;
    const lineChanges: boolean[] = [];
    host.onLineChange((up) => lineChanges.push(up));
    const up = randomBytes(2 * MB);
    const atBoard = receiveBytes(board, up.length);
    const sending = sendAll(host, up);
    await new Promise((r) => setTimeout(r, 1500));
    await line.replugHost(1500);
    await sending;
    expect(sha256(await atBoard)).toBe(sha256(up));
    expect(host.state).toBe('open');
    expect(host.linkStats.reopens).toBe(1);
    expect(lineChanges).toEqual([false, true]);
  });

  it('opens the board end with stty and tty streams when serialport is not used', async () => {
    const line = await startLine({ baud: 921_600 });
    execSync(sttyCommand(line.board, 921_600)); // as whoever starts the agent must (it checks)
    const boardOpen = line.openBoard({ driver: 'stty' });
    const host = await line.openHost();
    const board = await boardOpen;
    const up = randomBytes(150_000);
    const down = randomBytes(150_000);
    const atBoard = receiveBytes(board, up.length);
    const atHost = receiveBytes(host, down.length);
    await Promise.all([sendAll(host, up), sendAll(board, down)]);
    expect(sha256(await atBoard)).toBe(sha256(up));
    expect(sha256(await atHost)).toBe(sha256(down));
  });

  it('serves one host after another on the same board port', async () => {
    const line = await startLine({ baud: 3_000_000 });
    for (let round = 0; round < 2; round++) {
      const boardOpen = line.openBoard();
      const host = await line.openHost();
      const board = await boardOpen;
      const got = receiveBytes(board, 3);
      await host.send(new Uint8Array([round, 1, 2]));
      expect([...(await got)]).toEqual([round, 1, 2]);
      const boardClosed = new Promise((r) => board.once('close', r));
      await host.close();
      await boardClosed;
      await board.released;
      await (host as SerialTransport).released;
    }
  });

  it('serves the next host at once when the previous one was killed mid-session', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'axctl-serial-crash-'));
    const script = path.join(dir, 'crash-host.js');
    await build({ entryPoints: [path.join(__dirname, '../fixtures/serial/crash-host.ts')], outfile: script, bundle: true, platform: 'node', format: 'cjs', external: ['serialport', '@serialport/*'], logLevel: 'silent' });
    const line = await startLine({ baud: 3_000_000 });
    const first = line.openBoard();
    const crashing = spawn(process.execPath, [script, line.host, String(line.baud)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_PATH: path.join(__dirname, '../../node_modules') },
    });
    const exited = new Promise((r) => crashing.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        let said = '';
        crashing.stderr.on('data', (d: Buffer) => (said += d.toString()).includes('connected') && resolve());
        void exited.then(() => reject(new Error(`crash-host exited: ${said}`)));
      });
      const firstSession = await first;
      const firstClosed = new Promise<{ reason: string; error?: { code: string } }>((r) => firstSession.once('close', r));
      crashing.kill('SIGKILL');
      await exited;
      const next = line.openBoard();
      const host = await line.openHost();
      expect(await firstClosed).toMatchObject({ reason: 'remote', error: { code: 'SERIAL_PEER_RESTARTED' } });
      const board = await next;
      const got = receiveBytes(board, 5);
      await host.send(new Uint8Array([1, 2, 3, 4, 5]));
      expect([...(await got)]).toEqual([1, 2, 3, 4, 5]);
    } finally {
      crashing.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with SERIAL_NO_PEER when no agent answers', async () => {
    const line = await startLine({ baud: 921_600 });
    await expect(line.openHost('', { connectTimeoutMs: 800 })).rejects.toMatchObject({
      code: 'SERIAL_NO_PEER',
      exitCode: 5,
      hint: expect.stringContaining('axagent --serial'),
    });
  });

  it('ends the board session when the host aborts, with SERIAL_PEER_RESET', async () => {
    const line = await startLine({ baud: 921_600 });
    const boardOpen = line.openBoard();
    const host = await line.openHost();
    const board = await boardOpen;
    const closed = new Promise<{ reason: string; error?: { code: string } }>((r) => board.once('close', r));
    host.destroy();
    expect(await closed).toMatchObject({ reason: 'remote', error: { code: 'SERIAL_PEER_RESET' } });
  });

  it('gives up with idle-timeout when the cable stays out longer than the idle timeout', async () => {
    const line = await startLine({ baud: 921_600 });
    const boardOpen = line.openBoard({ idleTimeoutMs: 1500 });
    const host = await line.openHost('', { idleTimeoutMs: 1500 });
    const board = await boardOpen;
    const transports: Transport[] = [host, board];
    const closes = Promise.all(transports.map((t) => new Promise<{ reason: string }>((r) => t.once('close', r))));
    line.relay.freeze();
    expect((await closes).map((c) => c.reason)).toEqual(['idle-timeout', 'idle-timeout']);
  });
});
