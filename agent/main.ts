#!/usr/bin/env node
/**
 * axagent: the board side of axctl. Parses the command line, checks the token, warns about a
 * run_joint it cannot run, and decides whether this process serves: a --stdio agent whose store
 * another agent process owns relays its connection there (store-owner.ts) and ends. Only a
 * process that serves loads the serving half (serve.ts: store, run service, sessions,
 * transports), so --version and relays start fast on a board's slow CPU. Runs on plain Node 18; the build bundles it
 * into dist/axagent.js. Logs go to stderr only; in --stdio mode stdout carries nothing but frames.
 */
import type * as net from 'node:net';
import { isAxError, type AxError } from '../shared/errors';
import { readTokenFile } from '../shared/protocol/token';
import { runJointProblemAt, runJointWarning } from '../shared/run/agent-run-joint-check';
import { AGENT_VERSION, agentUsage, parseAgentArgs, type AgentConfig } from './config';
import { LocalPeers } from './local-peers';
import { collectionPacer, log } from './log';
import { checkStoreFolder } from './store-folder';
import { claimStore, relayStdio, waitForStore, type RelayEnd, type StoreClaim } from './store-owner';

/** Exit code for a bug in the agent itself. */
const INTERNAL_ERROR_EXIT = 70;

/**
 * A run_joint the agent cannot run does not stop it: a firmware update that removed run_joint
 * must not leave an installed service dead (the host would only see "cannot connect"). It serves
 * anyway, says so in one warning line, reports the problem at every handshake (session/facts.ts)
 * and fails runs with RUN_JOINT_NOT_FOUND / RUN_JOINT_NOT_EXECUTABLE until run_joint is back.
 * The line is a log line (timestamped, "warning:"), never read by the host as the refusal
 * agents of earlier releases print (shared/run/agent-run-joint-check.ts).
 */
async function warnAboutRunJoint(file: string): Promise<void> {
  const kind = await runJointProblemAt(file);
  if (kind !== null) log(runJointWarning(file, kind));
}

/** The token, checked before anything else, so a bad one stops the agent at once; run_joint is only warned about. */
async function checkSettings(config: AgentConfig): Promise<Uint8Array> {
  const token = await readTokenFile(config.tokenFile);
  if (token.notPrivate) {
    log(`warning: ${config.tokenFile} can be read or changed by other users; chmod 600 ${config.tokenFile}`);
  }
  await warnAboutRunJoint(config.runJoint);
  return token.secret;
}

/**
 * For --stdio: own the store, or relay this connection to its owner; then how the relayed
 * connection ended (the exit code is the owner's would be: 0 the host left, 1 the owner hung up).
 */
async function claimOrRelay(storeDir: string, onPeer: (socket: net.Socket) => void): Promise<Extract<StoreClaim, { role: 'owner' }> | Exclude<RelayEnd, 'gone'>> {
  for (;;) {
    const claim = await claimStore(storeDir, onPeer);
    if (claim.role === 'owner') return claim;
    log(`axagent ${AGENT_VERSION}: another agent process owns ${storeDir}; relaying this connection to it`);
    const paced = collectionPacer();
    const end = await relayStdio(claim.socketPath, process.stdin, process.stdout, (bytes) => paced.moved(bytes));
    // An owner that stopped taking connections just as we came: claim again.
    if (end !== 'gone') return end;
  }
}

/**
 * A --serial agent waits for the store's owner to stop; SIGTERM or Ctrl-C meanwhile is a clean
 * stop (exit 0, as once serving), not the signal's default death (143) that a service manager
 * reports as a failure. Null when stopped so.
 */
async function waitWhileAnotherOwns(storeDir: string, peers: LocalPeers): Promise<Extract<StoreClaim, { role: 'owner' }> | null> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    return await waitForStore(storeDir, peers.accept, log, { signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** The serving half (serve.ts), loaded only when this process serves: see there. */
function loadServing(): Promise<typeof import('./serve.js')> {
  return import('./serve.js');
}

export async function main(argv: string[]): Promise<number> {
  try {
    const command = parseAgentArgs(argv);
    if (command.action === 'version') {
      process.stdout.write(`${AGENT_VERSION}\n`);
      return 0;
    }
    if (command.action === 'help') {
      process.stdout.write(agentUsage());
      return 0;
    }
    const { config } = command;
    const secret = await checkSettings(config);
    await checkStoreFolder(config.storeDir);
    const peers = new LocalPeers();
    if (config.mode.kind === 'listen') return await (await loadServing()).serveWebSocket({ ...config, mode: config.mode }, secret, peers);
    // Before the store is opened: a second process of the same store relays or waits instead.
    const claim = config.mode.kind === 'stdio' ? await claimOrRelay(config.storeDir, peers.accept) : await waitWhileAnotherOwns(config.storeDir, peers);
    if (claim === null) {
      log(`axagent ${AGENT_VERSION}: stopping (it was still waiting for the store)`);
      return 0;
    }
    if (claim === 'host-left') return 0;
    if (claim === 'owner-left') {
      log(`axagent ${AGENT_VERSION}: the store's owner ended the relayed connection (its log says why)`);
      return 1;
    }
    return await (await loadServing()).serveOwnedStore(config, secret, claim, peers);
  } catch (err) {
    if (isAxError(err)) {
      process.stderr.write(`axagent: ${(err as AxError).describe()}\n`);
      return err.exitCode;
    }
    process.stderr.write(`axagent: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return INTERNAL_ERROR_EXIT;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Child processes or sockets still closing must not keep a stopped agent alive.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
