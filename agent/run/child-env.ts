/**
 * run_joint's environment: the agent's own, less what the installed wrapper set for the agent
 * alone (shared/agent-env.ts) and named in UNSET_FOR_RUNS; run_joint, whose timing axctl
 * reports, runs as the user set it up.
 */
import { UNSET_FOR_RUNS } from '../../shared/agent-env';

export function runJointEnv(agentEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const names = agentEnv[UNSET_FOR_RUNS];
  if (names === undefined) return agentEnv;
  const env = { ...agentEnv };
  delete env[UNSET_FOR_RUNS];
  // Only names of this form: the list cannot take away PATH or anything the user set.
  for (const name of names.split(/\s+/)) if (/^MALLOC_[A-Z_]+_$/.test(name)) delete env[name];
  return env;
}
