/**
 * The SSH options of every command that takes --board, defined once so their --help says the
 * same, and their translation into what openBoard takes (board-openers.ts SshBoardOptions).
 * Importing it loads no SSH code: openBoard loads the SSH transport and openers when a board
 * needs them (an ssh:// board, an agentless one, any SSH setting), so a plain ws:// verify
 * starts without ssh2.
 */
import type { Argv } from 'yargs';
import type { SshBoardOptions } from './board-openers';
import { optionWords } from './options';

export interface SshArgs {
  identity?: string;
  'known-hosts'?: string;
  'accept-new-host-key'?: boolean;
  via?: string[];
  agentless?: boolean;
  'run-joint'?: string;
  'agent-command'?: string;
  'agent-prefix'?: string;
  'board-cache'?: string;
}

export function sshOptions<T>(yargs: Argv<T>): Argv<T & SshArgs> {
  return yargs
    .option('identity', { type: 'string', describe: 'SSH private key for ssh:// boards and --via gateways (also tried: the keys of ssh-agent, $SSH_AUTH_SOCK)' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file that host keys are checked against [default: ~/.ssh/known_hosts]' })
    .option('accept-new-host-key', { type: 'boolean', describe: 'add an unknown host key to the known_hosts file (a changed key is always refused)' })
    .option('via', { type: 'string', array: true, describe: 'jump host ssh://user@gateway[:port] to go through (repeat for several, in order)' })
    .option('agentless', { type: 'boolean', describe: 'ssh:// board without the agent: upload with SFTP and run run_joint over SSH' })
    .option('run-joint', { type: 'string', describe: "run_joint on the board, for --agentless [default: run_joint on the login shell's PATH]" })
    .option('agent-command', { type: 'string', describe: 'command that starts `axagent --stdio` on an ssh:// board [default: PREFIX/bin/axagent --stdio]' })
    .option('agent-prefix', { type: 'string', describe: 'where `axctl agent install` put the agent on the board [default: /opt/axagent]' })
    .option('board-cache', { type: 'string', describe: 'cache folder on the board for --agentless (~ is the SSH user\'s home) [default: ~/.cache/axctl]' }) as unknown as Argv<T & SshArgs>;
}

/** Parsed SSH arguments → the `ssh` and `agentless` fields of OpenBoardOptions. */
export function sshBoardOptions(argv: SshArgs): SshBoardOptions {
  const ssh = {
    ...(argv.identity !== undefined ? { identity: argv.identity } : {}),
    ...(argv['known-hosts'] !== undefined ? { knownHosts: argv['known-hosts'] } : {}),
    ...(argv['accept-new-host-key'] !== undefined ? { acceptNewHostKey: argv['accept-new-host-key'] } : {}),
    ...(argv.via !== undefined && argv.via.length > 0 ? { via: argv.via } : {}),
    ...(argv['run-joint'] !== undefined ? { runJoint: argv['run-joint'] } : {}),
    ...(argv['agent-command'] !== undefined ? { agentCommand: argv['agent-command'] } : {}),
    ...(argv['agent-prefix'] !== undefined ? { agentPrefix: argv['agent-prefix'] } : {}),
    ...(argv['board-cache'] !== undefined ? { cacheDir: argv['board-cache'] } : {}),
  };
  return { ssh, ...(argv.agentless ? { agentless: true } : {}) };
}

/**
 * The SSH options of `argv` as command-line words, for a next step to repeat them (they are not
 * recorded in .axctl/). --accept-new-host-key is left out: once accepted, the key is known.
 */
export function sshOptionWords(argv: SshArgs): string[] {
  const words = optionWords(
    [
      ['--identity', argv.identity], ['--known-hosts', argv['known-hosts']], ['--run-joint', argv['run-joint']],
      ['--agent-command', argv['agent-command']], ['--agent-prefix', argv['agent-prefix']], ['--board-cache', argv['board-cache']],
    ],
    argv.via,
  );
  if (argv.agentless) words.push('--agentless');
  return words;
}
