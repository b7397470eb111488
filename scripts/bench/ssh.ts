/**
 * SSH benchmark (`node dist/scripts/bench/ssh.js`, after `npm run build`; needs
 * /usr/sbin/sshd and scp from openssh-client).
 *
 * Upload throughput of one file (AXCTL_BENCH_MB, default 256 MB) to a board that is an OpenSSH
 * server on loopback (started here, as in test/ssh/sshd.ts), measured side by side with `scp`
 * of the same file to the same sshd (the baseline, taken in the same run):
 *   1. the agent over SSH: AgentClient.putFile through `axagent --stdio` in an exec channel
 *      (the agent hashes, writes and fsyncs what it acknowledges);
 *   2. the installed agent already running (the service): the same putFile, the host reaching
 *      the agent at its socket through sshd (direct-streamlocal) instead of starting one. As a
 *      service, one agent serves every round (started before them, like a board's boot), each
 *      round putting a new blob of the same size (the file's first bytes renewed, untimed);
 *   3. agentless SFTP: AgentlessSession.upload — SFTP into the board's cache with the bytes
 *      hashed as they are sent, the size checked and the blob renamed into place (the board's
 *      shell is not asked anything for an upload: open.ts);
 *   4. for information, the bare SFTP transfer (SftpSession.put) alone.
 * One warm-up round of every method (not counted: page cache, the service's first upload), then
 * AXCTL_BENCH_ROUNDS (default 7) rounds, the methods taking turns within a round (each round's
 * files deleted after it, untimed). In its turn each method uploads SMALL_MB, then the file:
 * the median small round is its fixed cost (logging in, start, handshake, close), and its
 * throughput is the rest of the file over the rest of each round's time, the same for scp. Prints throughput
 * and its ratio to scp (target >= 0.8), the whole round's MB/s and ratio (start-up included),
 * the fixed cost, and the client side's CPU time per MB (scp and its ssh; axctl's process),
 * which load disturbs less.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import { openAgentless } from '../../host/ssh/agentless/open';
import { openSsh } from '../../host/ssh/connection';
import { shellCommand } from '../../host/ssh/quote';
import { SshAgentTransport } from '../../host/ssh/transport';
import '../../host/ssh/register';
import { agentEnv } from '../../shared/agent-env';
import { startListeningAgent } from '../listening-agent';
import { procCpuSeconds } from '../proc-stat';
import { renewFile, writeRandomFile } from './lib/random-file';
import { median } from './lib/stats';

const run = promisify(execFile);
const MB = 1024 * 1024;
const FILE_MB = Number(process.env.AXCTL_BENCH_MB ?? 256);
/**
 * Every method also uploads this much in each round: its fixed cost (logging in, starting, the
 * handshake, closing), so that the throughput of the rest is measured alike for all, scp too.
 */
const SMALL_MB = 1;
// Single rounds swing by ±40% on a shared 2-core machine: a median of 7 paired rounds is steadier than a best of 3.
const ROUNDS = Number(process.env.AXCTL_BENCH_ROUNDS ?? 7);
const TARGET = 0.8;
const root = path.resolve(__dirname, '../../..');
const SSHD = '/usr/sbin/sshd';

interface Board {
  port: number;
  url: string;
  key: string;
  knownHosts: string;
  stop(): Promise<void>;
}

/** An sshd on a free loopback port with a fresh host key and one client key (test-rig.md). */
async function startBoard(dir: string): Promise<Board> {
  await fsp.mkdir('/run/sshd', { recursive: true });
  const key = path.join(dir, 'client_key');
  const hostKey = path.join(dir, 'host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await fsp.copyFile(`${key}.pub`, path.join(dir, 'authorized_keys'));
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const config = path.join(dir, 'sshd_config');
  await fsp.writeFile(config, [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${dir}/sshd.pid`, `AuthorizedKeysFile ${dir}/authorized_keys`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'Subsystem sftp internal-sftp'].join('\n') + '\n');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (i > 200) throw new Error('sshd did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  const knownHosts = path.join(dir, 'known_hosts');
  const hostPub = (await fsp.readFile(`${hostKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
  await fsp.writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);
  return {
    port,
    url: `ssh://${os.userInfo().username}@127.0.0.1:${port}`,
    key,
    knownHosts,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * What `axctl agent install` leaves under PREFIX, as far as the host reads it: the wrapper
 * (present), the token and the store in axagent.conf.
 */
async function installLayout(prefix: string, tokenFile: string): Promise<string> {
  await fsp.mkdir(path.join(prefix, 'bin'), { recursive: true });
  await fsp.mkdir(path.join(prefix, 'etc'), { recursive: true });
  await fsp.writeFile(path.join(prefix, 'bin', 'axagent'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  await fsp.copyFile(tokenFile, path.join(prefix, 'etc', 'token'));
  await fsp.writeFile(path.join(prefix, 'etc', 'axagent.conf'), `AXAGENT_STORE='${path.join(prefix, 'store')}'\n`);
  return prefix;
}

interface Service {
  prefix: string;
  stop(): Promise<void>;
}

/** The installed service: the bundled agent listening, owning PREFIX/store, as the wrapper starts it (started outside the timing). */
async function startService(prefix: string, tokenFile: string): Promise<Service> {
  const { child, url } = startListeningAgent({ agent: path.join(root, 'dist/axagent.js'), store: path.join(prefix, 'store'), runJoint: path.join(root, 'dist/scripts/sim/run-joint.js'), tokenFile, env: agentEnv() });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await url;
  } catch (err) {
    await stop();
    throw err;
  }
  return { prefix, stop };
}

/**
 * For information, what one command through the SSH user's login shell costs on this machine
 * (the agent started per connection runs one before its first byte; agentless mode, the
 * installed agent reached at its socket and scp, served by sshd's internal-sftp, run none): the median wall time of logging in and
 * running `true`, less that of logging in alone, over 5 rounds each.
 */
async function printLoginShellCost(board: Board, login: { identity: string; knownHosts: string; agentSocket: null }): Promise<void> {
  const loginOnly: number[] = [];
  const withCommand: number[] = [];
  for (let i = 0; i < 5; i++) {
    loginOnly.push(await timed(async () => {
      const ssh = await openSsh({ url: board.url, ...login });
      await ssh.close();
    }));
    withCommand.push(await timed(async () => {
      const ssh = await openSsh({ url: board.url, ...login });
      await ssh.exec('true', { timeoutMs: 30_000 });
      await ssh.close();
    }));
  }
  const shell = median(withCommand) - median(loginOnly);
  process.stdout.write(`\n  for information: one command through the login shell costs ${shell.toFixed(2)} s here (login alone ${median(loginOnly).toFixed(2)} s);\n` +
    `  the agent started per connection runs one before its first byte; agentless uploads, the installed agent's socket and scp none (its sshd serves SFTP in-process)\n`);
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

interface Method {
  label: string;
  /** Untimed set-up of a round, outside the CPU figures too. */
  prepare?: (upload: Upload) => Promise<void>;
  /** One timed upload of `upload`, seconds; `tag` names its files apart from the other size's. */
  once: (round: number, upload: Upload) => Promise<number>;
}

/** What a round uploads: the file (FILE_MB) or the small one (SMALL_MB). */
interface Upload {
  mb: number;
  /** '' for the file, '-small' for the small one: part of the names of what it leaves behind. */
  tag: string;
  file: string;
  hash: string;
}

interface Sample {
  /** The file's MB over the whole round: logging in and starting included. */
  mbps: number;
  /** The file's round, seconds. */
  seconds: number;
  /** The small upload's round, seconds: the method's fixed cost (plus 1 MB). */
  smallSeconds: number;
  /**
   * Client CPU per MB in that round, ms; null without /proc. This process and its finished
   * children: scp and its ssh for the baseline, axctl's code for the others (the board side
   * runs under sshd for all; the service agent's own CPU is not in it).
   */
  cpuMsPerMb: number | null;
}

/**
 * Every round of each method, after one warm-up round of each: interleaved (round 1 of every
 * method, then round 2...), so a neighbour's load on this shared machine hits all of them
 * alike, and each method's round can be set against scp's round next to it; each round starts
 * one method later than the one before.
 */
async function measureRounds(rounds: number, methods: Method[], uploads: { full: Upload; small: Upload }, afterRound: (round: number) => Promise<void>): Promise<Sample[][]> {
  const samples: Sample[][] = methods.map(() => []);
  for (const method of methods) {
    await method.prepare?.(uploads.full);
    await method.once(rounds, uploads.full); // the warm-up round (its own files: the index after the counted ones)
  }
  await afterRound(rounds);
  for (let r = 0; r < rounds; r++) {
    // Each round starts one method later: what a method leaves behind (the write-back of its
    // 256 MB, its process's state) falls on a different next method each round, not always on
    // the same one (agentless right after the installed agent used 7.0–7.9 ms of CPU per MB,
    // right after the bare put 5.4–5.6).
    for (let k = 0; k < methods.length; k++) {
      const i = (k + r) % methods.length;
      const method = methods[i]!;
      // The small upload first: its fixed cost under the conditions the file's round then meets.
      await method.prepare?.(uploads.small);
      const smallSeconds = await method.once(r, uploads.small);
      await method.prepare?.(uploads.full);
      const cpu0 = procCpuSeconds('self', { children: true });
      const seconds = await method.once(r, uploads.full);
      const cpu1 = procCpuSeconds('self', { children: true });
      const cpuMsPerMb = cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) * 1000) / FILE_MB;
      const cpuText = cpuMsPerMb === null ? '' : `   client CPU ${cpuMsPerMb.toFixed(2)} ms/MB`;
      process.stdout.write(`  round ${r + 1}  ${method.label.padEnd(36)} ${(FILE_MB / seconds).toFixed(1).padStart(7)} MB/s whole round, ${SMALL_MB} MB in ${smallSeconds.toFixed(2)} s${cpuText}\n`);
      samples[i]!.push({ mbps: FILE_MB / seconds, seconds, smallSeconds, cpuMsPerMb });
    }
    await afterRound(r);
  }
  return samples;
}

async function main(): Promise<number> {
  if (!existsSync(SSHD)) {
    process.stderr.write(`bench ssh: ${SSHD} is missing (apt-get install openssh-server)\n`);
    return 2;
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-bench-ssh-'));
  const board = await startBoard(dir);
  const login = { identity: board.key, knownHosts: board.knownHosts, agentSocket: null };
  let service: Service | null = null;
  try {
    const file = path.join(dir, 'upload.bin');
    const full: Upload = { mb: FILE_MB, tag: '', file, hash: await writeRandomFile(file, FILE_MB) };
    const smallFile = path.join(dir, 'upload-small.bin');
    const small: Upload = { mb: SMALL_MB, tag: '-small', file: smallFile, hash: await writeRandomFile(smallFile, SMALL_MB) };
    process.stdout.write(`upload of ${FILE_MB} MB (and of ${SMALL_MB} MB, for each method's fixed cost) to sshd on loopback, ${ROUNDS} rounds after a warm-up\n`);

    const tokenFile = path.join(dir, 'token');
    await fsp.writeFile(tokenFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const token = (await fsp.readFile(tokenFile, 'utf8')).trim();
    // The service keeps what it was sent: each of its rounds puts a new blob (renewed untimed).
    const serviceCopies = new Map<Upload, { file: string; hash: string }>();
    for (const upload of [full, small]) {
      const copy = path.join(dir, `upload-to-service${upload.tag}.bin`);
      await fsp.copyFile(upload.file, copy);
      serviceCopies.set(upload, { file: copy, hash: '' });
    }
    /** Per counted round: how long the agent over SSH took to start and answer (login, shell, Node, handshake). */
    const agentStartS: number[] = [];
    const serviceAgent = await startService(await installLayout(path.join(dir, 'installed'), tokenFile), tokenFile);
    service = serviceAgent;
    const [scp, agent, running, agentless, bare] = await measureRounds(ROUNDS, [
      {
        label: 'scp (baseline)',
        once: (r, u) => timed(async () => {
          await run('scp', ['-q', '-i', board.key, '-o', `UserKnownHostsFile=${board.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
            '-P', String(board.port), u.file, `${os.userInfo().username}@127.0.0.1:${path.join(dir, `scp-${r}${u.tag}.bin`)}`]);
        }),
      },
      {
        label: 'agent over ssh (putFile)',
        once: (r, u) => {
          const command = shellCommand([process.execPath, path.join(root, 'dist/axagent.js'), '--stdio', '--store', path.join(dir, `store-${r}${u.tag}`),
            '--run-joint', path.join(root, 'dist/scripts/sim/run-joint.js'), '--token-file', tokenFile]);
          return timed(async () => {
            const started = process.hrtime.bigint();
            const transport = await openTransport(board.url, { schemeOptions: { ...login, agentCommand: command } });
            const client = await AgentClient.connect(transport, { token });
            if (r < ROUNDS && u === full) agentStartS[r] = Number(process.hrtime.bigint() - started) / 1e9;
            await client.putFile(u.file, u.hash, u.mb * MB);
            await client.close();
          });
        },
      },
      {
        label: 'installed agent running (its socket)',
        prepare: async (u) => {
          const copy = serviceCopies.get(u)!;
          copy.hash = await renewFile(copy.file);
        },
        once: (_r, u) =>
          timed(async () => {
            const copy = serviceCopies.get(u)!;
            const transport = await openTransport(board.url, { schemeOptions: { ...login, agentPrefix: serviceAgent.prefix } });
            if (!(transport instanceof SshAgentTransport) || transport.agentSocket === undefined) throw new Error('the running agent was not reached at its socket');
            // The token as the host's copy from `axctl agent install` gives it (not waiting for the board's).
            const client = await AgentClient.connect(transport, { token });
            await client.putFile(copy.file, copy.hash, u.mb * MB);
            await client.close();
          }),
      },
      {
        label: 'agentless (AgentlessSession.upload)',
        once: (r, u) => timed(async () => {
          const session = await openAgentless({ url: board.url, ...login, cacheDir: path.join(dir, `cache-${r}${u.tag}`), runJoint: '/bin/true' });
          await session.upload(u.file, u.hash, u.mb * MB);
          await session.close();
        }),
      },
      {
        label: 'bare SFTP put',
        once: (r, u) => timed(async () => {
          const ssh = await openSsh({ url: board.url, ...login });
          await (await ssh.sftp()).put(u.file, path.join(dir, `sftp-${r}${u.tag}.bin`), { start: 0 });
          await ssh.close();
        }),
      },
    ], { full, small }, async (r) => {
      for (const tag of ['', '-small']) {
        for (const name of [`scp-${r}${tag}.bin`, `store-${r}${tag}`, `cache-${r}${tag}`, `sftp-${r}${tag}.bin`]) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
      }
    }) as [Sample[], Sample[], Sample[], Sample[], Sample[]];

    const cpus = (xs: Sample[]) => xs.map((x) => x.cpuMsPerMb).filter((x): x is number => x !== null);
    const cpu = (xs: Sample[]) => (cpus(xs).length === 0 ? '' : `   client CPU ${median(cpus(xs)).toFixed(2)} ms/MB`);
    const mbps = (values: number[]) => `${median(values).toFixed(1).padStart(7)} MB/s`;
    // Each round against scp's round beside it: the load of that moment hits both.
    const ratios = (xs: Sample[], of: (x: Sample) => number) => xs.map((x, r) => of(x) / of(scp[r]!));
    const byRound = (values: number[]) => `by round: ${values.map((x) => x.toFixed(2)).join(' ')}`;
    const fixedS = (xs: Sample[]) => median(xs.map((x) => x.smallSeconds));
    const fixed = (xs: Sample[]) => `${fixedS(xs).toFixed(2)} s`;
    // The fixed cost is the method's, not the round's: its median over the rounds is taken from
    // each round (a round's own small upload would add its noise to the difference).
    const goingOf = new Map<Sample, number>();
    for (const xs of [scp, agent, running, agentless, bare]) {
      const cost = fixedS(xs);
      for (const x of xs) goingOf.set(x, (FILE_MB - SMALL_MB) / Math.max(x.seconds - cost, 1e-3));
    }
    const goingMbps = (x: Sample) => goingOf.get(x)!;
    const line = (name: string, xs: Sample[]) => {
      const going = ratios(xs, goingMbps);
      const whole = ratios(xs, (x) => x.mbps);
      const below = median(going) >= TARGET ? '' : `  (below the target ${TARGET})`;
      return `  ${name.padEnd(26)} throughput ${mbps(xs.map(goingMbps))}   ratio to scp ${median(going).toFixed(2)}${below}   ${byRound(going)}\n` +
        `  ${''.padEnd(26)} whole round ${mbps(xs.map((x) => x.mbps))}  ratio to scp ${median(whole).toFixed(2)}   ${byRound(whole)}\n` +
        `  ${''.padEnd(26)} fixed cost ${fixed(xs)} (scp ${fixed(scp)})${cpu(xs)}\n`;
    };
    process.stdout.write(`\nresults, medians of ${ROUNDS} rounds (higher MB/s is better; each ratio is the median of the rounds' MB/s over scp's in the same round):\n` +
      `  throughput: the ${FILE_MB - SMALL_MB} MB beyond the small upload over the time beyond the method's fixed cost, the same for every method and scp: the target >= ${TARGET};\n` +
      `  whole round: the ${FILE_MB} MB over its round, logging in and starting included; fixed cost: the median ${SMALL_MB} MB round (logging in, start, handshake, close);\n` +
      `  client CPU per MB of the file's round: scp and ssh for the baseline, axctl's process for the others\n`);
    process.stdout.write(`  ${'scp (baseline)'.padEnd(26)} throughput ${mbps(scp.map(goingMbps))}   whole round ${mbps(scp.map((x) => x.mbps))}   fixed cost ${fixed(scp)}${cpu(scp)}\n`);
    process.stdout.write(line('agent over ssh', agent));
    process.stdout.write(`  ${''.padEnd(26)} of which starting the agent (login, login shell, Node, handshake): ${median(agentStartS).toFixed(2)} s\n`);
    process.stdout.write(line('installed agent, running', running));
    process.stdout.write(line('agentless SFTP upload', agentless));
    process.stdout.write(line('bare SFTP put', bare));
    await printLoginShellCost(board, login);
    return 0;
  } finally {
    await service?.stop();
    await board.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

void main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench ssh: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
