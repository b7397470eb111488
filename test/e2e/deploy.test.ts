/**
 * `axctl deploy` end to end: what it sends, what it records in .axctl/, a bare verify that
 * follows it, a re-deploy that sends nothing, and an upload cut in the middle and resumed.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import type { VerifyReport } from '../../host/report/model';
import { mountTmpfs } from '../agent/tmpfs';
import { startCutProxy } from './cut-proxy';
import { Cleanup, makeFixture, parseJson, requireBuild, runCli, startAgent, targetArgs, tempDir, type Agent } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

interface DeployJson {
  board: { given: string; url: string };
  model: { path: string; hash: string; size: number; present: boolean; sentBytes: number; resumedFrom: number };
  inputs: { name: string; path: string; hash: string; size: number; present: boolean; sentBytes: number }[];
  sentBytes: number;
  inputNamesKnown: boolean;
  listing: 'cache' | 'board' | 'none';
  listingProblem: string | null;
  state: string;
}

async function connect(agent: Agent): Promise<AgentClient> {
  const client = await AgentClient.connect(await openTransport(agent.url), { token: agent.token });
  cleanup.add(() => client.close());
  return client;
}

describe('axctl deploy', () => {
  it('uploads model and gt inputs, records them in .axctl/, and a bare verify uses the record', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const first = await runCli(['deploy', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    expect(first.code).toBe(0);
    const deployed = parseJson<DeployJson>(first);
    const modelBytes = await fsp.readFile(fx.model);
    expect(deployed.model).toMatchObject({ path: fx.model, size: modelBytes.length, present: false, sentBytes: modelBytes.length, resumedFrom: 0 });
    expect(deployed.model.hash).toBe(createHash('sha256').update(modelBytes).digest('hex'));
    expect(deployed.inputs.map((i) => i.name)).toEqual(['data']);
    expect(deployed.sentBytes).toBe(modelBytes.length + 3072);

    const state = JSON.parse(await fsp.readFile(path.join(dir, '.axctl', 'state.json'), 'utf8'));
    expect(state).toMatchObject({ version: 1, board: agent.url, model: { path: 'data/classifier.joint', hash: deployed.model.hash }, gt: { path: 'data/gt-classifier' } });
    expect(state.gt.inputs[0]).toMatchObject({ path: 'data/gt-classifier/input/data.bin', size: 3072 });
    expect(JSON.stringify(state)).not.toContain(agent.token);

    const bare = await runCli(['verify', '--json'], { cwd: dir });
    expect(bare.code).toBe(0);
    const report = parseJson<VerifyReport>(bare);
    expect(report).toMatchObject({ verdict: 'match', model: { path: 'data/classifier.joint', hash: deployed.model.hash }, gt: { path: 'data/gt-classifier' } });
    const after = JSON.parse(await fsp.readFile(path.join(dir, '.axctl', 'state.json'), 'utf8'));
    expect(after.lastVerify).toMatchObject({ verdict: 'match', exitCode: 0 });
  });

  it('a verify of another board leaves the record alone; an empty --board is an error, not the recorded board', async () => {
    const deployedTo = await startAgent(cleanup);
    const other = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    expect((await runCli(['deploy', ...targetArgs(deployedTo, fx)], { cwd: dir })).code).toBe(0);
    const record = () => fsp.readFile(path.join(dir, '.axctl', 'state.json'), 'utf8').then((t) => JSON.parse(t) as { board: string; tokenFile?: string; lastVerify?: unknown });
    const before = await record();
    expect((await runCli(['verify', ...targetArgs(other, fx)], { cwd: dir })).code).toBe(0);
    expect(await record()).toEqual(before); // still the deploy's board, token file and no verdict of another board
    const bare = await runCli(['verify', '--json'], { cwd: dir });
    expect(bare.code).toBe(0);
    expect(parseJson<VerifyReport>(bare).board.url).toBe(deployedTo.url);
    expect((await record()).lastVerify).toMatchObject({ verdict: 'match' });
    for (const empty of ['', ' ']) {
      const res = await runCli(['verify', '--board', empty], { cwd: dir });
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(/--board|board/);
    }
  });

  it('a verify naming the deployed board, model and gt without a token takes the recorded --token-file (a trailing / too)', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    expect((await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    for (const board of [agent.url, `${agent.url}/`]) {
      const res = await runCli(['verify', '--board', board, '--model', fx.model, '--gt', fx.gt], { cwd: dir });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
    }
  });

  it('a record it cannot update: the verdict and its exit code stand, and one warning line says why and what to do', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    // Root writes through chmod: a read-only filesystem stops root too and keeps the record readable.
    const stateDir = path.join(dir, '.axctl');
    cleanup.add(await mountTmpfs(stateDir, 'size=1m'));
    expect((await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    execFileSync('mount', ['-o', 'remount,ro', stateDir], { stdio: 'pipe' });
    const before = await fsp.readFile(path.join(stateDir, 'state.json'), 'utf8');
    const warning = `axctl: warning: the verdict could not be recorded in ${path.join(stateDir, 'state.json')}: the filesystem is read-only (make ${stateDir} writable; the next verify records its verdict)\n`;
    const bare = await runCli(['verify', '--json'], { cwd: dir });
    expect(bare.stderr).toBe(warning);
    expect(bare.code).toBe(0);
    expect(parseJson<VerifyReport>(bare).verdict).toBe('match');
    const text = await runCli(['verify'], { cwd: dir });
    expect(text.stdout).toMatch(/MATCH/);
    expect(text.stderr).toBe(warning);
    expect(text.code).toBe(0);
    expect(await fsp.readFile(path.join(stateDir, 'state.json'), 'utf8')).toBe(before);
  });

  it('sends nothing the second time', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'multi-input');
    expect((await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    const again = await runCli(['deploy', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    const second = parseJson<DeployJson>(again);
    expect(second.sentBytes).toBe(0);
    expect(second.model.present).toBe(true);
    expect(second.inputs).toHaveLength(3);
    expect(second.inputs.every((i) => i.present && i.sentBytes === 0)).toBe(true);
  });

  it('a bare verify after the model changed sends the new model and records it', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    expect((await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    // Same model, other bytes: a trailing newline after the JSON.
    await fsp.appendFile(fx.model, '\n');
    const newHash = createHash('sha256').update(await fsp.readFile(fx.model)).digest('hex');
    const client = await connect(agent);
    expect((await client.has([newHash]))[0]!.present).toBe(false);
    const res = await runCli(['verify', '--json'], { cwd: dir });
    expect(res.code).toBe(0);
    expect(parseJson<VerifyReport>(res).model.hash).toBe(newHash);
    expect((await client.has([newHash]))[0]!.present).toBe(true);
    const state = JSON.parse(await fsp.readFile(path.join(dir, '.axctl', 'state.json'), 'utf8'));
    expect(state.model.hash).toBe(newHash);
  });

  it('resumes an upload cut in the middle: the blob arrives intact and no stored byte is sent again', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const big = randomBytes(12 * 1024 * 1024);
    const model = path.join(dir, 'big.joint');
    await fsp.writeFile(model, big);
    const hash = createHash('sha256').update(big).digest('hex');
    const proxy = await startCutProxy(new URL(agent.url), 5 * 1024 * 1024);
    cleanup.add(() => proxy.close());

    const cutRun = await runCli(['deploy', '--board', `ws://127.0.0.1:${proxy.port}`, '--model', model, '--gt', fx.gt, '--token-file', agent.tokenFile], { cwd: dir });
    await proxy.cut;
    expect(cutRun.code).toBe(5);
    expect(cutRun.stderr).toMatch(/connection .* lost|closed/);

    const client = await connect(agent);
    const [partial] = await client.has([{ hash, size: big.length }]);
    expect(partial!.present).toBe(false);
    expect(partial!.partialOffset).toBeGreaterThan(0);
    expect(partial!.partialOffset).toBeLessThanOrEqual(proxy.forwarded());

    const resumed = await runCli(['deploy', '--board', agent.url, '--model', model, '--gt', fx.gt, '--token-file', agent.tokenFile, '--json'], { cwd: dir });
    expect(resumed.code).toBe(0);
    const out = parseJson<DeployJson>(resumed);
    expect(out.model.resumedFrom).toBe(partial!.partialOffset);
    expect(out.model.sentBytes).toBe(big.length - partial!.partialOffset);

    const back = path.join(dir, 'back.bin');
    await client.getBlob(hash, big.length, back);
    expect((await fsp.readFile(back)).equals(big)).toBe(true);
  });

  it('has the board list a model it has not seen run, and refuses a gt input of the wrong size before sending the inputs (exit 3)', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const input = path.join(fx.gt, 'input', 'data.bin');
    await fsp.truncate(input, 3000);
    const res = await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir });
    expect(res.code).toBe(3);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^axctl: .*data\.bin is 3000 bytes, model input 'data' \(uint8 \[1,32,32,3\]\) needs 3072: run_joint would use random data/);
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    // The model went up (the board had to read it); the unfit input did not.
    const client = await connect(agent);
    const modelBytes = await fsp.readFile(fx.model);
    const inputBytes = await fsp.readFile(input);
    const [model, sent] = await client.has([
      { hash: createHash('sha256').update(modelBytes).digest('hex'), size: modelBytes.length },
      { hash: createHash('sha256').update(inputBytes).digest('hex'), size: inputBytes.length },
    ]);
    expect(model!.present).toBe(true);
    expect(sent!.present).toBe(false);
    expect(sent!.partialOffset).toBe(0);
    await expect(fsp.access(path.join(dir, '.axctl', 'state.json'))).rejects.toThrow();
  });

  it('reports where the input names came from: the board, then the cache; a re-deploy of what the board holds asks nothing; --no-describe', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const first = await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir, cacheHome: path.join(dir, 'cache-a') });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/the board listed the model's inputs: every gt input has its file, of the size run_joint reads/);
    const again = parseJson<DeployJson>(await runCli(['deploy', '--json'], { cwd: dir, cacheHome: path.join(dir, 'cache-a') }));
    expect(again).toMatchObject({ listing: 'cache', inputNamesKnown: true, sentBytes: 0 });
    const againText = await runCli(['deploy'], { cwd: dir, cacheHome: path.join(dir, 'cache-a') });
    expect(againText.stdout).toMatch(/the model's inputs as run_joint listed them before \(cached\): every gt input has its file/);
    expect(againText.stdout).not.toMatch(/the board listed/);
    // Another host (no listing cached) re-deploying what the board already holds: nothing sent, nothing asked.
    const elsewhere = parseJson<DeployJson>(await runCli(['deploy', '--json'], { cwd: dir, cacheHome: path.join(dir, 'cache-b') }));
    expect(elsewhere).toMatchObject({ listing: 'none', inputNamesKnown: false, sentBytes: 0, listingProblem: null });
    // --no-describe on a board that lacks everything: uploaded, not listed.
    const other = await startAgent(cleanup);
    const skipped = parseJson<DeployJson>(await runCli(['deploy', ...targetArgs(other, fx), '--json', '--no-describe'], { cwd: dir, cacheHome: path.join(dir, 'cache-c') }));
    expect(skipped).toMatchObject({ listing: 'none', inputNamesKnown: false, listingProblem: null });
    expect(skipped.sentBytes).toBeGreaterThan(0);
  });


  it('still deploys a model run_joint cannot load, noting why it could not be listed', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    await fsp.writeFile(fx.model, 'not a joint model');
    const res = await runCli(['deploy', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    expect(res.code).toBe(0);
    const out = parseJson<DeployJson>(res);
    expect(out).toMatchObject({ listing: 'none', inputNamesKnown: false });
    expect(out.listingProblem).toMatch(/Assertion|assert|run_joint/);
    expect(out.inputs.map((i) => i.present || i.sentBytes > 0)).toEqual([true]);
  });

  it('--timeout bounds the run_joint start that lists a new model: a hanging model is still deployed, with the reason', async () => {
    const agent = await startAgent(cleanup, { fault: 'hang' });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const started = Date.now();
    const res = await runCli(['deploy', ...targetArgs(agent, fx), '--timeout', '1', '--json'], { cwd: dir });
    // The agent's own limit is 600 s: finishing in seconds shows --timeout reached the board.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(res.code).toBe(0);
    const out = parseJson<DeployJson>(res);
    expect(out).toMatchObject({ listing: 'none', inputNamesKnown: false });
    // The limit, not how long the stopped run took.
    expect(out.listingProblem).toContain("did not finish listing the model's inputs and outputs within 1000 ms");
    const bad = await runCli(['deploy', ...targetArgs(agent, fx), '--timeout', '0'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout 0: expected a number of seconds from 0.001 (1 ms)');
  });

  it('under a small store cap, a verify does not evict its own input to upload its model (farm rotating models)', async () => {
    // Model A + input X fit, B + X fit, all three do not: each upload evicts the least recently used.
    const agent = await startAgent(cleanup, { args: ['--store-cap', '9000'] });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const original = await fsp.readFile(fx.model);
    const modelB = path.join(dir, 'data', 'b.joint');
    // The simulator's joint is a magic line and JSON: trailing whitespace makes other models of one size.
    await fsp.writeFile(fx.model, Buffer.concat([original, Buffer.alloc(4000 - original.length, 0x20)]));
    await fsp.writeFile(modelB, Buffer.concat([original, Buffer.alloc(4000 - original.length, 0x0a)]));
    const run = (model: string, ...more: string[]) => runCli([...more, '--board', agent.url, '--model', model, '--gt', fx.gt, '--token-file', agent.tokenFile], { cwd: dir });
    expect((await run(fx.model, 'deploy')).code).toBe(0);
    expect((await run(modelB, 'deploy')).code).toBe(0); // evicts A; X was just asked for
    const res = await run(fx.model, 'verify', '--json'); // uploads A again, evicting B, not X
    expect(res.stderr).not.toContain('not on the board');
    expect(res.code).toBe(0);
    expect(parseJson<VerifyReport>(res).verdict).toBe('match');
  });

  it('refuses, sending nothing, a model and inputs that do not fit in the store together (STORE_FULL, exit 2); so does verify', async () => {
    // Model 976 B + input 3072 B under a 3 KiB cap: each fits alone, so the upload of the input
    // would evict the model, and "deployed" would name a board that no longer holds it.
    const agent = await startAgent(cleanup, { args: ['--store-cap', '3K'] });
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const total = (await fsp.stat(fx.model)).size + (await fsp.stat(path.join(fx.gt, 'input', 'data.bin'))).size;
    const res = await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`the model and its inputs take ${total} bytes (4.0 KiB), more than the ${agent.url} agent's store cap of 3072 bytes (3.0 KiB)`);
    expect(res.stdout).not.toContain('deployed');
    const json = await runCli(['deploy', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'STORE_FULL', exitCode: 2 } });
    expect(await fsp.readdir(path.join(agent.storeDir, 'blobs')).catch(() => [] as string[])).toEqual([]);
    await expect(fsp.access(path.join(dir, '.axctl'))).rejects.toThrow();
    // verify says the same before the run, not "the store keeps evicting ... what its hosts use at once".
    const verify = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(2);
    expect(verify.stderr).toContain(`the model and its inputs take ${total} bytes (4.0 KiB), more than the ${agent.url} agent's store cap of 3072 bytes (3.0 KiB)`);
    expect(verify.stderr).not.toContain('keeps evicting');
  });

  it('refuses a gt folder without inputs before connecting (exit 2)', async () => {
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    for (const f of await fsp.readdir(path.join(fx.gt, 'input'))) await fsp.rm(path.join(fx.gt, 'input', f));
    const res = await runCli(['deploy', '--board', 'ws://127.0.0.1:9', '--model', fx.model, '--gt', fx.gt], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/input: holds no \.bin or \.npy input files/);
  });

  it('without a token says where one comes from (exit 2)', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const res = await runCli(['deploy', '--board', agent.url, '--model', fx.model, '--gt', fx.gt], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no token .* --token-file/);
  });

  it('AXCTL_TOKEN wins over the token file .axctl/ recorded (it is only a remembered --token-file)', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    expect((await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    expect((await runCli(['verify'], { cwd: dir })).code).toBe(0); // the recorded token file
    const res = await runCli(['verify'], { cwd: dir, env: { AXCTL_TOKEN: 'another-token-0123456789abcdef' } });
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/authentication failed/);
  });

  it('takes the token from AXCTL_TOKEN', async () => {
    const agent = await startAgent(cleanup);
    const dir = await tempDir(cleanup);
    const fx = await makeFixture(path.join(dir, 'data'), 'classifier');
    const res = await runCli(['deploy', '--board', agent.url, '--model', fx.model, '--gt', fx.gt], { cwd: dir, env: { AXCTL_TOKEN: agent.token } });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^deployed to ws:/);
  });

  it('a bare verify where nothing was deployed asks for the options (exit 2)', async () => {
    const dir = await tempDir(cleanup);
    const res = await runCli(['verify'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no --board given, and nothing was deployed from this folder/);
  });
});
