/**
 * run_joint's environment (agent/run/child-env.ts): the agent's, less what the installed
 * wrapper set for the agent alone.
 */
import { describe, expect, it } from 'vitest';
import { runJointEnv } from '../../agent/run/child-env';

describe("run_joint's environment", () => {
  it("drops what the wrapper set for the agent's memory, and its note of it", () => {
    const env = runJointEnv({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '131072', AXAGENT_UNSET_FOR_RUNS: 'MALLOC_MMAP_THRESHOLD_' });
    expect(env).toEqual({ PATH: '/bin' });
  });

  it("keeps everything else, also a threshold the user set (the wrapper does not list it)", () => {
    const agentEnv = { PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '65536', LD_LIBRARY_PATH: '/opt/lib' };
    expect(runJointEnv(agentEnv)).toBe(agentEnv);
  });

  it('takes away nothing but MALLOC_ settings, whatever the note names', () => {
    expect(runJointEnv({ PATH: '/bin', HOME: '/root', AXAGENT_UNSET_FOR_RUNS: 'PATH HOME' })).toEqual({ PATH: '/bin', HOME: '/root' });
  });
});
