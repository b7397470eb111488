/**
 * The board step of `axctl diagnose` through real agents on loopback (node dist/agent/main.js
 * with the board simulator as run_joint): a board that perturbs its outputs is a board fault
 * with the list for Axera's field engineer, and the report files are written; a faithful
 * board with "only AX loses accuracy" points at post-processing; a saved verify report stands
 * in for the board; a board nobody listens on exits 5.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type AgentProcess } from '../agent/helpers';
import { runAxctl } from '../built';
import { buildInto, diagnoseCli, diagnoseJson, makePulsarProject, removeProject, requireBuild, step } from './helpers';

let project: string;
let perturbing: AgentProcess;
let faithful: AgentProcess;
const tokenFile = (agent: AgentProcess) => path.join(project, `${path.basename(agent.dir)}.token`);

beforeAll(async () => {
  requireBuild();
  project = makePulsarProject('diagnose board');
  await buildInto(project, 'ok');
  perturbing = await startAgent({ env: { AXSIM_FAULT: 'perturb' } });
  faithful = await startAgent({ env: { AXSIM_FAULT: '' } });
  for (const agent of [perturbing, faithful]) fs.writeFileSync(tokenFile(agent), `${agent.token}\n`, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await Promise.all([perturbing?.stop(), faithful?.stop()]);
  removeProject(project);
});

const onBoard = (agent: AgentProcess) => ['--joint', 'ok/model.joint', '--input', 'images/cat.jpg', '--board', agent.url, '--token-file', tokenFile(agent)];

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the board step', () => {
  it('a board whose outputs differ from the simulator: board fault, escalation, --html and --junit written', async () => {
    const html = path.join(project, 'reports', 'diagnosis.html');
    const junit = path.join(project, 'reports', 'diagnosis.xml');
    const { code, report } = await diagnoseJson(project, [...onBoard(perturbing), '--other-platforms-ok', '--work-dir', 'work-fault', '--html', html, '--junit', junit]);
    expect(report.conclusion).toBe('board-fault');
    expect(code).toBe(1);
    expect(step(report, '2').status).toBe('pass');
    expect(step(report, '4.2').status).toBe('fail');
    expect(step(report, '4.1').status).toBe('pass');
    expect(step(report, '4.1').reason).toContain('resnetv15_dense0_fwd [1, 10] NHWC float32');
    expect(report.verify?.verdict).toBe('mismatch');

    const escalation = report.escalation ?? [];
    const work = path.join(project, 'work-fault', 'escalation');
    expect(escalation.join('\n')).toContain(path.join(project, 'ok', 'model.joint'));
    expect(escalation.join('\n')).toContain(path.join(project, 'work-fault', 'gt-joint'));
    expect(escalation.join('\n')).toContain('pulsar 0.6.1.14 (4d9c2a71)');
    expect(escalation.join('\n')).toContain('run_joint 0.5.10');
    expect(escalation.join('\n')).toContain('run_joint model.joint --data gt/input/data.bin --bin-out-dir out/');
    expect(fs.readFileSync(path.join(work, 'run_joint.log'), 'utf8')).toContain('run joint version: 0.5.10');
    expect(JSON.parse(fs.readFileSync(path.join(work, 'verify.json'), 'utf8'))).toMatchObject({ kind: 'verify', verdict: 'mismatch' });
    expect(escalation.some((line) => line.includes(path.join(work, 'run_joint.log')))).toBe(true);

    const page = fs.readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('BOARD FAULT');
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain('classname="axctl.diagnose.checks"');
    expect(xml).toMatch(/name="4\.2 board vs simulator[^"]*"[^>]*>\s*<failure/);
  });

  it('a saved verify report stands in for the board', async () => {
    const saved = path.join(project, 'work-fault', 'escalation', 'verify.json');
    const { code, report } = await diagnoseJson(project, ['--verify-report', saved, '--gt', path.join(project, 'work-fault', 'gt-joint'), '--joint', 'ok/model.joint']);
    expect(report.conclusion).toBe('board-fault');
    expect(code).toBe(1);
    expect(step(report, '2').reason).toMatch(/^gt folder: /);
    expect(report.escalation?.join('\n')).toContain(`The verify report: ${saved}`);
  });

  it('a saved verify report of another model is refused (exit 2), not mixed into the escalation', async () => {
    const saved = path.join(project, 'work-fault', 'escalation', 'verify.json');
    const other = path.join(project, 'other.joint');
    fs.writeFileSync(other, fs.readFileSync(path.join(project, 'ok', 'model.joint')).subarray(0, 100));
    const run = await diagnoseCli(project, ['--verify-report', saved, '--gt', path.join(project, 'work-fault', 'gt-joint'), '--joint', other, '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'DIAGNOSE_VERIFY_REPORT_OTHER_MODEL' });
    expect(JSON.parse(run.stdout).error.message).toMatch(/is the verify report of another model .*, not of .*other\.joint/);
  });

  it('a faithful board and "only AX loses accuracy": the post-processing is the suspect', async () => {
    const { code, report } = await diagnoseJson(project, [...onBoard(faithful), '--other-platforms-ok', '--work-dir', 'work-faithful']);
    expect(report.conclusion).toBe('postprocessing-suspect');
    expect(code).toBe(1);
    expect(step(report, '4.2').status).toBe('pass');
    expect(report.escalation).toBeNull();
    expect(report.remedies.join('\n')).toContain('Q');
  });

  it('the same without a complaint: ok, exit 0, and the text report says so first', async () => {
    const run = await diagnoseCli(project, [...onBoard(faithful), '--work-dir', 'work-ok']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^OK {2}No precision loss found/);
    expect(run.stdout).toContain('board run: MATCH');
  });

  it("a verdict the folder's deploy record cannot take: verify's one warning line, and the conclusion stands", async () => {
    // A record verify cannot read (as one it cannot write): its board step says so, as axctl verify does.
    const state = path.join(project, '.axctl', 'state.json');
    fs.writeFileSync(state, 'not a record');
    try {
      const run = await diagnoseCli(project, [...onBoard(faithful), '--work-dir', 'work-unrecorded']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('board run: MATCH');
      const warnings = run.stderr.split('\n').filter((line) => line.startsWith('axctl: warning: '));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^axctl: warning: the verdict could not be recorded: .*state\.json/);
      const verify = await runAxctl(project, ['verify', '--board', faithful.url, '--token-file', tokenFile(faithful), '--model', 'ok/model.joint', '--gt', 'work-unrecorded/gt-joint'], { NO_COLOR: '1' });
      expect(verify.code).toBe(0);
      expect(verify.stderr).toBe(`${warnings[0]}\n`);
    } finally {
      fs.rmSync(state, { force: true });
    }
  });

  it("a board reached that cannot take the run (its store too small): the steps measured before are kept, 4.2 skipped with the board's error, exit 2", async () => {
    const small = await startAgent({ env: { AXSIM_FAULT: '' }, args: ['--store-cap', '1K'] });
    try {
      fs.writeFileSync(tokenFile(small), `${small.token}\n`, { mode: 0o600 });
      const { code, report } = await diagnoseJson(project, [...onBoard(small), '--work-dir', 'work-small-store']);
      expect(code).toBe(2);
      expect(report.conclusion).toBe('inconclusive');
      expect(step(report, '2').status).toBe('pass');
      expect(step(report, '4.2').status).toBe('skipped');
      expect(step(report, '4.2').reason).toContain(`the board ${small.url} could not run the gt input: `);
      expect(step(report, '4.2').evidence).toMatchObject({ code: 'STORE_FULL' });
      expect(report.summary).toContain('the board could not run the gt input');
    } finally {
      await small.stop();
    }
  });

  it('a token file that cannot be read is the user\'s mistake, found before the board: no report, exit 2', async () => {
    const run = await diagnoseCli(project, ['--joint', 'ok/model.joint', '--input', 'images/cat.jpg', '--board', faithful.url, '--token-file', path.join(project, 'no-such.token')]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^axctl: .*no-such\.token/m);
  });

  it('a board nobody listens on: step 4.2 skipped with why, exit 5', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}`;
    const { code, report } = await diagnoseJson(project, ['--joint', 'ok/model.joint', '--input', 'images/cat.jpg', '--board', url, '--token-file', tokenFile(faithful), '--connect-timeout', '5']);
    expect(code).toBe(5);
    expect(report.conclusion).toBe('inconclusive');
    expect(step(report, '4.2').status).toBe('skipped');
    expect(step(report, '4.2').reason).toContain(`cannot reach the board ${url}`);
  });
});
