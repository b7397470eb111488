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
    // The board as the host names it (its URL, normalised with a trailing slash).
    expect(lines[0]).toBe(
      `axctl: ${new URL(agent.url).href}: the agent's run_joint ${runJoint} does not exist on the board ` +
        '(put run_joint back at that path, or reinstall the agent with the right one: axctl agent install --board <this board> --run-joint PATH)',
    );
  });

  it('gives the stable code RUN_JOINT_NOT_FOUND with --json', async () => {
    const { agent, work, fx } = await agentLosingRunJoint();
    const res = await runCli(['verify', ...targetArgs(agent, fx), '--json'], { cwd: work });
    expect(res.code).toBe(4);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'RUN_JOINT_NOT_FOUND', exitCode: 4 } });
  });
});
