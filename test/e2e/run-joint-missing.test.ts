/**
 * A running agent whose run_joint was removed under it (a firmware update): verify must say so
 * in one line naming the board and the path, with what to do, as a run failure
 * (RUN_JOINT_NOT_FOUND, exit 4), not as a bare "no such program".
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, SIM_RUN_JOINT, makeFixture, requireBuild, runCli, startAgent, targetArgs, tempDir } from './helpers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireBuild());

/** An agent started with a run_joint (a wrapper of the simulator) that is deleted once it runs. */
async function agentLosingRunJoint() {
  const dir = await tempDir(cleanup, 'axctl-e2e-rj-');
  const runJoint = path.join(dir, 'run_joint');
  await fsp.writeFile(runJoint, `#!/bin/sh\nexec "${process.execPath}" "${SIM_RUN_JOINT}" "$@"\n`, { mode: 0o755 });
  const agent = await startAgent(cleanup, { runJoint });
  await fsp.rm(runJoint);
  const work = await tempDir(cleanup);
  return { agent, runJoint, work, fx: await makeFixture(path.join(work, 'data'), 'classifier') };
}

describe('verify against a running agent whose run_joint was removed', () => {
  it('says so in one line naming the board and the path, with what to do (exit 4, no stack)', async () => {
    const { agent, runJoint, work, fx } = await agentLosingRunJoint();
    const res = await runCli(['verify', ...targetArgs(agent, fx)], { cwd: work });
    expect(res.code).toBe(4);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    // The board as the user gave it (--board), in the message and in the command to run.
    const board = agent.url;
    expect(lines[0]).toBe(
      `axctl: ${board}: the agent's run_joint ${runJoint} does not exist on the board ` +
        `(put run_joint back at that path, or reinstall the agent with the right one: axctl agent install --board ${board} --run-joint PATH)`,
    );
  });

  it('is known from the handshake: nothing is uploaded to a board that cannot run it', async () => {
    const { agent, work, fx } = await agentLosingRunJoint();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: work });
    expect(res.code).toBe(4);
    const stored = await fsp.readdir(path.join(agent.storeDir, 'blobs')).catch(() => [] as string[]);
    expect(stored).toEqual([]);
    const partial = await fsp.readdir(path.join(agent.storeDir, 'partial')).catch(() => [] as string[]);
    expect(partial).toEqual([]);
  });

  it('is flagged by `axctl boards` (not counted as answered, the code and what to do)', async () => {
    const { agent, runJoint, work } = await agentLosingRunJoint();
    await fsp.writeFile(path.join(work, 'axctl.yaml'), `boards:\n  evb1:\n    url: ${agent.url}\n    token-file: ${agent.tokenFile}\n`);
    const res = await runCli(['boards', '--json'], { cwd: work });
    expect(res.code, res.stderr).toBe(1);
    const [entry] = (JSON.parse(res.stdout) as { boards: { name: string; ok: boolean; code?: string; error?: string }[] }).boards;
    expect(entry).toMatchObject({ name: 'evb1', ok: false, code: 'RUN_JOINT_NOT_FOUND' });
    expect(entry!.error).toContain(`the agent's run_joint ${runJoint} does not exist on the board`);
    expect(entry!.error).toContain('axctl agent install --board evb1 --run-joint PATH');
  });

  it('gives the stable code RUN_JOINT_NOT_FOUND with --json', async () => {
    const { agent, work, fx } = await agentLosingRunJoint();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: work });
    expect(res.code).toBe(4);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'RUN_JOINT_NOT_FOUND', exitCode: 4 } });
  });
});
