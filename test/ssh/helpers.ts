/**
 * Shared rig of the SSH end-to-end tests: boards are real sshd processes on loopback (sshd.ts)
 * that run commands as this user, so "the board" runs the built agent (dist/) and the board
 * simulator (dist/scripts/sim/run-joint.js) as run_joint. Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HashCache } from '../../host/deploy/hash-cache';
import { createProgress } from '../../host/deploy/progress';
import type { SshSchemeOptions } from '../../host/ssh/options';
import { shellCommand } from '../../host/ssh/quote';
import { ModelIoStore } from '../../host/state/model-io';
import { verify, type VerifyOptions } from '../../host/verify/verify';
import type { SshBoardOptions } from '../../host/ssh/board-openers';
import { makeGt, makeModel, type ModelKind } from '../../scripts/sim/make-gt';
import type { Sshd } from './sshd';
import { AGENT_BUNDLE, AGENT_MAIN, SIM_RUN_JOINT } from '../built';
import { ROOT } from '../built';
export { AGENT_BUNDLE, AGENT_MAIN, ROOT, SIM_RUN_JOINT, requireBuild } from '../built';



export async function tempDir(prefix = 'axctl-ssh-test-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** How a test logs in to `board`: its client key, its known_hosts, no ssh-agent of the tester's. */
export function loginTo(board: Sshd): Required<Pick<SshSchemeOptions, 'identity' | 'knownHosts'>> & { agentSocket: null } {
  return { identity: board.clientKey.file, knownHosts: board.knownHosts, agentSocket: null };
}

/** A known_hosts file listing every server given. */
export async function knownHostsFor(dir: string, servers: Sshd[]): Promise<string> {
  const file = path.join(dir, `known_hosts_${servers.map((s) => s.port).join('_')}`);
  const texts = await Promise.all(servers.map((s) => fsp.readFile(s.knownHosts, 'utf8')));
  await fsp.writeFile(file, texts.join(''));
  return file;
}

/** Lets `from`'s client key log in to `to` too (a gateway the tester may pass through). */
export async function trust(to: Sshd, from: Sshd): Promise<void> {
  await fsp.appendFile(path.join(to.dir, 'authorized_keys'), `${from.clientKey.publicLine}\n`);
}

/** An agent store and token in `dir`; the command that starts the agent on stdio with them. */
export async function agentOnStdio(dir: string, env: Record<string, string> = {}): Promise<{ command: string; token: string; tokenFile: string; store: string }> {
  const token = 'ssh-test-token-' + Math.random().toString(16).slice(2).padEnd(16, '0');
  const tokenFile = path.join(dir, 'token');
  await fsp.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const store = path.join(dir, 'store');
  const envWords = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const argv = [...(envWords.length ? ['env', ...envWords] : []), process.execPath, AGENT_MAIN, '--stdio', '--store', store, '--run-joint', SIM_RUN_JOINT, '--token-file', tokenFile];
  return { command: shellCommand(argv), token, tokenFile, store };
}

/**
 * What `axctl agent install --prefix PREFIX` leaves on a board (the contract of
 * docs/parts/ssh.md): PREFIX/bin/axagent (sh wrapper), PREFIX/etc/token and the store in
 * PREFIX/etc/axagent.conf. The wrapper also notes each start in PREFIX/starts (one line each).
 * `runJoint`: the agent's --run-joint (default the board simulator).
 */
export async function installAgent(prefix: string, runJoint: string = SIM_RUN_JOINT): Promise<{ token: string; store: string; starts(): Promise<number> }> {
  await fsp.mkdir(path.join(prefix, 'bin'), { recursive: true });
  await fsp.mkdir(path.join(prefix, 'etc'), { recursive: true });
  const token = 'installed-token-' + Math.random().toString(16).slice(2).padEnd(16, '0');
  const store = path.join(prefix, 'store');
  await fsp.writeFile(path.join(prefix, 'etc', 'token'), `${token}\n`, { mode: 0o600 });
  await fsp.writeFile(path.join(prefix, 'etc', 'axagent.conf'), `# test install\nAXAGENT_STORE='${store}'\n`);
  const wrapper = `#!/bin/sh\nPREFIX=${shellCommand([prefix])}\necho "$*" >> "$PREFIX/starts"\nexec ${shellCommand([process.execPath, AGENT_BUNDLE])} --store "$PREFIX/store" --run-joint ${shellCommand([runJoint])} --token-file "$PREFIX/etc/token" "$@"\n`;
  await fsp.writeFile(path.join(prefix, 'bin', 'axagent'), wrapper, { mode: 0o755 });
  const starts = async () => (await fsp.readFile(path.join(prefix, 'starts'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  return { token, store, starts };
}

/** A run_joint at a path with a space (a link to the simulator), optionally with a fault switched on. */
export async function runJointAt(dir: string, fault?: string): Promise<string> {
  const folder = path.join(dir, fault ? `faulty tools ${fault}` : 'board tools');
  await fsp.mkdir(folder, { recursive: true });
  const file = path.join(folder, 'run joint');
  if (fault) await fsp.writeFile(file, `#!/bin/sh\nAXSIM_FAULT=${shellCommand([fault])}; export AXSIM_FAULT\nexec ${shellCommand([process.execPath, SIM_RUN_JOINT])} "$@"\n`, { mode: 0o755 });
  else await fsp.symlink(SIM_RUN_JOINT, file);
  return file;
}

export interface Fixture {
  model: string;
  gt: string;
}

/** A simulator model and its gt folder. */
export async function fixture(dir: string, kind: ModelKind = 'classifier', seed = 1): Promise<Fixture> {
  await fsp.mkdir(dir, { recursive: true });
  const model = path.join(dir, `${kind}.joint`);
  const gt = path.join(dir, `gt-${kind}`);
  makeModel(kind, model);
  await makeGt(model, gt, { seed });
  return { model, gt };
}

/** axctl verify in-process, through openBoard and the SSH board openers. */
export async function verifyOn(dir: string, board: string, fx: Fixture, extra: Partial<VerifyOptions> & SshBoardOptions = {}) {
  const opts: VerifyOptions & SshBoardOptions = {
    board,
    model: fx.model,
    gt: fx.gt,
    cwd: dir,
    env: {},
    connectTimeoutMs: 15_000,
    progress: createProgress('quiet'),
    hashes: new HashCache(path.join(dir, 'hashes.json')),
    ioStore: new ModelIoStore(path.join(dir, 'model-io.json')),
    ...extra,
  };
  return verify(opts);
}

/** A TCP relay to 127.0.0.1:`to` that can fall silent, like a cut cable: see blackhole(). */
export interface Relay {
  port: number;
  /**
   * From now on nothing is forwarded and nothing is closed: the kernel still acknowledges what
   * arrives, but no byte and no FIN ever reaches either side (a link that died mid-run).
   */
  blackhole(): void;
  /** Resets every connection through it (RST both ways), like a link that dropped; new ones still pass. */
  cut(): void;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

export async function startRelay(to: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let silent = false;
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: to });
    for (const [from, into] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on('error', () => undefined);
      from.on('data', (d: Buffer) => {
        if (!silent) into.write(d);
      });
      from.on('end', () => {
        if (!silent) into.end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    blackhole: () => {
      silent = true;
      for (const s of sockets) s.pause();
    },
    cut: () => {
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The built CLI run in `dir` as a user would, with caches, config and temp folders inside `dir`
 * (an axctl killed with SIGKILL cannot remove its temp folder; the test's folder goes) and no
 * ssh-agent or AXCTL_TOKEN from the caller; killed after 50 s.
 */
export async function runAxctlIn(dir: string, args: string[], onStart?: (child: ChildProcess) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  await fsp.mkdir(path.join(dir, 'tmp'), { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache-home'), XDG_CONFIG_HOME: path.join(dir, 'config-home'), TMPDIR: path.join(dir, 'tmp'), SSH_AUTH_SOCK: '', NO_COLOR: '1' };
  delete env.AXCTL_TOKEN;
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/host/cli.js'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  onStart?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((resolve) => child.once('close', (code: number | null) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}
