/**
 * How the host starts the agent on a board over SSH: the contract with `axctl agent install`
 * (docs/parts/ssh.md, "The installed agent"):
 *
 *   PREFIX/bin/axagent   executable POSIX sh wrapper; `PREFIX/bin/axagent --stdio` runs the
 *                        bundled agent speaking the protocol on stdin/stdout, with the store,
 *                        run_joint and token file of the install's config; extra arguments are
 *                        passed on to the agent ("$@"). Nothing but frames on stdout.
 *   PREFIX/etc/token     the agent's token (one line, mode 0600, readable by the SSH user).
 *   PREFIX/etc/axagent.conf  its settings (host/agent-install/layout.ts); AXAGENT_STORE names
 *                        the store, beside which a running agent listens (agent.sock): the
 *                        host reaches that agent through sshd instead of starting another.
 *
 * PREFIX defaults to /opt/axagent. `--agent-command CMD` replaces the whole command (e.g.
 * `node /path/axagent.js --stdio --store ... --run-joint ... --token-file ...`); the token is
 * then not read from the board: give it to the host the usual way (--token-file).
 */
import { shellQuote } from './quote';

export const DEFAULT_AGENT_PREFIX = '/opt/axagent';

export type AgentLaunch =
  | {
      source: 'installed';
      /** The command line sshd runs (through the login shell). */
      command: string;
      prefix: string;
      /** PREFIX/bin/axagent */
      wrapper: string;
      /** PREFIX/etc/token, read when the host was given no token. */
      tokenFile: string;
      /** PREFIX/etc/axagent.conf: its store says where the running agent's socket is. */
      confFile: string;
    }
  | { source: 'agent-command'; command: string };

export function agentLaunch(opts: { agentCommand?: string; agentPrefix?: string }): AgentLaunch {
  if (opts.agentCommand !== undefined) return { source: 'agent-command', command: opts.agentCommand };
  const prefix = (opts.agentPrefix ?? DEFAULT_AGENT_PREFIX).replace(/(.)\/+$/, '$1');
  const wrapper = `${prefix}/bin/axagent`;
  return { source: 'installed', command: `${shellQuote(wrapper)} --stdio`, prefix, wrapper, tokenFile: `${prefix}/etc/token`, confFile: `${prefix}/etc/axagent.conf` };
}
