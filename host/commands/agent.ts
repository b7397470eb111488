/**
 * `axctl agent install|status|uninstall --board ssh://USER@HOST`: put the board agent on a
 * board over SSH (with its token, wrapper and service), look at it, or take it away.
 * Exit codes: 0 done / installed and answering; 1 (status) not installed, outdated or not
 * answering; 2 bad options or a board that lacks what the agent needs; 4 a command on the
 * board failed; 5 cannot connect, authenticate, or the agent does not answer.
 */
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../../shared/errors';
import { action } from '../cli-support';
import type { CommonArgs } from '../agent-install/service';

/**
 * The install service and its renderers, loaded when an agent command runs: they bring SSH and
 * the bundled agent's tooling (~140 ms), which every other axctl command would otherwise load
 * at start (yargs loads every command module to build the command list).
 */
const service = async () => require('../agent-install/service') as typeof import('../agent-install/service');
const render = async () => require('../agent-install/render') as typeof import('../agent-install/render');

interface BaseArgs {
  board: string;
  prefix: string;
  'initd-dir': string;
  identity?: string;
  'known-hosts'?: string;
  'accept-new-host-key': boolean;
  via?: string[];
  'connect-timeout'?: number;
  json: boolean;
}

function baseOptions(yargs: Argv): Argv<BaseArgs> {
  return yargs
    .option('board', { type: 'string', demandOption: true, describe: 'the board\'s SSH login, ssh://USER@HOST[:PORT], or an inventory name whose url is one' })
    // --agent-prefix is what verify, deploy and the inventory call the same folder.
    .option('prefix', { type: 'string', alias: 'agent-prefix', default: '/opt/axagent', describe: 'folder on the board the agent lives in' })
    .option('initd-dir', { type: 'string', default: '/etc/init.d', describe: 'where init.d scripts live on the board' })
    .option('identity', { type: 'string', describe: 'SSH private key file (default: ssh-agent keys and ~/.ssh/id_*)' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file [default: ~/.ssh/known_hosts]' })
    .option('accept-new-host-key', { type: 'boolean', default: false, describe: 'trust and record the key of a board not yet in known_hosts' })
    .option('via', { type: 'string', array: true, describe: 'jump host ssh://USER@GATEWAY (repeat for a chain)' })
    .option('connect-timeout', { type: 'number', describe: 'seconds for the SSH connection to each hop [default: 10]' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }) as unknown as Argv<BaseArgs>;
}

function common(argv: BaseArgs): CommonArgs {
  return {
    board: argv.board,
    prefix: argv.prefix,
    initdDir: argv['initd-dir'],
    ...(argv.identity && { identity: argv.identity }),
    ...(argv['known-hosts'] && { knownHosts: argv['known-hosts'] }),
    ...(argv['accept-new-host-key'] && { acceptNewHostKey: true }),
    ...(argv.via && { via: argv.via }),
    ...(argv['connect-timeout'] !== undefined && { connectTimeout: argv['connect-timeout'] }),
  };
}

function print(json: boolean, report: object, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : text);
}

interface InstallArgv extends BaseArgs {
  service: string;
  'run-joint'?: string;
  port: number;
  'listen-host': string;
  store?: string;
  node?: string;
  'agent-file'?: string;
  'check-timeout': number;
  'replace-service-file': boolean;
}

const install: CommandModule<object, InstallArgv> = {
  command: 'install',
  describe: 'Install or upgrade the agent on a board over SSH (token kept on re-install), start its service, check it answers',
  builder: (yargs) =>
    baseOptions(yargs)
      .option('service', { type: 'string', choices: ['auto', 'systemd', 'initd', 'none'], default: 'auto', describe: 'how the agent keeps running: auto = systemd if it runs there, else init.d, else none (ssh:// only)' })
      .option('run-joint', { type: 'string', describe: 'run_joint on the board [default: as installed, else $PATH, /opt/bin, /usr/local/bin, /usr/bin, /soc/bin]' })
      .option('port', { type: 'number', default: 7007, describe: 'the service\'s WebSocket port' })
      .option('listen-host', { type: 'string', default: '0.0.0.0', describe: 'address the service listens on' })
      .option('store', { type: 'string', describe: 'blob store folder on the board [default: as installed, else PREFIX/store]' })
      .option('node', { type: 'string', describe: 'Node.js (18 or later) on the board [default: as installed, else node or nodejs on $PATH]' })
      .option('agent-file', { type: 'string', describe: 'the agent bundle to install [default: dist/axagent.js of this axctl]' })
      .option('check-timeout', { type: 'number', default: 20, describe: 'seconds each answer check may take after starting' })
      .option('replace-service-file', { type: 'boolean', default: false, describe: 'write axagent.service / S99axagent over one that axctl did not write (refused otherwise)' })
      .example('$0 agent install --board ssh://root@192.168.1.20', 'install to /opt/axagent, service chosen by the board')
      .example('$0 agent install --board ssh://me@board --prefix /home/me/axagent --service none', 'without root: reachable as ssh:// only') as unknown as Argv<InstallArgv>,
  handler: action(async (argv: InstallArgv) => {
    const report = await (await service()).runInstall({
      ...common(argv),
      service: argv.service,
      port: argv.port,
      listenHost: argv['listen-host'],
      checkTimeout: argv['check-timeout'],
      ...(argv['run-joint'] && { runJoint: argv['run-joint'] }),
      ...(argv.store && { store: argv.store }),
      ...(argv.node && { node: argv.node }),
      ...(argv['agent-file'] && { agentFile: argv['agent-file'] }),
      ...(argv['replace-service-file'] && { replaceServiceFile: true }),
    });
    print(argv.json, report, (await render()).renderInstall(report));
    return ExitCode.OK;
  }),
};

interface StatusArgv extends BaseArgs {
  'check-timeout': number;
}

const status: CommandModule<object, StatusArgv> = {
  command: 'status',
  describe: 'Is the agent installed, which version, is its service running, does it answer, how much store space is free',
  builder: (yargs) =>
    baseOptions(yargs)
      .option('check-timeout', { type: 'number', default: 10, describe: 'seconds each answer check may take' })
      .epilogue('Exit codes: 0 installed, up to date and answering; 1 not installed, outdated or not answering; 5 cannot connect.') as unknown as Argv<StatusArgv>,
  handler: action(async (argv: StatusArgv) => {
    const report = await (await service()).runStatus({ ...common(argv), checkTimeout: argv['check-timeout'] });
    print(argv.json, report, (await render()).renderStatus(report));
    return report.installed && report.problems.length === 0 ? ExitCode.OK : ExitCode.MISMATCH;
  }),
};

interface UninstallArgv extends BaseArgs {
  'purge-store': boolean;
}

const uninstall: CommandModule<object, UninstallArgv> = {
  command: 'uninstall',
  describe: 'Stop and remove the agent\'s service, end its processes and remove the prefix (safe to repeat)',
  builder: (yargs) =>
    baseOptions(yargs).option('purge-store', { type: 'boolean', default: false, describe: 'also remove a --store folder outside the prefix' }) as unknown as Argv<UninstallArgv>,
  handler: action(async (argv: UninstallArgv) => {
    const report = await (await service()).runUninstall({ ...common(argv), purgeStore: argv['purge-store'] });
    print(argv.json, report, (await render()).renderUninstall(report));
    return ExitCode.OK;
  }),
};

export const command = 'agent <command>';
export const describe = 'Install, inspect or remove the board agent over SSH';

export function builder(yargs: Argv): Argv {
  return yargs
    .command(install as unknown as CommandModule)
    .command(status as unknown as CommandModule)
    .command(uninstall as unknown as CommandModule)
    .demandCommand(1, 'name what to do: install, status or uninstall');
}

export function handler(): void {
  // yargs runs the subcommand's handler.
}
