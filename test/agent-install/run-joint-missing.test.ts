/**
 * `axctl agent status` on a board whose installed agent's run_joint is gone (a firmware update
 * removed it, or the install named a wrong path): it says so plainly, with what to do, instead
 * of only that the agent does not answer over ssh stdio.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../host/agent-install/status';
import { SIM_RUN_JOINT, axctl, json, startFakeBoard, type FakeBoard } from './helpers';

describe('axctl agent status when the agent\'s run_joint is missing', () => {
  let board: FakeBoard;
  let runJoint: string;

  beforeAll(async () => {
    board = await startFakeBoard();
    runJoint = path.join(board.dir, 'firmware/run_joint');
    await fsp.mkdir(path.dirname(runJoint), { recursive: true });
    await fsp.writeFile(runJoint, `#!/bin/sh\nexec "${process.execPath}" "${SIM_RUN_JOINT}" "$@"\n`, { mode: 0o755 });
    json(await axctl(['agent', 'install', ...board.boardArgs, '--service', 'none', '--run-joint', runJoint, '--json'], board.env));
    await fsp.rm(runJoint); // the firmware update
  });
  afterAll(async () => {
    await board?.stop();
  });

  it('lists it as the problem, with the command that fixes it (exit 1)', async () => {
    const r = json<StatusReport>(await axctl(['agent', 'status', ...board.boardArgs, '--json'], board.env), 1);
    expect(r).toMatchObject({ installed: true, runJoint, runJointMissing: true });
    expect(r.checks.stdio).toMatchObject({ ok: false, code: 'RUN_JOINT_NOT_FOUND' });
    expect(r.problems).toEqual([
      `the agent's run_joint ${runJoint} is missing or not executable, so nothing can run: put it back, or run axctl agent install --board ${board.sshd.url} --prefix ${board.prefix} --run-joint PATH`,
    ]);
  });

  it('marks the run_joint row in the text', async () => {
    const text = await axctl(['agent', 'status', ...board.boardArgs], board.env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`run_joint\\s+${runJoint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(missing or not executable\\)`));
  });
});
