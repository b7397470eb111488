/**
 * An agent whose run_joint is gone (a firmware update removed it): removed under the running
 * agent, or already gone when the agent (a service) started on the next boot, which it does
 * anyway. verify must say so in one line naming the board and the path, with what to do, as a
 * run failure (RUN_JOINT_NOT_FOUND, exit 4), not as a bare "no such program" nor as "cannot
 * connect"; once run_joint is back, the same agent runs it.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runJointProblemInAgentLog } from '../../shared/run/agent-run-joint-check';
import { writeSimRunJoint } from '../built';
import { Cleanup, makeFixture, requireBuild, runCli, startAgent, targetArgs, tempDir } from './helpers';

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

  it('says so in one line naming the board and the path, with what to do (exit 4, no stack)', async () => {
    const { agent, runJoint, work, fx } = await brokenAgent();
    const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: work });
    expect(res.code).toBe(4);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    // The board as the user gave it (--board) in the message; `agent install` goes over SSH, so
    // for a ws:// board the hint says to restart the agent, or reinstall it over SSH to its host.
    const board = agent.url;
    expect(lines[0]).toBe(
      `axctl: ${board}: the agent's run_joint ${runJoint} does not exist on the board ` +
        `(put run_joint back at that path, or restart the agent with the right --run-joint ` +
        `(for a service: reinstall it over SSH with axctl agent install --board ssh://USER@${new URL(board).hostname} --run-joint PATH))`,
    );
  });

  it('is known from the handshake: nothing is uploaded to a board that cannot run it', async () => {
    const { agent, work, fx } = await brokenAgent();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: work });
    expect(res.code).toBe(4);
    expect(await storedIn(agent.storeDir)).toEqual([]);
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

  it('gives the stable code RUN_JOINT_NOT_FOUND with --json', async () => {
    const { agent, work, fx } = await brokenAgent();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: work });
    expect(res.code).toBe(4);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'RUN_JOINT_NOT_FOUND', exitCode: 4 } });
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
