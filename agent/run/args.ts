/**
 * run_joint's argv and the allow-list of extra options: moved to shared/run/args.ts so agentless
 * SSH builds exactly the same command line. Re-exported for the agent's existing importers.
 */
export { ALLOWED_RUN_JOINT_OPTIONS, buildRunJointArgs, checkExtraArgs, type RunJointArgsInput } from '../../shared/run/args';
