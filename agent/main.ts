#!/usr/bin/env node
/**
 * axagent: the board side of axctl. Builds what the sessions share (store, run service,
 * secret) and the transports they talk over — WebSocket connections (--listen) or this
 * process's stdin/stdout (--stdio, one connection, e.g. through ssh) — then hands each
 * transport to an AgentSession. Runs on plain Node 18; the build bundles it into
 * dist/axagent.js. Logs go to stderr only; in --stdio mode stdout carries nothing but frames.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import type * as net from 'node:net';
import { BadFileError, isAxError, type AxError } from '../shared/errors';
import { readTokenFile } from '../shared/protocol/token';
import { StreamTransport } from '../shared/transport/stream';
import { AGENT_VERSION, agentUsage, parseAgentArgs, type AgentConfig } from './config';
import { RunService } from './run/run-service';
import { RunJointVersionMemory } from './run/version-memory';
import { AgentSession } from './session/session';
import type { AgentContext } from './session/context';
import { openSerialTransport } from './serial';
import { BlobStore } from './store/blob-store';
import { LocalPeers } from './local-peers';
import { serveListening } from './serve-listen';
import { claimStore, relayStdio, waitForStore, type StoreClaim } from './store-owner';
import { TransferMemory } from './session/transfer-memory';
import { sharedPacer, type CollectionPacer } from '../shared/young-collection';

/** Exit code for a bug in the agent itself. */
const INTERNAL_ERROR_EXIT = 70;

function log(line: string): void {
  process.stderr.write(`axagent: ${new Date().toISOString()} ${line}\n`);
}

async function checkRunJoint(file: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await fsp.stat(file)).isFile();
    if (isFile) await fsp.access(file, fsc.X_OK);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw new BadFileError('RUN_JOINT_NOT_FOUND', file, 'no such file', { hint: 'give the path of run_joint with --run-joint' });
    throw new BadFileError('RUN_JOINT_NOT_EXECUTABLE', file, 'is not executable', { hint: `chmod +x ${file}` });
  }
  if (!isFile) throw new BadFileError('RUN_JOINT_NOT_EXECUTABLE', file, 'is not a file', { hint: 'give the path of the run_joint program itself' });
}

/** The token and run_joint, checked before anything else, so a bad setting stops the agent at once. */
async function checkSettings(config: AgentConfig): Promise<Uint8Array> {
  const token = await readTokenFile(config.tokenFile);
  if (token.worldReadable) {
    log(`warning: ${config.tokenFile} can be read by other users; chmod 600 ${config.tokenFile}`);
  }
  await checkRunJoint(config.runJoint);
  return token.secret;
}

/** The process's pacer of young-generation collections (shared/young-collection.ts); says when this Node cannot collect on request. */
function collectionPacer(): CollectionPacer {
  return sharedPacer(() => log('note: this Node does not let the agent ask for garbage collection; a large upload will take more memory'));
}

async function buildContext(config: AgentConfig, secret: Uint8Array): Promise<AgentContext> {
  const store = await BlobStore.open(config.storeDir, config.storeCapBytes === undefined ? {} : { capBytes: config.storeCapBytes });
  const runs = new RunService({ store, runJoint: config.runJoint, defaultTimeoutMs: config.runTimeoutMs });
  return {
    store,
    runs,
    secret,
    agentVersion: AGENT_VERSION,
    defaultRunTimeoutMs: config.runTimeoutMs,
    board: await RunJointVersionMemory.load(config.storeDir, config.runJoint),
    transferMemory: TransferMemory.forSessions(collectionPacer()),
    log,
  };
}

async function serveStdio(ctx: AgentContext, config: AgentConfig): Promise<number> {
  // Anything printed to stdout would corrupt the frames.
  console.log = console.info = console.debug = console.error;
  // stdout is a pipe (or a file): written bytes are in the kernel when the write calls back.
  const transport = new StreamTransport(process.stdin, process.stdout, { peer: 'stdio', idleTimeoutMs: config.idleTimeoutMs, outputCopies: true });
  const session = new AgentSession(transport, ctx, { authTimeoutMs: config.authTimeoutMs });
  const stop = () => void session.close();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const info = await session.closed;
  return info.error && info.error.code !== 'TRANSPORT_DISCONNECTED' ? 1 : 0;
}

/** One host at a time over a serial line; after each session the line is listened on again. */
async function serveSerial(ctx: AgentContext, config: AgentConfig & { mode: { kind: 'serial' } }): Promise<number> {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort()).once('SIGTERM', () => stop.abort());
  log(`axagent ${AGENT_VERSION} serving ${config.mode.device} at ${config.mode.baud} baud (store ${config.storeDir})`);
  while (!stop.signal.aborted) {
    let transport;
    try {
      transport = await openSerialTransport(config.mode.device, config.mode.baud, { signal: stop.signal, idleTimeoutMs: config.idleTimeoutMs });
    } catch (err) {
      if (stop.signal.aborted) break;
      throw err;
    }
    const session = new AgentSession(transport, ctx, { authTimeoutMs: config.authTimeoutMs });
    const onStop = () => void session.close();
    stop.signal.addEventListener('abort', onStop);
    await session.closed;
    stop.signal.removeEventListener('abort', onStop);
    await transport.released;
  }
  log('stopping');
  return 0;
}

/** For --stdio: own the store, or relay this connection to its owner ('relayed' when done). */
async function claimOrRelay(storeDir: string, onPeer: (socket: net.Socket) => void): Promise<Extract<StoreClaim, { role: 'owner' }> | 'relayed'> {
  for (;;) {
    const claim = await claimStore(storeDir, onPeer);
    if (claim.role === 'owner') return claim;
    log(`axagent ${AGENT_VERSION}: another agent process owns ${storeDir}; relaying this connection to it`);
    // An owner that stopped taking connections just as we came: claim again.
    const paced = collectionPacer();
    if ((await relayStdio(claim.socketPath, process.stdin, process.stdout, (bytes) => paced.moved(bytes))) === 'done') return 'relayed';
  }
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
    const peers = new LocalPeers(config);
    if (config.mode.kind === 'listen') return await serveListening({ ...config, mode: config.mode }, peers, () => buildContext(config, secret), log);
    // Before the store is opened: a second process of the same store relays or waits instead.
    const claim = config.mode.kind === 'stdio' ? await claimOrRelay(config.storeDir, peers.accept) : await waitForStore(config.storeDir, peers.accept, log);
    if (claim === 'relayed') return 0;
    try {
      const ctx = await buildContext(config, secret);
      peers.serve(ctx);
      switch (config.mode.kind) {
        case 'stdio': {
          const stopPeers = () => void peers.close();
          process.once('SIGINT', stopPeers).once('SIGTERM', stopPeers);
          const code = await serveStdio(ctx, config);
          // Hosts relayed here by later agents keep their sessions (and runs) to the end; one
          // that arrives while the last ends is served too, then no more are taken.
          await peers.drained();
          claim.stopAccepting();
          await peers.drained();
          return code;
        }
        case 'serial':
          return await serveSerial(ctx, { ...config, mode: config.mode });
      }
    } finally {
      await peers.close();
      await claim.release();
    }
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
