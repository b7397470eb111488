/**
 * An agent whose run_joint is gone (a firmware update removed it): removed under the running
 * agent, or already gone when the agent (a service) started on the next boot, which it does
 * anyway. verify must report it as a run-failed verdict (exit 4, its report, JSON, JUnit and
 * HTML as for any failed run: a farm's board is red, not missing) whose advice says in one line
 * which board, which path and what to do (RUN_JOINT_NOT_FOUND), not as a bare "no such
 * program" nor as "cannot connect"; diagnose gets that failed board step, deploy sends
 * everything and warns; once run_joint is back, the same agent runs it.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runJointProblemInAgentLog } from '../../shared/run/agent-run-joint-check';
import { writeSimRunJoint } from '../built';
import type { DiagnoseReport, VerifyReport } from '../../host/report/model';
import { Cleanup, expectRunJointGoneReport, makeFixture, parseJson, requireBuild, runCli, runJointGoneLine, startAgent, targetArgs, tempDir } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

/**
 * An agent whose run_joint (a wrapper of the simulator) is deleted once it runs ('after-start'),
 * or is not there yet as it starts ('at-start'); `putBack` puts it (back) in place.
 */
async function agentWithoutRunJoint(gone: 'after-start' | 'at-start') {
  const dir = await tempDir(cleanup, 'axctl-e2e-rj-');
  const runJoint = path.join(dir, 'run_joint');
  const putBack = () => writeSimRunJoint(runJoint);
  if (gone === 'after-start') await putBack();
  const agent = await startAgent(cleanup, { runJoint });
  if (gone === 'after-start') await fsp.rm(runJoint);
  const work = await tempDir(cleanup);
  return { agent, runJoint, putBack, work, fx: await makeFixture(path.join(work, 'data'), 'classifier') };
}

/** What the agent has stored: blobs and partial uploads. */
async function storedIn(storeDir: string): Promise<string[]> {
  const list = (sub: string) => fsp.readdir(path.join(storeDir, sub)).catch(() => [] as string[]);
  return [...(await list('blobs')), ...(await list('partial'))];
}

describe.each([
  ['removed under a running agent', 'after-start'],
  ['already gone when the agent started', 'at-start'],
] as const)('verify against an agent whose run_joint was %s', (_what, gone) => {
  const brokenAgent = () => agentWithoutRunJoint(gone);

  it('is a run-failed verdict (exit 4) whose report says in one line which board, which path, and what to do', async () => {
    const { agent, runJoint, work, fx } = await brokenAgent();
    // The board as the user gave it (--board) in the message; `agent install` goes over SSH, so
    // for a ws:// board the hint says to restart the agent, or reinstall it over SSH to its host.
    expectRunJointGoneReport(await runCli(['verify', ...targetArgs(agent, fx)], { cwd: work }), agent.url, runJoint);
  });

  it('is known from the handshake: nothing is uploaded to a board that cannot run it', async () => {
    const { agent, work, fx } = await brokenAgent();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: work });
    expect(res.code).toBe(4);
    expect(await storedIn(agent.storeDir)).toEqual([]);
  });

  it('gives the report with the stable code RUN_JOINT_NOT_FOUND with --json, and writes --junit and --html as for any run-failed', async () => {
    const { agent, runJoint, work, fx } = await brokenAgent();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json', '--junit', 'j.xml', '--html', 'j.html'], { cwd: work });
    expect(res.code, res.stderr).toBe(4);
    const report = parseJson<VerifyReport>(res);
    expect(report).toMatchObject({ kind: 'verify', verdict: 'run-failed', board: { url: agent.url }, outputs: [] });
    expect(report.summary).toContain(`${agent.url}: the agent's run_joint ${runJoint} does not exist on the board`);
    expect(report.advice).toContain(`RUN_JOINT_NOT_FOUND: ${runJointGoneLine(agent.url, runJoint)}`);
    const xml = await fsp.readFile(path.join(work, 'j.xml'), 'utf8');
    expect(xml).toMatch(/<property name="verdict" value="run-failed"\/>/);
    expect(xml).toMatch(/name="run_joint ran"[^>]*>\s*<failure type="run-failed" message="The run failed, so nothing could be compared: [^"]*does not exist on the board/);
    expect(await fsp.readFile(path.join(work, 'j.html'), 'utf8')).toContain('RUN FAILED');
  });

  it('is flagged by `axctl boards` (not counted as answered, the code and what to do)', async () => {
    const { agent, runJoint, work } = await brokenAgent();
    await fsp.writeFile(path.join(work, 'axctl.yaml'), `boards:\n  evb1:\n    url: ${agent.url}\n    token-file: ${agent.tokenFile}\n`);
    const res = await runCli(['boards', '--json'], { cwd: work });
    expect(res.code, res.stderr).toBe(1);
    const [entry] = (JSON.parse(res.stdout) as { boards: { name: string; ok: boolean; code?: string; error?: string }[] }).boards;
    expect(entry).toMatchObject({ name: 'evb1', ok: false, code: 'RUN_JOINT_NOT_FOUND' });
    expect(entry!.error).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    // Not `--board evb1`: that ws:// board cannot be installed to.
    expect(entry!.error).toContain(`restart the agent with the right --run-joint (for a service: reinstall it over SSH with axctl agent install --board ssh://USER@${new URL(agent.url).hostname} --run-joint PATH)`);
  });
});

describe('the other commands against an agent whose run_joint is gone', () => {
  it('diagnose: the board step is a failed run_joint, with the report and its JUnit (exit 4)', async () => {
    const { agent, runJoint, work, fx } = await agentWithoutRunJoint('at-start');
    const res = await runCli(['diagnose', '--joint', fx.model, '--gt', fx.gt, '--board', agent.url, '--token-file', agent.tokenFile, '--json', '--junit', 'd.xml'], { cwd: work });
    expect(res.code, res.stderr).toBe(4);
    const report = parseJson<DiagnoseReport>(res);
    expect(report.conclusion).toBe('inconclusive');
    expect(report.verify).toMatchObject({ verdict: 'run-failed' });
    const board = report.checks.find((c) => c.step === '4.2')!;
    expect(board.status).toBe('fail');
    expect(board.reason).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    expect(await fsp.readFile(path.join(work, 'd.xml'), 'utf8')).toContain('classname="axctl.diagnose.checks"');
    expect(await storedIn(agent.storeDir)).toEqual([]);
  });

  it('deploy: sends everything, records it, and warns in one line that verify fails until run_joint is back (exit 0)', async () => {
    const { agent, runJoint, work, fx } = await agentWithoutRunJoint('at-start');
    const res = await runCli(['deploy', ...targetArgs(agent, fx), '--json'], { cwd: work, cacheHome: await tempDir(cleanup) });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe(`axctl: warning: ${runJointGoneLine(agent.url, runJoint).replace(' (put', '; axctl verify fails (run-failed) until it is back (put')}\n`);
    const out = JSON.parse(res.stdout) as { inputs: unknown[]; listing: string; listingProblem: string | null; runJointProblem: string | null };
    expect(out).toMatchObject({ listing: 'none', runJointProblem: 'RUN_JOINT_NOT_FOUND' });
    expect(out.listingProblem).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    // The model and its input, both on the board; the deploy recorded for a bare verify.
    expect(out.inputs).toHaveLength(1);
    expect((await fsp.readdir(path.join(agent.storeDir, 'blobs'))).length).toBe(2);
    expect(JSON.parse(await fsp.readFile(path.join(work, '.axctl', 'state.json'), 'utf8'))).toMatchObject({ board: agent.url });
  });
});

describe('an agent started without its run_joint (a service on the boot after a firmware update)', () => {
  it('serves, saying so in one warning line on stderr', async () => {
    const { agent, runJoint } = await agentWithoutRunJoint('at-start');
    const lines = agent.stderr().trim().split('\n');
    const warnings = lines.filter((l) => l.includes('run_joint'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^axagent: \\S+ warning: run_joint ${runJoint}: no such file \\(give the path of run_joint with --run-joint\\); serving anyway, runs fail with RUN_JOINT_NOT_FOUND until it is there$`),
    );
    // Never read as the refusal of an agent of an earlier release (stderr over ssh://).
    expect(runJointProblemInAgentLog(agent.stderr())).toBeNull();
    expect(lines.some((l) => /listening on ws:\/\//.test(l))).toBe(true);
  });

  it('runs it once it is put in place, without a restart', async () => {
    const { agent, putBack, work, fx } = await agentWithoutRunJoint('at-start');
    expect((await runCli(['verify', ...targetArgs(agent, fx)], { cwd: work })).code).toBe(4);
    expect(await storedIn(agent.storeDir)).toEqual([]);
    await putBack();
    const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: work });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^MATCH /);
    expect(agent.child.exitCode).toBeNull();
  });
});
