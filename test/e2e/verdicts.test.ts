/**
 * Every verdict and exit code of `axctl verify`, end to end: the CLI as a child process, the
 * agent as its own process on loopback, the board simulator with its fault switches.
 */
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../host/report/model';
import { writeNpy } from '../../shared/tensor';
import { openTensor, readAll } from '../../shared/tensor/open';
import { Cleanup, makeFixture, parseJson, requireBuild, runCli, startAgent, targetArgs, tempDir, type Fixture } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

async function fixture(kind: 'classifier' | 'multi-input' = 'classifier'): Promise<{ dir: string; fx: Fixture }> {
  const dir = await tempDir(cleanup);
  return { dir, fx: await makeFixture(path.join(dir, 'data'), kind) };
}

async function verifyJson(fault: string | undefined, kind: 'classifier' | 'multi-input' = 'classifier', extra: string[] = []) {
  const agent = await startAgent(cleanup, { fault });
  const { dir, fx } = await fixture(kind);
  const res = await runCli(['verify', ...targetArgs(agent, fx), '--json', ...extra], { cwd: dir });
  return { res, report: parseJson<VerifyReport>(res), agent };
}

/** verify --json's answer for an input-error found before any run: exit 3, and nothing ran. */
function inputErrorNotRun(res: Awaited<ReturnType<typeof runCli>>): VerifyReport {
  const report = parseJson<VerifyReport>(res);
  expect(res.code).toBe(3);
  expect(report.verdict).toBe('input-error');
  expect(report.run.exitCode).toBeNull();
  expect(report.run.log).toBe('');
  return report;
}

describe('axctl verify verdicts', () => {
  it('--warmup without --repeat (1): run_joint times the warm-ups too, and the report says so (text and JSON); with --repeat 2 it does not', async () => {
    const { res, report, agent } = await verifyJson(undefined, 'classifier', ['--warmup', '2']);
    expect(res.code).toBe(0);
    expect(report.run.timing).toMatchObject({ rounds: 1, warmup: 2, includesWarmup: true });
    const { dir, fx } = await fixture();
    const text = await runCli(['verify', ...targetArgs(agent, fx), '--warmup', '2', '--repeat', '1'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout.replace(/\s+/g, ' ')).toContain('(timing includes 2 warm-up rounds: run_joint counts them when --repeat is 1; use --repeat 2 or more for a clean average)');
    const clean = parseJson<VerifyReport>(await runCli(['verify', ...targetArgs(agent, fx), '--warmup', '2', '--repeat', '2', '--json'], { cwd: dir }));
    expect(clean.run.timing).toMatchObject({ rounds: 1, warmup: 2, includesWarmup: false });
  });

  it('match: a healthy board equals the simulator bit for bit (exit 0)', async () => {
    const { res, report } = await verifyJson(undefined);
    expect(res.code).toBe(0);
    expect(report.verdict).toBe('match');
    expect(report.outputs).toHaveLength(1);
    const out = report.outputs[0]!;
    expect(out).toMatchObject({ name: 'resnetv15_dense0_fwd', dtype: 'float32', shape: [1, 10], exact: true, cosine: 1, maxAbsDiff: 0, pass: true });
    expect(report.run.problems).toEqual([]);
    expect(out.plot!.sample.length).toBe(10);
    expect(out.plot!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(10);
    expect(report.compile).not.toBeNull();
    expect(report.compile!.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', lossy: false });
    expect(report.compile!.outputs[0]!.cosine).toBeGreaterThan(0.98);
    expect(report.run).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
    expect(report.run.log).toContain('run joint version');
    expect(report.run.timing.runUs).toBeGreaterThan(0);
    expect(report.io.inputs[0]).toMatchObject({ name: 'data', dtype: 'uint8', layout: 'NHWC', colorSpace: 'RGB' });
    expect(report.advice.join('\n')).toMatch(/post-processing/);
    expect(report.board.runJointVersion).toBe('0.5.10');
  });

  it('match also prints the verdict as text for people (exit 0)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^MATCH /);
    expect(res.stdout).toContain('resnetv15_dense0_fwd');
  });

  it('a one-output model whose gt/joint and gt/onnx files have other names: both stages still checked', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    for (const stage of ['joint', 'onnx']) {
      for (const ext of ['.npy', '.bin']) await fsp.rename(path.join(fx.gt, stage, `resnetv15_dense0_fwd${ext}`), path.join(fx.gt, stage, `${stage}-out${ext}`));
    }
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(0);
    expect(report.verdict).toBe('match');
    // The board stage takes the only gt/joint file as the only output; the compile stage pairs it with the only gt/onnx file.
    expect(report.compile?.outputs.map((o) => o.name)).toEqual(['resnetv15_dense0_fwd']);
    expect(report.compile!.outputs[0]!.cosine).toBeGreaterThan(0.98);
  });

  it('says why the compile stage was not checked when no gt/onnx file pairs with gt/joint', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture('multi-input');
    const onnx = path.join(fx.gt, 'onnx');
    for (const name of await fsp.readdir(onnx)) await fsp.rename(path.join(onnx, name), path.join(onnx, `renamed-${name}`));
    const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('compile stage: not checked (no gt/onnx file pairs with one in gt/joint)');
  });

  it('compares outputs that came back with the run from memory: no temporary files (a TMPDIR that cannot be written costs nothing), the same verdicts', async () => {
    for (const [fault, code, verdict] of [[undefined, 0, 'match'], ['perturb', 1, 'mismatch']] as const) {
      const agent = await startAgent(cleanup, { fault });
      const { dir, fx } = await fixture();
      const notAFolder = path.join(dir, 'not-a-folder');
      await fsp.writeFile(notAFolder, '');
      const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir, env: { TMPDIR: notAFolder } });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(code);
      const report = parseJson<VerifyReport>(res);
      expect(report.verdict).toBe(verdict);
      expect(report.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', shape: [1, 10], exact: fault === undefined });
    }
  });

  it('mismatch: perturbed float outputs are a board fault, with where and how far (exit 1)', async () => {
    const { res, report } = await verifyJson('perturb');
    expect(res.code).toBe(1);
    expect(report.verdict).toBe('mismatch');
    const out = report.outputs[0]!;
    expect(out.pass).toBe(false);
    expect(out.exact).toBe(false);
    expect(out.cosine).toBeGreaterThan(0.999);
    expect(out.maxAbsDiff).toBeGreaterThan(0);
    expect(out.worst).not.toBeNull();
    expect(out.reasons.length).toBeGreaterThan(0);
    expect(report.summary).toMatch(/differ/);
    expect(report.advice.join('\n')).toMatch(/Axera/);
    expect(report.advice.join('\n')).toContain(`flat index ${out.worst!.index}`);
  });

  it('mismatch with a model or gt input newer than gt/joint: says to check that gt/joint is not stale before blaming the board', async () => {
    const agent = await startAgent(cleanup, { fault: 'perturb' });
    const { dir, fx } = await fixture();
    const verifyNow = async () => parseJson<VerifyReport>(await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir }));
    const current = await verifyNow();
    expect(current.verdict).toBe('mismatch');
    expect(current.advice.join('\n')).not.toMatch(/Check gt\/joint first/);

    // The model rebuilt an hour after pulsar run wrote gt (its mtime is what tells).
    const later = new Date(Date.now() + 3600_000);
    await fsp.utimes(fx.model, later, later);
    const rebuilt = await verifyNow();
    expect(rebuilt.verdict).toBe('mismatch');
    expect(rebuilt.summary).toContain('unless gt/joint is out of date');
    expect(rebuilt.advice[0]).toMatch(/^Check gt\/joint first: the model \S+\.joint was modified 6\d min after gt\/joint was written\. .*regenerate it/);
    expect(rebuilt.advice[1]).toMatch(/^If gt\/joint is current, this difference is a board-side fault/);

    // A gt input edited after the reference was made says so too.
    const old = new Date(Date.now() - 7200_000);
    await fsp.utimes(fx.model, old, old);
    const input = (await fsp.readdir(path.join(fx.gt, 'input'))).find((f) => f.endsWith('.bin'))!;
    await fsp.utimes(path.join(fx.gt, 'input', input), later, later);
    expect((await verifyNow()).advice[0]).toContain(`Check gt/joint first: gt/input/${input} was modified`);
  });

  it('mismatch: one integer element off by one fails the bit-exact test of that output only (exit 1)', async () => {
    const { res, report } = await verifyJson('off-by-one', 'multi-input');
    expect(res.code).toBe(1);
    expect(report.verdict).toBe('mismatch');
    const cls = report.outputs.find((o) => o.name === 'head/cls_score')!;
    const box = report.outputs.find((o) => o.name === 'head/bbox/pred')!;
    expect(cls).toMatchObject({ dtype: 'sint8', q: 32, pass: false, exact: false, mismatched: 1, maxAbsDiff: 1 });
    expect(cls.tolerance.exact).toBe(true);
    expect(Math.abs(cls.worst!.actual - cls.worst!.reference)).toBe(1);
    expect(cls.worst!.at).toHaveLength(4);
    expect(box.pass).toBe(true);
  });

  it('input-error: a gt input of the wrong size makes run_joint use random data (exit 3)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    await fsp.truncate(path.join(fx.gt, 'input', 'data.bin'), 1000);
    await fsp.rm(path.join(fx.gt, 'input', 'data.npy'));
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(3);
    expect(report.verdict).toBe('input-error');
    expect(report.outputs).toEqual([]);
    expect(report.run.fallbacks).toHaveLength(1);
    expect(report.run.fallbacks[0]).toMatchObject({ input: 'data', file: path.join(fx.gt, 'input', 'data.bin') });
    expect(report.run.fallbacks[0]!.reason).toMatch(/1000 bytes.*3072/);
    expect(report.run.log).toMatch(/data size wrong, using random data/);
  });

  it('input-error: found locally once the model has run, before any run on the board (exit 3)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    const first = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
    expect(first.code).toBe(0);
    await fsp.writeFile(path.join(fx.gt, 'input', 'data.bin'), Buffer.alloc(64));
    const deployed = await runCli(['deploy', ...targetArgs(agent, fx)], { cwd: dir });
    expect(deployed.code).toBe(3);
    expect(deployed.stderr).toMatch(/data\.bin is 64 bytes, model input 'data' .* needs 3072/);
  });

  it('input-error: a model input with no gt file at all, known from an earlier run, is not run (exit 3)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture('multi-input');
    expect((await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    for (const ext of ['bin', 'npy']) await fsp.rm(path.join(fx.gt, 'input', `aux.${ext}`));
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = inputErrorNotRun(res);
    expect(report.run.fallbacks).toEqual([{ input: 'aux', file: null, reason: expect.stringMatching(/no file for model input 'aux' \(expected aux\.bin\)/) }]);
  });

  it('run-failed: an assertion (SIGABRT) with its text (exit 4)', async () => {
    const { res, report } = await verifyJson('abort');
    expect(res.code).toBe(4);
    expect(report.verdict).toBe('run-failed');
    expect(report.run.signal).toBe('SIGABRT');
    expect(report.run.assertions.join('\n')).toMatch(/Assertion .*AX_JOINT_RunSync.* failed/);
    expect(report.summary).toMatch(/assertion/);
  });

  it('run-failed: a hung run is stopped at --timeout and reported (exit 4)', async () => {
    const { res, report } = await verifyJson('hang', 'classifier', ['--timeout', '1']);
    expect(res.code).toBe(4);
    expect(report.verdict).toBe('run-failed');
    expect(report.run.timedOut).toBe(true);
    expect(report.summary).toMatch(/did not finish within 1 s/);
    expect(report.run.problems.map((p) => p.code)).toEqual(['RUN_TIMEOUT']);
  });

  it('run-failed: a run_joint that ignores SIGTERM is killed after the grace period (exit 4)', async () => {
    const { res, report } = await verifyJson('hang-ignore-term', 'classifier', ['--timeout', '1']);
    expect(res.code).toBe(4);
    expect(report.run.timedOut).toBe(true);
    expect(report.run.signal).toBe('SIGKILL');
  });

  it('run-failed: an output run_joint could not dump (exit 4)', async () => {
    const { res, report } = await verifyJson('no-dump');
    expect(res.code).toBe(4);
    expect(report.verdict).toBe('run-failed');
    expect(report.run.exitCode).toBe(0);
    expect(report.summary).toMatch(/did not dump every output/);
    expect(report.run.problems).toEqual([expect.objectContaining({ code: 'MISSING_OUTPUT', message: expect.stringContaining('resnetv15_dense0_fwd') })]);
    expect(report.run.log).toMatch(/dump output\[0\] resnetv15_dense0_fwd as .* failed/);
  });

  it('run-failed with one of two outputs dumped: that one is still compared, shown and saved (exit 4)', async () => {
    const agent = await startAgent(cleanup, { fault: 'no-dump=0' });
    const { dir, fx } = await fixture('multi-input');
    const saved = path.join(dir, 'saved');
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json', '--save-outputs', saved], { cwd: dir });
    const report = parseJson<VerifyReport>(res);
    expect(res.code).toBe(4);
    expect(report.verdict).toBe('run-failed');
    expect(report.outputs.map((o) => [o.name, o.pass, o.exact])).toEqual([['head/bbox/pred', true, true]]);
    expect(report.summary).toMatch(/did not dump every output.*head\/cls_score.*Still, the one output it dumped \(head\/bbox\/pred\) equals the simulator's; head\/cls_score could not be compared/);
    expect((await fsp.readdir(saved)).filter((f) => f.endsWith('.bin'))).toEqual(['head_bbox_pred.bin']);
  });

  it('an inventory board: board.url is its URL and board.name its name, in JSON and JUnit, with or without a verdict', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    const server = net.createServer();
    const dead = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
    await new Promise((r) => server.close(r));
    await fsp.writeFile(path.join(dir, 'axctl.yaml'), `boards:\n  evb7:\n    url: ${agent.url}\n    token-file: ${agent.tokenFile}\n  evb8:\n    url: ws://127.0.0.1:${dead}\n    token-file: ${agent.tokenFile}\n`);
    const files = ['--model', path.relative(dir, fx.model), '--gt', path.relative(dir, fx.gt)];
    const res = await runCli(['verify', '--board', 'evb7', ...files, '--json', '--junit', 'evb7.xml'], { cwd: dir });
    expect(res.code).toBe(0);
    expect(parseJson<VerifyReport>(res).board).toMatchObject({ url: agent.url, name: 'evb7' });
    const xml = await fsp.readFile(path.join(dir, 'evb7.xml'), 'utf8');
    expect(xml).toContain(`<property name="board" value="${agent.url}"/>`);
    expect(xml).toContain('<property name="board.name" value="evb7"/>');
    expect(xml).toContain(`name="axctl verify data/classifier.joint on evb7 (${agent.url})`);
    // No verdict (nothing listens): the same naming, so the board's history stays one suite.
    const gone = await runCli(['verify', '--board', 'evb8', ...files, '--junit', 'evb8.xml'], { cwd: dir });
    expect(gone.code).toBe(5);
    const errorXml = await fsp.readFile(path.join(dir, 'evb8.xml'), 'utf8');
    expect(errorXml).toContain(`name="axctl verify data/classifier.joint on evb8 (ws://127.0.0.1:${dead})"`);
    expect(errorXml).toContain('<property name="board.name" value="evb8"/>');
  });

  it('cannot authenticate: a wrong token is refused (exit 5)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    const wrong = path.join(dir, 'wrong.token');
    await fsp.writeFile(wrong, 'not-the-token-of-this-agent\n', { mode: 0o600 });
    const res = await runCli(['verify', '--board', agent.url, '--model', fx.model, '--gt', fx.gt, '--token-file', wrong], { cwd: dir });
    expect(res.code).toBe(5);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^axctl: .*token/m);
  });

  it('cannot connect: nothing listening (exit 5)', async () => {
    const { dir, fx } = await fixture();
    const server = net.createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
    await new Promise((r) => server.close(r));
    const junit = path.join(dir, 'report.xml');
    const res = await runCli(['verify', '--board', `ws://127.0.0.1:${port}`, '--model', fx.model, '--gt', fx.gt, '--junit', junit], { cwd: dir, env: { AXCTL_TOKEN: 'x'.repeat(32) } });
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/connection refused/);
    // CI still gets its JUnit file: the board as an error, not a board missing from the page.
    const xml = await fsp.readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuites [^>]*errors="1"/);
    expect(xml).toContain(`<error type="CONNECT_REFUSED" message="ws://127.0.0.1:${port}`);
  });

  it("the board's own error once reached (a store too small for the model, exit 2): the JUnit file still gets it as an error; a bad option writes none", async () => {
    const agent = await startAgent(cleanup, { args: ['--store-cap', '1K'] });
    const { dir, fx } = await fixture();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json', '--junit', 'j.xml'], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(parseJson<{ error: { code: string } }>(res).error.code).toBe('STORE_FULL');
    const xml = await fsp.readFile(path.join(dir, 'j.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites [^>]*errors="1"/);
    expect(xml).toContain('<property name="verdict" value="none"/>');
    expect(xml).toContain('<error type="STORE_FULL" message="');
    // A mistake of the job itself, found before anything was asked of the board: no file.
    const bad = await runCli(['verify', ...targetArgs(agent, fx), '--repeat', '0', '--junit', 'bad.xml'], { cwd: dir });
    expect(bad.code).toBe(2);
    await expect(fsp.access(path.join(dir, 'bad.xml'))).rejects.toThrow();
  });

  it('input-error: a wrong-size gt input, with the model known from an earlier run, is neither sent nor run (exit 3)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    expect((await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir })).code).toBe(0);
    await fsp.writeFile(path.join(fx.gt, 'input', 'data.bin'), Buffer.alloc(5000, 7));
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: dir });
    const report = inputErrorNotRun(res);
    expect(report.run.fallbacks[0]).toMatchObject({ input: 'data', reason: expect.stringMatching(/5000 bytes.*3072/) });
    // Nothing of it reached the board: its store has no blob of that size.
    const blobs = await fsp.readdir(path.join(agent.storeDir, 'blobs'));
    const sizes = await Promise.all(blobs.map(async (b) => (await fsp.stat(path.join(agent.storeDir, 'blobs', b))).size));
    expect(sizes).not.toContain(5000);
  });

  describe('usage: a gt/joint file that does not fit the model\'s output is a bad local file, not a board fault (exit 2)', () => {
    const cases: [string, (a: Float32Array) => { dtype: 'float32' | 'int8'; shape: number[]; data: Float32Array | Int8Array }, RegExp][] = [
      ['twice the elements', (a) => ({ dtype: 'float32', shape: [1, 20], data: Float32Array.from([...a, ...a]) }), /holds float32 \[1, 20\], but the model's output 'resnetv15_dense0_fwd' is float32 \[1, 10\].*20 elements instead of 10/],
      ['another shape', (a) => ({ dtype: 'float32', shape: [2, 5], data: a }), /holds float32 \[2, 5\].*another shape/],
      ['integer data', (a) => ({ dtype: 'int8', shape: [1, 10], data: Int8Array.from(a, (x) => Math.round(x * 10)) }), /holds int8 \[1, 10\].*integer data for a float output/],
    ];
    for (const [what, change, message] of cases) {
      it(what, async () => {
        const agent = await startAgent(cleanup);
        const { dir, fx } = await fixture();
        const file = path.join(fx.gt, 'joint', 'resnetv15_dense0_fwd.npy');
        const original = (await readAll(await openTensor(file))) as Float32Array;
        const { dtype, shape, data } = change(original);
        await writeNpy(file, dtype, shape, data);
        const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
        expect(res.code).toBe(2);
        expect(res.stdout).not.toMatch(/MISMATCH/);
        expect(res.stderr.trim().split('\n')).toHaveLength(1);
        expect(res.stderr).toMatch(message);
      });
    }
  });

  it('usage: a gt/joint file that does not read says the gt folder is at fault, not to pass options verify lacks (exit 2)', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    const joint = path.join(fx.gt, 'joint');
    await fsp.rm(path.join(joint, 'resnetv15_dense0_fwd.npy'));
    await fsp.truncate(path.join(joint, 'resnetv15_dense0_fwd.bin'), 10); // raw data cut short
    const cut = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
    await fsp.writeFile(path.join(joint, 'resnetv15_dense0_fwd.npy'), 'not a numpy file\n');
    const garbage = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: dir });
    for (const [res, problem] of [[cut, /resnetv15_dense0_fwd\.bin: is 10 bytes/], [garbage, /resnetv15_dense0_fwd\.npy: is not a \.npy file/]] as const) {
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(problem);
      expect(res.stderr).toMatch(/\(the gt folder is damaged or was made for another model: make it again with `pulsar run \.\.\. --output_gt` for this model\)$/m);
      expect(res.stderr).not.toMatch(/--dtype|--shape|--log/);
    }
  });

  it('usage: a missing gt folder is one line, exit 2', async () => {
    const agent = await startAgent(cleanup);
    const { dir, fx } = await fixture();
    const res = await runCli(['verify', '--board', agent.url, '--model', fx.model, '--gt', path.join(dir, 'no-such-gt'), '--token-file', agent.tokenFile], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/no-such-gt: no such file or folder/);
    // With --json the error is JSON on stdout too, with its stable code.
    const json = await runCli(['verify', '--board', agent.url, '--model', fx.model, '--gt', path.join(dir, 'no-such-gt'), '--token-file', agent.tokenFile, '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'FILE_NOT_FOUND', message: expect.stringMatching(/no-such-gt: no such file or folder/), hint: 'check the path', exitCode: 2 } });
  });
});
