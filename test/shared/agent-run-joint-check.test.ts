import { describe, expect, it } from 'vitest';
import { runJointProblemInAgentLog, runJointWarning } from '../../shared/run/agent-run-joint-check';

describe('runJointProblemInAgentLog', () => {
  it('reads the run_joint refusals agents of earlier releases print as they stop', () => {
    expect(runJointProblemInAgentLog('axagent: /opt/bin/run_joint: no such file (give the path of run_joint with --run-joint)\n')).toEqual({ code: 'RUN_JOINT_NOT_FOUND', path: '/opt/bin/run_joint' });
    expect(runJointProblemInAgentLog('axagent: /a b/rj: is not executable (chmod +x /a b/rj)')).toEqual({ code: 'RUN_JOINT_NOT_EXECUTABLE', path: '/a b/rj' });
    expect(runJointProblemInAgentLog('axagent: /opt/bin: is not a file (give the path of the run_joint program itself)')).toEqual({ code: 'RUN_JOINT_NOT_EXECUTABLE', path: '/opt/bin' });
  });

  it('is null for any other reason to stop, and when the refusal is not the last word', () => {
    expect(runJointProblemInAgentLog('axagent: /opt/axagent/etc/token: no such file or folder (check the path)')).toBeNull();
    expect(runJointProblemInAgentLog('sh: node: not found')).toBeNull();
    expect(runJointProblemInAgentLog('axagent: /x: no such file (give the path of run_joint with --run-joint)\naxagent: something else')).toBeNull();
    expect(runJointProblemInAgentLog('')).toBeNull();
  });

  it('never takes the warning of an agent that went on serving for a refusal, even as its last line', () => {
    const logged = (line: string) => `axagent: 2026-11-27T14:57:07.838Z ${line}\n`;
    for (const kind of ['missing', 'notExecutable', 'notAFile'] as const) {
      expect(runJointProblemInAgentLog(logged(runJointWarning('/opt/bin/run_joint', kind)))).toBeNull();
    }
    // Even were it to end as a refusal does: a timestamped line is a log line.
    expect(runJointProblemInAgentLog(logged('/x: no such file (give the path of run_joint with --run-joint)'))).toBeNull();
  });
});
