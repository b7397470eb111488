/**
 * `axctl agent status` on a board whose installed agent's run_joint is gone (a firmware update
 * removed it, or the install named a wrong path): it says so plainly, with what to do, instead
 * of only that the agent does not answer. The agent's init.d service, started again after the
 * update (the next boot), runs and answers anyway, saying in its log and its answers that
 * run_joint is missing.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../host/agent-install/status';
import { writeSimRunJoint } from '../built';
import { axctl, json, startFakeBoard, type FakeBoard } from './helpers';

describe('axctl agent status when the agent\'s run_joint is missing', () => {
  let board: FakeBoard;
  let runJoint: string;

  beforeAll(async () => {
    board = await startFakeBoard();
    runJoint = path.join(board.dir, 'firmware/run_joint');
    await fsp.mkdir(path.dirname(runJoint), { recursive: true });
    await writeSimRunJoint(runJoint);
    json(await axctl(['agent', 'install', ...board.boardArgs, '--service', 'initd', '--port', String(board.port), '--listen-host', '127.0.0.1', '--run-joint', runJoint, '--json'], board.env));
    await fsp.rm(runJoint); // the firmware update
    execFileSync(path.join(board.initdDir, 'S99axagent'), ['restart']); // and the next boot
  });
  afterAll(async () => {
    await board?.stop();
  });

  it('lists it as the problem, with the command that fixes it (exit 1); the agent answers, saying so too', async () => {
    const r = json<StatusReport>(await axctl(['agent', 'status', ...board.boardArgs, '--json'], board.env), 1);
    expect(r).toMatchObject({ installed: true, runJoint, runJointMissing: true, serviceState: 'running' });
    expect(r.checks.stdio).toMatchObject({ ok: true, runJointProblem: 'RUN_JOINT_NOT_FOUND' });
    expect(r.checks.service).toMatchObject({ ok: true, runJointProblem: 'RUN_JOINT_NOT_FOUND' });
    expect(r.problems).toEqual([
      `the agent's run_joint ${runJoint} is missing or not executable, so nothing can run: put it back, or run axctl agent install --board ${board.sshd.url} --prefix ${board.prefix} --run-joint PATH`,
    ]);
  });

  it('marks the run_joint row and the answers in the text', async () => {
    const text = await axctl(['agent', 'status', ...board.boardArgs], board.env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`run_joint\\s+${runJoint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(missing or not executable\\)`));
    expect(text.stdout).toMatch(/ssh stdio\s+answers \(axagent \S+, \d+ ms, but RUN_JOINT_NOT_FOUND\) via /);
  });

  it("the service's log says so in one warning line", async () => {
    const log = await fsp.readFile(path.join(board.prefix, 'log/axagent.log'), 'utf8');
    expect(log.split('\n').filter((l) => l.includes(`warning: run_joint ${runJoint}: no such file`))).toHaveLength(1);
  });
});
