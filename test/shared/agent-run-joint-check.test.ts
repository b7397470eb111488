import { describe, expect, it } from 'vitest';
import { reinstallOf } from '../../host/agent-install/install-command';
import { runJointMissingWords, runJointProblemInAgentLog, runJointWarning } from '../../shared/run/agent-run-joint-check';

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

describe('runJointMissingWords: what to do, in a command that works for the board as it was reached', () => {
  const gone = { code: 'RUN_JOINT_NOT_FOUND', path: '/opt/bin/run_joint' } as const;
  const notExecutable = { code: 'RUN_JOINT_NOT_EXECUTABLE', path: '/opt/bin/run_joint' } as const;

  it('over ssh://: reinstall with the same --board, --prefix and --via (not a second agent under /opt/axagent)', () => {
    const reinstall = reinstallOf({ given: 'ssh://root@evb', url: 'ssh://root@evb' }, { agentPrefix: '/home/me/axagent', via: ['ssh://me@gw', 'ssh://me@gw2'] });
    expect(runJointMissingWords({ ...gone, reinstall }).hint).toBe(
      'put run_joint back at that path, or reinstall the agent with the right one: ' +
        'axctl agent install --board ssh://root@evb --prefix /home/me/axagent --via ssh://me@gw --via ssh://me@gw2 --run-joint PATH',
    );
    // The default prefix is not repeated; an inventory name is kept (its url and via come from the inventory).
    expect(reinstallOf({ given: 'evb1', url: 'ssh://root@evb' }, { agentPrefix: '/opt/axagent' }).command).toBe('axctl agent install --board evb1');
  });

  it('over ws:// and serial://: `agent install --board ws://...` would fail: restart the agent, or reinstall it over SSH', () => {
    expect(runJointMissingWords({ ...gone, reinstall: reinstallOf({ given: 'evb1', url: 'ws://10.0.0.5:7007' }) }).hint).toBe(
      'put run_joint back at that path, or restart the agent with the right --run-joint ' +
        '(for a service: reinstall it over SSH with axctl agent install --board ssh://USER@10.0.0.5 --run-joint PATH)',
    );
    expect(reinstallOf({ given: 'serial:///dev/ttyUSB0', url: 'serial:///dev/ttyUSB0' }).command).toBe('axctl agent install --board ssh://USER@HOST');
    // The agent itself does not know how it was reached: the same advice, with placeholders.
    expect(runJointMissingWords(gone).hint).toContain('restart the agent with the right --run-joint (for a service: reinstall it over SSH with axctl agent install --board ssh://USER@HOST --run-joint PATH)');
  });

  it('not executable: chmod +x the file on the board, not "put it back"', () => {
    const words = runJointMissingWords({ ...notExecutable, reinstall: reinstallOf({ given: 'ssh://root@evb', url: 'ssh://root@evb' }) });
    expect(words.message).toBe("the agent's run_joint /opt/bin/run_joint is not an executable file on the board");
    expect(words.hint).toBe('make it executable on the board (chmod +x /opt/bin/run_joint), or reinstall the agent with the right one: axctl agent install --board ssh://root@evb --run-joint PATH');
  });
});
