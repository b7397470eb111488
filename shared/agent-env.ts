/**
 * What the installed wrapper (host/agent-install/service-files.ts) sets in the agent's
 * environment for the agent alone, and the variable that names what it set, so the agent
 * passes none of it on to run_joint (agent/run/child-env.ts). Also how the benches start it.
 *
 * glibc raises its mmap threshold once a large buffer is freed, and then keeps the agent's
 * freed 1 MiB transfer buffers in its heap (6-12 MiB more resident after downloads); a fixed
 * threshold hands them back. Other C libraries ignore it.
 */
export const AGENT_MALLOC_SETTING = { name: 'MALLOC_MMAP_THRESHOLD_', value: '131072' } as const;
export const UNSET_FOR_RUNS = 'AXAGENT_UNSET_FOR_RUNS';

/** `env` as the wrapper leaves it for the agent: the setting added unless the user set it. */
export function agentEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { name, value } = AGENT_MALLOC_SETTING;
  return env[name] !== undefined ? env : { ...env, [name]: value, [UNSET_FOR_RUNS]: name };
}
