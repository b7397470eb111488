/**
 * pulsar started through a wrapper script that does not `exec` it: the real pulsar is a
 * grandchild of axctl. A timeout, Ctrl-C, and pulsar ending normally must all leave no
 * process of that tree running. Real processes: sh wrappers starting node children.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePulsarInvocation, runPulsar } from '../../host/toolchain';
import { isAxError } from '../../shared/errors';
import { CLI, makePulsarProject, removeProject, requireBuild } from './helpers';

let dir: string;
const started: number[] = [];
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-group-')); });
afterAll(() => {
  // Whatever a failing test left running must not outlive it.
  for (const pid of started) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Running, not gone and not a zombie nobody reaped (a container's pid 1 may not reap). */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/**
 * A wrapper (sh, no exec) starting a node "pulsar" that writes its pid to `pidFile` and then
 * hangs; with `background` the wrapper puts it in the background (output to /dev/null) and
 * exits 0 at once, the way a careless wrapper leaves a process behind.
 */
function wrapper(name: string, pidFile: string, options: { background?: boolean } = {}): string {
  const child = path.join(dir, `${name}.js`);
  fs.writeFileSync(child, `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); console.log('started'); setInterval(() => {}, 1000);`);
  const file = path.join(dir, `${name}.sh`);
  const run = `'${process.execPath}' '${child}' "$@"`;
  // In the background case the wrapper waits for the pid, so the test learns it before the group is stopped.
  const background = `${run} >/dev/null 2>&1 &\nwhile [ ! -s '${pidFile}' ]; do sleep 0.05; done\necho wrapper done`;
  fs.writeFileSync(file, `#!/bin/sh\n${options.background ? background : `${run}\necho after`}\n`, { mode: 0o755 });
  return file;
}

async function grandchildPid(pidFile: string): Promise<number> {
  expect(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 10_000)).toBe(true);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  started.push(pid);
  return pid;
}

describe('pulsar behind a wrapper script runs in its own process group', () => {
  it('a timeout stops the real pulsar, not only the wrapper', async () => {
    const pidFile = path.join(dir, 'timeout.pid');
    const inv = resolvePulsarInvocation({ cwd: dir, env: {}, pulsar: wrapper('timeout', pidFile) });
    const err = await runPulsar(inv, ['build'], { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('PULSAR_TIMEOUT');
    const pid = await grandchildPid(pidFile);
    expect(await waitFor(() => !isRunning(pid), 3000)).toBe(true);
  }, 30_000);

  it('pulsar ending normally leaves nothing of its group running', async () => {
    const pidFile = path.join(dir, 'background.pid');
    const inv = resolvePulsarInvocation({ cwd: dir, env: {}, pulsar: wrapper('background', pidFile, { background: true }) });
    const result = await runPulsar(inv, ['version'], { timeoutMs: 30_000 });
    expect(result.exitCode).toBe(0);
    const pid = await grandchildPid(pidFile);
    expect(await waitFor(() => !isRunning(pid), 3000)).toBe(true);
  }, 30_000);

  it.each([['SIGINT', 'Ctrl-C'], ['SIGHUP', 'its terminal closing']] as const)('%s (%s) of axctl build stops the real pulsar and exits 130', async (signal, _why) => {
    requireBuild();
    const project = makePulsarProject(`stop-${signal}`);
    try {
      const pidFile = path.join(dir, `stop-${signal}.pid`);
      const axctl = spawn(process.execPath, [CLI, 'build', '--onnx', 'model.onnx', '--config', 'config/config.prototxt',
        '--output', 'out/model.joint', '--output-config', 'out/output_config.prototxt', '--pulsar', wrapper(`stop-${signal}`, pidFile)], {
        cwd: project, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      axctl.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
      const exited = new Promise<number | null>((resolve) => axctl.on('close', (code) => resolve(code)));
      // The wrapper answers `pulsar version` too (and hangs): the first grandchild is that one.
      const pid = await grandchildPid(pidFile);
      axctl.kill(signal);
      expect(await exited).toBe(130);
      expect(stderr).toContain('axctl: build interrupted');
      expect(await waitFor(() => !isRunning(pid), 3000)).toBe(true);
    } finally {
      removeProject(project);
    }
  }, 30_000);
});
