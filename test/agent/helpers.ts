/**
 * The agent as its own process for end-to-end tests: `node dist/agent/main.js` (or the bundled
 * dist/axagent.js copied to a folder without node_modules) with a temp store, a token file and
 * the board simulator's run_joint (dist/scripts/sim/run-joint.js). Needs `npm run build` first.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentClient, type ConnectOptions } from '../../host/client/agent-client';
import { Channel } from '../../host/client/channel';
import { openTransport } from '../../host/client/connect';
import { handshake } from '../../host/client/handshake';
import { decodeEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { StreamTransport } from '../../shared/transport/stream';
import type { Transport } from '../../shared/transport/transport';
import { AGENT_BUNDLE, AGENT_MAIN, SIM_RUN_JOINT, requireBuild } from '../built';
export { AGENT_BUNDLE, AGENT_MAIN, ROOT, SIM_RUN_JOINT, requireBuild } from '../built';



export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface AgentProcess {
  dir: string;
  storeDir: string;
  token: string;
  child: ChildProcessWithoutNullStreams;
  /** ws://127.0.0.1:PORT (listen mode only). */
  url: string;
  /** Everything the agent wrote to stderr so far. */
  stderr(): string;
  /** A fresh transport to this agent (a new WebSocket; in stdio mode the one and only). */
  transport(): Promise<Transport>;
  connect(opts?: Partial<ConnectOptions>): Promise<AgentClient>;
  stop(): Promise<number | null>;
}

export interface StartOptions {
  mode?: 'listen' | 'stdio';
  /** Run the bundled dist/axagent.js from a folder with no node_modules. */
  bundled?: boolean;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Another agent's store (default: a fresh one in the agent's own temp folder). */
  storeDir?: string;
  /** The token (default: a random one), e.g. another agent's, as an installation shares one. */
  token?: string;
  /** --run-joint (default: the board simulator). */
  runJoint?: string;
}

export async function startAgent(opts: StartOptions = {}): Promise<AgentProcess> {
  requireBuild();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-agent-e2e-'));
  const token = opts.token ?? randomBytes(32).toString('hex');
  const tokenFile = path.join(dir, 'token');
  await fsp.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const storeDir = opts.storeDir ?? path.join(dir, 'store');
  let entry = AGENT_MAIN;
  if (opts.bundled) {
    entry = path.join(dir, 'bin', 'axagent.js');
    await fsp.mkdir(path.dirname(entry));
    await fsp.copyFile(AGENT_BUNDLE, entry);
  }
  const mode = opts.mode ?? 'listen';
  const args = [entry, ...(mode === 'listen' ? ['--listen', '127.0.0.1:0'] : ['--stdio']), '--store', storeDir, '--run-joint', opts.runJoint ?? SIM_RUN_JOINT, '--token-file', tokenFile, ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let url = '';
  if (mode === 'listen') {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent did not start: ${stderr}`)), 20_000);
      child.stderr.on('data', () => {
        const m = /listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`agent exited with ${code}: ${stderr}`)));
    });
  }
  let stdioTransport: Transport | null = null;
  const agent: AgentProcess = {
    dir,
    storeDir,
    token,
    child,
    url,
    stderr: () => stderr,
    transport: async () => {
      if (mode === 'listen') return openTransport(url);
      if (stdioTransport) throw new Error('a stdio agent serves one connection');
      stdioTransport = new StreamTransport(child.stdout, child.stdin, { peer: 'agent stdio' });
      return stdioTransport;
    },
    connect: async (connectOpts = {}) => AgentClient.connect(await agent.transport(), { token, ...connectOpts }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      await fsp.rm(dir, { recursive: true, force: true });
      return code;
    },
  };
  return agent;
}

/** A file of `size` random bytes in `dir`, with its sha256. */
export async function randomFile(dir: string, name: string, size: number): Promise<{ file: string; hash: string; data: Buffer }> {
  const data = randomBytes(size);
  const file = path.join(dir, name);
  await fsp.writeFile(file, data);
  return { file, hash: sha256(data), data };
}

/** Counts what a transport sends, by decoding it: upload data (PutChunk bytes) and envelopes by body. */
export function watchSends(transport: Transport): { bytes(): number; sent(body: string): number } {
  let counted = 0;
  const bodies = new Map<string, number>();
  const send = transport.send.bind(transport);
  transport.send = (message: Uint8Array) => {
    const env = decodeEnvelope(message);
    if (env.body === 'putChunk') counted += env.putChunk.data.length;
    if (env.body) bodies.set(env.body, (bodies.get(env.body) ?? 0) + 1);
    return send(message);
  };
  return { bytes: () => counted, sent: (body) => bodies.get(body) ?? 0 };
}

/**
 * An authenticated connection that skips the client's own checks, to send what a hostile or
 * broken host would. `request` resolves with the answer envelope (an Error included).
 */
export async function rawSession(agent: AgentProcess): Promise<{ channel: Channel; request(build: (id: number) => Envelope): Promise<Envelope> }> {
  const channel = new Channel(await agent.transport(), 20_000);
  await handshake(channel, { secret: Buffer.from(agent.token), clientVersion: 'test', timeoutMs: 10_000 });
  return {
    channel,
    request: (build) =>
      new Promise((resolve) => {
        const call = channel.open('raw request', {
          onEnvelope: (env) => {
            call.close();
            resolve(env);
          },
          onError: (err) => resolve({ id: call.id, body: 'error', error: { code: err.code, message: err.message, hint: err.hint ?? '', exitCode: err.exitCode } }),
        });
        void channel.send(build(call.id));
      }),
  };
}

/** Collects every envelope that arrives on a bare transport (no client logic at all). */
export function collect(transport: Transport): { envelopes: Envelope[]; next(body?: string): Promise<Envelope> } {
  const envelopes: Envelope[] = [];
  const unread: Envelope[] = [];
  const waiters: Array<{ body?: string; resolve: (e: Envelope) => void }> = [];
  transport.on('message', (bytes) => {
    const env = decodeEnvelope(bytes);
    envelopes.push(env);
    const i = waiters.findIndex((w) => !w.body || w.body === env.body);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(env);
    else unread.push(env);
  });
  return {
    envelopes,
    next: (body) =>
      new Promise((resolve) => {
        const i = unread.findIndex((e) => !body || e.body === body);
        if (i >= 0) resolve(unread.splice(i, 1)[0]!);
        else waiters.push({ body, resolve });
      }),
  };
}
