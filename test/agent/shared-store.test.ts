/**
 * Two `axagent --stdio` processes on one store — two hosts reaching one board over ssh:// at
 * once — share one owner: the second relays to the first, so both hosts see one store and one
 * run queue (the second run waits for the first and is told its place), and the first
 * process keeps serving the relayed host after its own host has left. A listening agent
 * (the service) started meanwhile relays to the owner, then takes the store over.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LISTEN_LIMITS } from '../../agent/serve-listen';
import type { AgentClient } from '../../host/client/agent-client';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { AGENT_MAIN, SIM_RUN_JOINT } from '../built';
import { tempDirs } from '../temp-dirs';
import { sha256, startAgent, type AgentProcess } from './helpers';

const SLOW_MS = 3000;
const agents: AgentProcess[] = [];
const preloadDirs = tempDirs('axctl-loaded-');
afterAll(async () => {
  for (const agent of agents.reverse()) await agent.stop();
  preloadDirs.cleanup();
});

async function upload(client: AgentClient, file: string): Promise<string> {
  const data = await fsp.readFile(file);
  const hash = sha256(data);
  await client.putFile(file, hash, data.length);
  return hash;
}

/**
 * A second --stdio agent of `owner`'s store, and a host connected through it once it relays.
 * The host authenticates with the owner: the token of the process that serves the store.
 */
async function connectThroughRelay(owner: AgentProcess): Promise<AgentClient> {
  const relay = await startAgent({ mode: 'stdio', storeDir: owner.storeDir });
  agents.push(relay);
  const client = await relay.connect({ token: owner.token });
  await vi.waitFor(() => expect(relay.stderr()).toMatch(/another agent process owns .*; relaying this connection to it/));
  return client;
}

describe('two --stdio agents on one store', () => {
  it('the second relays to the first: one store, one run queue, and the relayed host is served to the end', async () => {
    // Every run takes 3 s more on the owner, so the second run surely waits (even on a busy machine).
    const owner = await startAgent({ mode: 'stdio', env: { AXSIM_FAULT: `slow=${SLOW_MS}` } });
    agents.push(owner);
    // Answering means it has claimed the store (the claim comes before the store is opened).
    const first = await owner.connect();
    const second = await connectThroughRelay(owner);

    const model = path.join(owner.dir, 'm.joint');
    makeModel('classifier', model);
    const gt = await makeGt(model, path.join(owner.dir, 'gt'), { seed: 5 });
    const modelHash = await upload(first, model);
    const inputs = [{ name: gt.inputs[0]!.name, hash: await upload(first, gt.inputs[0]!.bin) }];
    // What the first host uploaded is in the second host's store too.
    expect((await second.has([modelHash]))[0]!.present).toBe(true);

    const started = Date.now();
    // The second run is asked for once the first is running: its job folder is on the owner's
    // store. Not on its first log line: run_joint's stdout into a pipe is fully buffered (the
    // simulator's too), so its lines come as it exits, and the second run could then come
    // after the first has ended (seen under a full test run's load).
    const firstRun = first.run({ modelHash, inputs });
    await vi.waitFor(async () => expect((await fsp.readdir(path.join(owner.storeDir, 'jobs'))).length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    const positions: number[] = [];
    const secondRun = second.run({ modelHash, inputs }, { onQueue: (p) => positions.push(p) });
    const a = await firstRun;
    await first.close(); // the owner's own host leaves while the relayed run waits or runs
    const b = await secondRun;
    expect(a.status).toBe('ok');
    expect(b.status).toBe('ok');
    expect(positions[0]).toBe(1); // behind the first host's run
    expect(b.outputs.map((o) => o.hash)).toEqual(a.outputs.map((o) => o.hash));
    expect(Date.now() - started).toBeGreaterThan(2 * SLOW_MS); // one after the other, not side by side
    await second.close();
  });

  it('the store folder deleted under a running owner: the next --stdio agent still relays to it, not a second owner', async () => {
    const owner = await startAgent({ mode: 'stdio' });
    agents.push(owner);
    const first = await owner.connect();
    await fsp.rm(owner.storeDir, { recursive: true, force: true }); // agent.sock goes with it
    await vi.waitFor(() => fsp.lstat(path.join(owner.storeDir, 'agent.sock')), { timeout: 5000, interval: 100 });
    const second = await connectThroughRelay(owner);
    // One store: what the first host uploads after the deletion, the second host sees.
    const model = path.join(owner.dir, 'after-rm.joint');
    makeModel('classifier', model);
    const modelHash = await upload(first, model);
    expect((await second.has([modelHash]))[0]!.present).toBe(true);
  });

  it('a relaying --stdio agent exits as its owner would: 0 when its host leaves, 1 when the owner hangs up (a wrong token)', async () => {
    const owner = await startAgent({ mode: 'stdio' });
    agents.push(owner);
    await owner.connect();
    const exitOf = (agent: AgentProcess) => new Promise<number | null>((resolve) => agent.child.once('exit', (code) => resolve(code)));
    const clean = await startAgent({ mode: 'stdio', storeDir: owner.storeDir });
    agents.push(clean);
    const cleanExit = exitOf(clean);
    const client = await clean.connect({ token: owner.token });
    await vi.waitFor(() => expect(clean.stderr()).toMatch(/relaying this connection to it/));
    await client.close();
    expect(await cleanExit).toBe(0);

    const refused = await startAgent({ mode: 'stdio', storeDir: owner.storeDir });
    agents.push(refused);
    const refusedExit = exitOf(refused);
    await expect(refused.connect({ token: 'not-the-owners-token-0123456789' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(await refusedExit).toBe(1);
    expect(refused.stderr()).toMatch(/the store's owner ended the relayed connection/);
  });

  it('a --serial agent waiting for the store owner stops cleanly on SIGTERM (exit 0, not 143)', async () => {
    const owner = await startAgent({ mode: 'stdio' });
    agents.push(owner);
    await owner.connect(); // it has claimed the store
    const tokenFile = path.join(owner.dir, 'waiter.token');
    await fsp.writeFile(tokenFile, `${owner.token}\n`, { mode: 0o600 });
    // The device is opened only once the store is ours: a name that does not exist is fine here.
    const waiter = spawn(process.execPath, [AGENT_MAIN, '--serial', '/dev/ttyNONE', '--baud', '115200', '--store', owner.storeDir, '--run-joint', SIM_RUN_JOINT, '--token-file', tokenFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    waiter.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => waiter.once('exit', (code) => resolve(code)));
    await vi.waitFor(() => expect(stderr).toMatch(/another agent process owns the store .*; waiting for it to stop/), { timeout: 10_000, interval: 100 });
    waiter.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/stopping \(it was still waiting for the store\)/);
  });

  it('a listening agent started while a --stdio agent owns the store relays to it, then takes the store over', async () => {
    const owner = await startAgent({ mode: 'stdio' });
    agents.push(owner);
    const viaStdio = await owner.connect();
    const service = await startAgent({ mode: 'listen', storeDir: owner.storeDir, token: owner.token });
    agents.push(service);
    expect(service.stderr()).toMatch(/another agent process owns .*; relaying connections to it until it stops/);
    // Served by the owner, through the listening agent.
    const relayed = await service.connect();
    const data = Buffer.from('one store for both');
    await viaStdio.putBytes(data, sha256(data));
    expect((await relayed.has([sha256(data)]))[0]!.present).toBe(true);
    // Authenticated by the owner, the relayed host is past the listener's limit for unauthenticated bytes.
    const large = randomBytes(4 * LISTEN_LIMITS.maxUnauthenticatedBytes);
    await relayed.putBytes(large, sha256(large));
    // Both hosts leave: the --stdio owner ends, and the listening agent owns the store.
    await relayed.close();
    await viaStdio.close();
    await vi.waitFor(() => expect(service.stderr()).toMatch(/owns .* now/), { timeout: 10_000, interval: 100 });
    const direct = await service.connect();
    expect((await direct.has([sha256(data)]))[0]!.present).toBe(true);
    await direct.close();
  });

  it('a relaying --stdio agent loads none of the serving code (protocol, store, WebSocket), which the owner does load', async () => {
    // The unbundled agent (one file per module), with a preload that lists every module it loaded when it exits.
    const preload = path.join(preloadDirs.make(), 'loaded.js');
    await fsp.writeFile(preload, "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n");
    const env = { NODE_OPTIONS: `--require ${preload}` };
    const owner = await startAgent({ mode: 'stdio', env });
    agents.push(owner);
    const first = await owner.connect();
    const relay = await startAgent({ mode: 'stdio', storeDir: owner.storeDir, env });
    agents.push(relay);
    const second = await relay.connect({ token: owner.token });
    const data = Buffer.from('served through the relay');
    await second.putBytes(data, sha256(data));
    expect((await first.has([sha256(data)]))[0]!.present).toBe(true);
    await second.close();
    await first.close();
    const loaded = async (agent: AgentProcess) => {
      await vi.waitFor(() => expect(agent.stderr()).toMatch(/^LOADED /m), { timeout: 10_000, interval: 100 });
      const modules = JSON.parse(/^LOADED (.*)$/m.exec(agent.stderr())![1]!) as string[];
      return modules.map((m) => path.relative(path.resolve('dist'), m).split(path.sep).join('/'));
    };
    const serving = /^(agent\/(serve|start-session|serve-listen)\.js|agent\/(session|store|run)\/|shared\/protocol\/(frame|envelope)|shared\/transport\/)|node_modules\/(protobufjs|ws)\//;
    const relayModules = await loaded(relay);
    expect(relayModules).toContain('agent/store-owner.js'); // the list is real
    expect(relayModules.filter((m) => serving.test(m))).toEqual([]);
    const ownerModules = await loaded(owner);
    expect(ownerModules).toContain('agent/serve.js');
    expect(ownerModules.some((m) => m.includes('node_modules/protobufjs/'))).toBe(true);
  });
});

describe('the socket of a store with a long path', () => {
  const temp = tempDirs('axctl-socket-dir-');
  afterEach(() => temp.cleanup());

  it("goes in the user's private temp folder: a squatter in the shared one is ignored, a folder not private refused", async () => {
    const tmp = temp.make();
    const store = path.join(temp.make(), 'x'.repeat(120), 'store');
    // Another user listens where the socket of this store used to go.
    const legacy = path.join(tmp, `axagent-${sha256(Buffer.from(path.resolve(store))).slice(0, 16)}.sock`);
    const squatter = net.createServer((socket) => socket.end('not an agent'));
    await new Promise<void>((resolve) => squatter.listen(legacy, resolve));
    try {
      const agent = await startAgent({ mode: 'stdio', storeDir: store, env: { TMPDIR: tmp } });
      agents.push(agent);
      const client = await agent.connect(); // served by the agent itself, not relayed
      await client.close();
      expect(agent.stderr()).not.toContain('relaying');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }

    const blocked = temp.make();
    await fsp.mkdir(path.join(blocked, `axagent-${process.getuid!()}`));
    await fsp.chown(path.join(blocked, `axagent-${process.getuid!()}`), 65534, 65534);
    const refused = await startAgent({ mode: 'stdio', storeDir: store, env: { TMPDIR: blocked } });
    agents.push(refused);
    expect(await new Promise((resolve) => refused.child.once('exit', resolve))).toBe(2);
    expect(refused.stderr()).toMatch(/^axagent: .*axagent-\d+ belongs to user 65534, not to this agent's user \(\d+\), so the store's socket cannot safely go there \(another user may have made it/m);
  });
});
