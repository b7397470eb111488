/**
 * SSH for axctl: connections to boards (through jump hosts), known_hosts checking, key
 * authentication, exec and SFTP helpers, the ssh:// agent transport, ws:// through tunnels and
 * the agentless BoardSession. Manual: docs/parts/ssh.md. Importing this module also registers
 * the schemes and board openers (register.ts).
 */
import './register';

export { openSsh, defaultKnownHosts, SshConnection, SSH_DEFAULTS, type ExecOptions, type ExecResult, type SshOpenOptions } from './connection';
export { SftpSession, type TransferOptions } from './sftp';
export { parseSshUrl, type SshTarget } from './url';
export { fingerprint, parseKnownHosts, checkHostKey, type HostKeyVerdict } from './known-hosts';
export { shellQuote, shellCommand } from './quote';
export { parseSshOptions, type SshSchemeOptions } from './options';
export { agentLaunch, DEFAULT_AGENT_PREFIX, type AgentLaunch } from './agent-command';
export { openSshUrl, startAgent, agentTokenOf, SshAgentTransport } from './transport';
export { openWebSocketVia } from './ws-via';
export { openAgentless, DEFAULT_CACHE_DIR, DEFAULT_RUN_JOINT, type AgentlessOptions } from './agentless/open';
export { AgentlessSession } from './agentless/session';
export { openAgentOverSsh, openAgentlessBoard, type SshBoardOptions } from './board-openers';
export { sshOptions, sshBoardOptions, type SshArgs } from './cli-options';
