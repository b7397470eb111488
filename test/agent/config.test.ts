/** axagent's options: parsing, and the one-line errors (exit 2) of the real process. */
import { execFile, execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentArgs, parseBytes, parseListen } from '../../agent/config';
import { transferIdleMs } from '../../agent/start-session';
import { AGENT_MAIN, SIM_RUN_JOINT, requireBuild } from './helpers';
import { mountTmpfs } from './tmpfs';

const base = ['--store', 's', '--run-joint', 'r', '--token-file', 't'];
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return undefined;
};

/** The error parseAgentArgs throws for `args` (undefined when it accepts them). */
function refusal(args: string[]): { code: string; message: string; hint?: string } | undefined {
  try {
    parseAgentArgs(args);
  } catch (err) {
    return err as { code: string; message: string; hint?: string };
  }
  return undefined;
}

describe('parseAgentArgs', () => {
  it('reads a listen configuration with defaults', () => {
    const cmd = parseAgentArgs(['--listen', '127.0.0.1:7007', ...base]);
    expect(cmd).toMatchObject({ action: 'serve', config: { mode: { kind: 'listen', host: '127.0.0.1', port: 7007 }, runTimeoutMs: 600_000, idleTimeoutMs: 30_000, authTimeoutMs: 10_000, transferTimeoutMs: 60_000 } });
    if (cmd.action !== 'serve') throw new Error('unreachable');
    expect(path.isAbsolute(cmd.config.runJoint)).toBe(true);
    expect(cmd.config.storeCapBytes).toBeUndefined();
  });

  it('reads stdio mode, sizes and timeouts', () => {
    const cmd = parseAgentArgs(['--stdio', ...base, '--store-cap', '2G', '--idle-timeout', '0', '--run-timeout', '1.5']);
    expect(cmd).toMatchObject({ action: 'serve', config: { mode: { kind: 'stdio' }, storeCapBytes: 2 * 1024 ** 3, idleTimeoutMs: 0, runTimeoutMs: 1500 } });
  });

  it('answers --version and --help before checking anything else', () => {
    expect(parseAgentArgs(['--version'])).toEqual({ action: 'version' });
    expect(parseAgentArgs(['-h', '--listen', 'nonsense'])).toEqual({ action: 'help' });
  });

  it('refuses bad combinations and values with stable codes', () => {
    expect(codeOf(() => parseAgentArgs(base))).toBe('AGENT_MODE');
    expect(codeOf(() => parseAgentArgs(['--stdio', '--listen', ':1', ...base]))).toBe('AGENT_MODE');
    expect(codeOf(() => parseAgentArgs(['--stdio', '--store', 's', '--run-joint', 'r']))).toBe('AGENT_MISSING_OPTION');
    expect(codeOf(() => parseAgentArgs(['--stdio', ...base, '--bogus']))).toBe('AGENT_BAD_OPTION');
    expect(codeOf(() => parseAgentArgs(['--stdio', ...base, 'extra']))).toBe('AGENT_BAD_OPTION');
    expect(codeOf(() => parseAgentArgs(['--stdio', ...base, '--run-timeout', '0']))).toBe('AGENT_BAD_NUMBER');
    expect(codeOf(() => parseAgentArgs(['--stdio', ...base, '--store-cap', 'lots']))).toBe('AGENT_BAD_NUMBER');
    // Past a day: Node's timers would overflow (to 1 ms) and runs would be refused as BAD_TIMEOUT.
    for (const name of ['--run-timeout', '--idle-timeout', '--auth-timeout']) {
      expect(codeOf(() => parseAgentArgs(['--stdio', ...base, name, '3000000'])), name).toBe('AGENT_BAD_NUMBER');
      expect(codeOf(() => parseAgentArgs(['--stdio', ...base, name, '86401'])), name).toBe('AGENT_BAD_NUMBER');
    }
    // The line rates the host's serial:// URL accepts, no fewer and no more.
    expect(codeOf(() => parseAgentArgs(['--serial', '/dev/ttyS1', ...base, '--baud', '49']))).toBe('AGENT_BAD_BAUD');
    expect(codeOf(() => parseAgentArgs(['--serial', '/dev/ttyS1', ...base, '--baud', '20000001']))).toBe('AGENT_BAD_BAUD');
    const fast = parseAgentArgs(['--serial', '/dev/ttyS1', ...base, '--baud', '20000000']);
    expect(fast.action === 'serve' && fast.config.mode).toEqual({ kind: 'serial', device: '/dev/ttyS1', baud: 20_000_000 });
    const day = parseAgentArgs(['--stdio', ...base, '--run-timeout', '86400', '--auth-timeout', '86400', '--idle-timeout', '86400']);
    expect(day.action === 'serve' && [day.config.runTimeoutMs, day.config.authTimeoutMs, day.config.idleTimeoutMs]).toEqual([86_400_000, 86_400_000, 86_400_000]);
  });

  it('reads numbers in decimal only, as the host does (0x2580 was 9600 baud, 0x10 s a timeout)', () => {
    expect(refusal(['--serial', '/dev/ttyS1', ...base, '--baud', '0x2580'])).toMatchObject({ code: 'AGENT_BAD_BAUD', message: '--baud 0x2580: expected a line rate such as 115200 or 921600', hint: expect.stringContaining('whole number') });
    expect(refusal(['--stdio', ...base, '--run-timeout', '0x10'])).toMatchObject({ code: 'AGENT_BAD_NUMBER', message: expect.stringMatching(/^--run-timeout 0x10: /), hint: 'a decimal number, e.g. --run-timeout 600' });
    expect(refusal(['--stdio', ...base, '--idle-timeout', '0b1'])).toMatchObject({ code: 'AGENT_BAD_NUMBER' });
    expect(refusal(['--stdio', ...base, '--auth-timeout', ' 5'])).toMatchObject({ code: 'AGENT_BAD_NUMBER' });
    const ok = parseAgentArgs(['--serial', '/dev/ttyS1', ...base, '--baud', '9.6e3', '--run-timeout', '1e2']);
    expect(ok.action === 'serve' && [ok.config.mode, ok.config.runTimeoutMs]).toEqual([{ kind: 'serial', device: '/dev/ttyS1', baud: 9600 }, 100_000]);
  });

  it("a value starting with '-' gets the option's own error, not util.parseArgs' \"argument is ambiguous\"", () => {
    expect(refusal(['--stdio', ...base, '--store-cap', '-5'])).toMatchObject({ code: 'AGENT_BAD_NUMBER', message: '--store-cap -5: expected a size in bytes, e.g. 2G or 500M', hint: expect.any(String) });
    expect(refusal(['--stdio', ...base, '--idle-timeout', '-1'])).toMatchObject({ code: 'AGENT_BAD_NUMBER', message: expect.stringMatching(/^--idle-timeout -1: expected a number of seconds/) });
    expect(refusal(['--serial', '/dev/ttyS1', ...base, '--baud', '-.5'])).toMatchObject({ code: 'AGENT_BAD_BAUD', message: expect.stringMatching(/^--baud -\.5: /) });
    expect(refusal(['--listen', '-1', ...base])).toMatchObject({ code: 'AGENT_BAD_LISTEN', message: expect.stringMatching(/^--listen -1: /) });
    // Another option where the value goes: the value is missing, or is written --opt=VALUE.
    expect(refusal(['--stdio', '--store', '--run-joint', 'r', '--token-file', 't'])).toMatchObject({
      code: 'AGENT_BAD_OPTION',
      message: '--store needs a value, got --run-joint',
      hint: 'give --store DIR; write --store=--run-joint if that is the value',
    });
    // --opt=VALUE and '-' alone still work; after '--' nothing is joined.
    const dashed = parseAgentArgs(['--stdio', '--store=-x', '--run-joint', '-', '--token-file', 't']);
    expect(dashed.action === 'serve' && [path.basename(dashed.config.storeDir), path.basename(dashed.config.runJoint)]).toEqual(['-x', '-']);
    expect(refusal(['--stdio', ...base, '--', '--store-cap', '-5'])).toMatchObject({ code: 'AGENT_BAD_OPTION' });
  });

  it('gives a slow serial line at least three upload chunks of time before TRANSFER_TIMEOUT', () => {
    const serve = (args: string[]) => {
      const cmd = parseAgentArgs([...args, ...base]);
      if (cmd.action !== 'serve') throw new Error('not serve');
      return transferIdleMs(cmd.config);
    };
    expect(serve(['--stdio'])).toBe(60_000);
    expect(serve(['--serial', '/dev/ttyS1', '--baud', '921600'])).toBe(60_000);
    // 256 KiB at 38400 baud (10 bits a byte) is 68.3 s a chunk.
    expect(serve(['--serial', '/dev/ttyS1', '--baud', '38400'])).toBe(Math.ceil((3 * 256 * 1024 * 10 * 1000) / 38400));
  });

  it('understands the listen address forms', () => {
    expect(parseListen('0.0.0.0:7007')).toEqual({ host: '0.0.0.0', port: 7007 });
    expect(parseListen(':7007')).toEqual({ host: '0.0.0.0', port: 7007 });
    expect(parseListen('7007')).toEqual({ host: '0.0.0.0', port: 7007 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    for (const bad of ['host', 'host:', 'host:99999', '::1:80', 'a:b']) expect(codeOf(() => parseListen(bad))).toBe('AGENT_BAD_LISTEN');
    expect(parseBytes('500M')).toBe(500 * 1024 ** 2);
    expect(parseBytes('1024')).toBe(1024);
  });
});

describe('axagent start-up errors (one line, exit 2)', () => {
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-agent-config-'));
    await fsp.writeFile(path.join(dir, 'token'), 'x'.repeat(40), { mode: 0o600 });
    await fsp.writeFile(path.join(dir, 'open-token'), 'y'.repeat(40), { mode: 0o644 });
    await fsp.writeFile(path.join(dir, 'short-token'), 'short', { mode: 0o600 });
  });
  afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [AGENT_MAIN, ...args], { cwd: dir, timeout: 20_000 }, (_err, stdout, stderr) => resolve({ code: child.exitCode, stderr, stdout }));
    });
  const args = (over: Record<string, string>) => {
    const opts: Record<string, string> = { store: path.join(dir, 'store'), 'run-joint': SIM_RUN_JOINT, 'token-file': path.join(dir, 'token'), ...over };
    return ['--listen', '127.0.0.1:0', ...Object.entries(opts).flatMap(([k, v]) => [`--${k}`, v])];
  };

  it.each([
    ['a missing token file', { 'token-file': 'missing-token' }, /missing-token: no such file/],
    ['a too short token', { 'token-file': 'short-token' }, /the token has 5 characters, at least 16 are needed/],
    // A run_joint it cannot run is only warned about (test/e2e/run-joint-missing.test.ts); none given is a usage error.
    ['no --run-joint', { 'run-joint': '' }, /^axagent: --run-joint PATH is required \(see axagent --help\)\n$/],
    ['an unknown option', { bogus: '1' }, /Unknown option '--bogus'/],
    ['a negative --store-cap (was "argument is ambiguous")', { 'store-cap': '-5' }, /^axagent: --store-cap -5: expected a size in bytes, e\.g\. 2G or 500M \(.+\)\n$/],
    ['a hex --run-timeout', { 'run-timeout': '0x10' }, /^axagent: --run-timeout 0x10: expected a number of seconds above 0, at most 86400 \(a day\) \(a decimal number, e\.g\. --run-timeout 600\)\n$/],
  ])('refuses %s', async (_what, over, message) => {
    const { code, stderr } = await run(args(over as Record<string, string>));
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.startsWith('axagent: ')).toBe(true);
  });

  const refusesStore = async (store: string, problem: RegExp) => {
    const { code, stderr } = await run(args({ store }));
    expect(stderr).toMatch(new RegExp(`^axagent: --store ${store}: cannot be used as the store: ${problem.source}`));
    expect(stderr).toMatch(/\(give --store a folder the agent's user can write to/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(code).toBe(2);
  };

  it('refuses a --store that is a file, or under a file', async () => {
    await fsp.writeFile(path.join(dir, 'plain-file'), 'x');
    await refusesStore(path.join(dir, 'plain-file'), /it is a file, not a folder/);
    await refusesStore(path.join(dir, 'plain-file', 'store'), /a part of its path is a file, not a folder/);
  });

  it('refuses a --store on a read-only filesystem, new or existing', async () => {
    const mount = path.join(dir, 'read-only');
    const unmount = await mountTmpfs(mount, 'size=1m,mode=0755');
    try {
      await fsp.mkdir(path.join(mount, 'store'));
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      await refusesStore(path.join(mount, 'new-store'), /the filesystem is read-only/);
      await refusesStore(path.join(mount, 'store'), /cannot create a file in it \(the filesystem is read-only\)/);
    } finally {
      unmount();
    }
  });

  it('a port already in use stops it before it ever owns the store (a --stdio agent relaying to it would be cut off)', async () => {
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    try {
      const port = (squatter.address() as net.AddressInfo).port;
      const store = path.join(dir, 'store-port-taken');
      const { code, stderr } = await run([...args({ store }).filter((a) => a !== '127.0.0.1:0' && a !== '--listen'), '--listen', `127.0.0.1:${port}`]);
      expect(stderr).toMatch(/the port is in use/);
      expect(code).not.toBe(0);
      // An owner opens the store (its folders appear); this agent never did.
      await expect(fsp.access(path.join(store, 'blobs'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('warns about a token file others can read, and starts anyway', async () => {
    const child = execFile(process.execPath, [AGENT_MAIN, ...args({ 'token-file': path.join(dir, 'open-token') })], { cwd: dir });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (stderr.includes('listening on')) resolve();
      });
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    expect(stderr).toMatch(/warning: .*open-token can be read or changed by other users; chmod 600/);
    expect(child.exitCode).toBe(0);
  });
});
