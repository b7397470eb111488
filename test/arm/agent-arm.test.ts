/**
 * The bundled agent on the boards' own CPU: dist/axagent.js, copied to a folder without
 * node_modules, runs on a 32-bit Arm Node 18 under qemu-arm-static, with the board simulator
 * (also on the Arm node) as run_joint. The host side (native Node) uploads a model and its gt
 * inputs, runs it, fetches the outputs and compares them with gt/joint byte for byte, then
 * `axctl verify` does the same through the CLI and must say `match`.
 * Start-up time under qemu is printed, not asserted. Needs `npm run build` and
 * `sh scripts/arm-node.sh` (the test fails, saying so, when either is missing).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';
import { makeGt, makeModel } from '../../scripts/sim/make-gt';
import { StreamTransport } from '../../shared/transport/stream';
import { ROOT, armRunJointScript, findArmNode, spawnArm, type ArmNode } from './arm-node';

const BUNDLE = path.join(ROOT, 'dist/axagent.js');
const SIM = path.join(ROOT, 'dist/scripts/sim/run-joint.js');
const CLI = path.join(ROOT, 'dist/host/cli.js');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

interface Board {
  dir: string;
  agentFile: string;
  args: string[];
  token: string;
}

async function prepareBoard(arm: ArmNode): Promise<Board> {
  for (const file of [BUNDLE, SIM, CLI]) if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-arm-'));
  const agentFile = path.join(dir, 'opt/axagent.js');
  await fsp.mkdir(path.dirname(agentFile));
  await fsp.copyFile(BUNDLE, agentFile);
  const runJoint = path.join(dir, 'run_joint');
  await fsp.writeFile(runJoint, armRunJointScript(arm), { mode: 0o755 });
  const token = randomBytes(32).toString('hex');
  await fsp.writeFile(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  return { dir, agentFile, token, args: ['--store', path.join(dir, 'store'), '--run-joint', runJoint, '--token-file', path.join(dir, 'token')] };
}

describe('the bundled agent on a 32-bit Arm Node 18 (qemu-arm-static)', () => {
  let arm: ArmNode;
  let board: Board;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    arm = findArmNode();
    board = await prepareBoard(arm);
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    if (board) await fsp.rm(board.dir, { recursive: true, force: true });
  });

  it('listens on loopback, reports an arm board, and runs a model whose outputs equal gt/joint', async () => {
    const started = Date.now();
    const child = spawnArm(arm, [board.agentFile, '--listen', '127.0.0.1:0', ...board.args], { cwd: board.dir });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    stops.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Arm agent did not start within 60 s: ${stderr}`)), 60_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then(() => reject(new Error(`the Arm agent exited: ${stderr}`)));
    });
    const startupMs = Date.now() - started;

    const connectStarted = Date.now();
    const client = await AgentClient.connect(await openTransport(url), { token: board.token, timeoutMs: 30_000, requestTimeoutMs: 120_000 });
    const handshakeMs = Date.now() - connectStarted;
    try {
      expect(client.hello.facts.arch).toBe('arm');
      expect(client.hello.facts.nodeVersion).toMatch(/^v18\./);

      const model = path.join(board.dir, 'host/classifier.joint');
      await fsp.mkdir(path.dirname(model), { recursive: true });
      makeModel('classifier', model);
      const gt = await makeGt(model, path.join(board.dir, 'host/gt'), { seed: 11 });
      const upload = async (file: string) => {
        const data = await fsp.readFile(file);
        const hash = sha256(data);
        await client.putFile(file, hash, data.length);
        return hash;
      };
      const modelHash = await upload(model);
      const inputs = [];
      for (const input of gt.inputs) inputs.push({ name: input.name, hash: await upload(input.bin) });

      const runStarted = Date.now();
      const result = await client.run({ modelHash, inputs, repeat: 2 });
      const runMs = Date.now() - runStarted;
      expect(result.problems).toEqual([]);
      expect(result.status).toBe('ok');
      expect(result.outputs.length).toBe(gt.joint.length);
      for (const expected of gt.joint) {
        const output = result.outputs.find((o) => o.name === expected.name);
        expect(output, `output ${expected.name}`).toBeDefined();
        const fetched = path.join(board.dir, 'host/out', path.basename(expected.bin));
        await client.getBlob(output!.hash, output!.size, fetched);
        expect((await fsp.readFile(fetched)).equals(await fsp.readFile(expected.bin))).toBe(true);
      }
      expect((await client.facts()).runJointVersion).toBe('0.5.10');

      // A blob of several 1 MiB chunks goes through the upload slabs and a young-generation
      // collection (every 4 MiB: agent/session/transfer-memory.ts) on this Node 18, and back.
      const big = path.join(board.dir, 'host/big.bin');
      await fsp.writeFile(big, randomBytes(6 * 1024 * 1024 + 5));
      const bigHash = await upload(big);
      await client.getBlob(bigHash, 6 * 1024 * 1024 + 5, path.join(board.dir, 'host/big-back.bin'));
      expect((await fsp.readFile(path.join(board.dir, 'host/big-back.bin'))).equals(await fsp.readFile(big))).toBe(true);
      expect(stderr).not.toContain('garbage collection'); // the agent found it on Node 18
      console.log(`arm agent under qemu: start-up ${startupMs} ms, handshake ${handshakeMs} ms, run_joint (simulator, also on arm) ${runMs} ms`);
    } finally {
      await client.close();
    }

    // The same board through the user's command: axctl verify (native host, Arm agent).
    const verify = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'verify', '--board', url, '--model', 'host/classifier.joint', '--gt', 'host/gt', '--token-file', path.join(board.dir, 'token'), '--connect-timeout', '60', '--json'], { cwd: board.dir, timeout: 180_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
      });
    });
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as { verdict: string; board: { agentVersion: string }; outputs: { exact: boolean }[] };
    expect(report.verdict).toBe('match');
    expect(report.outputs.every((o) => o.exact)).toBe(true);
  }, 300_000); // emulated Arm is slow, and slower still on a busy machine

  it('serves one connection on stdio (as through ssh)', async () => {
    const started = Date.now();
    const child = spawnArm(arm, [board.agentFile, '--stdio', ...board.args], { cwd: board.dir });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    stops.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    const transport = new StreamTransport(child.stdout, child.stdin, { peer: 'arm agent stdio' });
    const client = await AgentClient.connect(transport, { token: board.token, timeoutMs: 60_000 });
    const readyMs = Date.now() - started;
    expect(client.hello.facts.arch).toBe('arm');
    expect(client.hello.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    await client.close();
    expect(await exited).toBe(0);
    console.log(`arm agent under qemu, stdio: spawn to authenticated ${readyMs} ms`);
  }, 120_000);
});

describe('without the Arm root', () => {
  it('fails saying how to make it (never skips)', () => {
    expect(() => findArmNode({ AXCTL_ARM_ROOT: '/nonexistent/arm-root' })).toThrow(/no 32-bit Arm Node at \/nonexistent\/arm-root: run `sh scripts\/arm-node\.sh`/);
  });
});
