/**
 * axctl verify over a serial line, end to end: the agent as its own process serving
 * `--serial` on one end of a pty pair, the CLI on the other through `serial://`, with the
 * fault-injecting relay throttled to 921600 baud in between, corrupting frames.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSerialTestLine } from '../../scripts/serial-relay';
import { AGENT_MAIN, Cleanup, makeFixture, parseJson, requireBuild, runCli, SIM_RUN_JOINT, tempDir } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function startSerialAgent(dir: string, device: string, fault = ''): Promise<{ tokenFile: string; stderr: () => string }> {
  requireBuild();
  const tokenFile = path.join(dir, 'token');
  await fsp.writeFile(tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [AGENT_MAIN, '--serial', device, '--baud', '921600', '--store', path.join(dir, 'store'), '--run-joint', SIM_RUN_JOINT, '--token-file', tokenFile],
    { cwd: dir, env: { ...process.env, AXSIM_FAULT: fault }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the serial agent did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', () => {
      if (stderr.includes('serving')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`the serial agent exited: ${stderr}`)));
  });
  return { tokenFile, stderr: () => stderr };
}

describe('verify over a serial line', () => {
  it('gives the same verdicts as over the network, through a line that corrupts frames', async () => {
    const dir = await tempDir(cleanup, 'axctl-e2e-serial-');
    await fsp.mkdir(path.join(dir, 'line'));
    const line = await startSerialTestLine(path.join(dir, 'line'), { baud: 921_600, corruptFrames: 0.01, seed: 7 });
    cleanup.add(() => line.close());
    const agent = await startSerialAgent(dir, line.board);
    const fx = await makeFixture(path.join(dir, 'fx'), 'classifier');
    const board = `serial://${line.host}?baud=921600`;
    const res = await runCli(['verify', '--board', board, '--model', fx.model, '--gt', fx.gt, '--token-file', agent.tokenFile, '--json'], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = parseJson<{ verdict: string; outputs: { pass: boolean }[] }>(res);
    expect(report.verdict).toBe('match');
    expect(report.outputs.length).toBeGreaterThan(0);
    expect(line.relay.stats.ab.framesCorrupted + line.relay.stats.ba.framesCorrupted).toBeGreaterThan(0);
  }, 180_000);

  it('reports a faulty board as a mismatch (exit 1) over serial too', async () => {
    const dir = await tempDir(cleanup, 'axctl-e2e-serial-');
    await fsp.mkdir(path.join(dir, 'line'));
    const line = await startSerialTestLine(path.join(dir, 'line'), { baud: 921_600 });
    cleanup.add(() => line.close());
    const agent = await startSerialAgent(dir, line.board, 'perturb');
    const fx = await makeFixture(path.join(dir, 'fx'), 'classifier');
    const res = await runCli(['verify', '--board', `serial://${line.host}?baud=921600`, '--model', fx.model, '--gt', fx.gt, '--token-file', agent.tokenFile, '--json'], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    expect(res.code).toBe(1);
    expect(parseJson<{ verdict: string }>(res).verdict).toBe('mismatch');
  }, 180_000);
});

describe('a serial line nobody answers on', () => {
  it('boards and verify both say SERIAL_NO_PEER (exit 5 for verify), not a bare timeout', async () => {
    const dir = await tempDir(cleanup, 'axctl-e2e-serial-');
    await fsp.mkdir(path.join(dir, 'line'));
    const line = await startSerialTestLine(path.join(dir, 'line'), { baud: 921_600 });
    cleanup.add(() => line.close());
    const tokenFile = path.join(dir, 'token');
    await fsp.writeFile(tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    const url = `serial://${line.host}?baud=921600`;
    await fsp.writeFile(path.join(dir, 'axctl.yaml'), `boards:\n  evb-serial:\n    url: ${url}\n    token-file: ${tokenFile}\n`);
    const env = { XDG_CONFIG_HOME: path.join(dir, 'config') };

    const boards = await runCli(['boards', '--json', '--timeout', '2'], { cwd: dir, env });
    expect(boards.code, boards.stderr).toBe(1);
    const [board] = parseJson<{ boards: { code?: string; error?: string }[] }>(boards).boards;
    expect(board).toMatchObject({ code: 'SERIAL_NO_PEER', error: expect.stringContaining('no agent answered within 2 s') });

    const fx = await makeFixture(path.join(dir, 'fx'), 'classifier');
    const verify = await runCli(['verify', '--board', url, '--model', fx.model, '--gt', fx.gt, '--token-file', tokenFile, '--connect-timeout', '2'], { cwd: dir, env });
    expect(verify.code).toBe(5);
    expect(verify.stderr).toMatch(/^axctl: .*no agent answered within 2 s/);
    expect(verify.stderr).not.toMatch(/internal error/);
  }, 60_000);
});
