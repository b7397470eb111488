/**
 * Transport benchmark (`node dist/scripts/bench/transport.js`, after `npm run build`).
 *
 * 1. Upload throughput: a large file (AXCTL_BENCH_MB, default 256 MB) put to an axagent over
 *    loopback WebSocket, against a plain TCP copy of the same file measured in the same run:
 *    a net server in its own process (like the agent) writing to disk, fsync'd once at the end
 *    (the agent's store syncs what it acknowledges, so both copies end on disk). Best of
 *    AXCTL_BENCH_ROUNDS (default 2) rounds each; prints both MB/s and the ratio (target >= 0.8).
 * 2. Re-deploy of a blob already on the board (100 MB): the Has round trip and a putFile that
 *    finds the blob present, in ms (hashing with a cache hit is the host's job, not timed here).
 * 3. For information: download throughput (getBlob, with its sha256 check), and the store's
 *    own ceiling — BlobStore.writeChunk in this process, 8 MiB per call, no network — since
 *    every uploaded byte is also sha256-hashed, written and fsync'd by the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlobStore } from '../../agent/store/blob-store';
import { AgentClient } from '../../host/client/agent-client';
import { openTransport } from '../../host/client/connect';

const MB = 1024 * 1024;
const FILE_MB = Number(process.env.AXCTL_BENCH_MB ?? 256);
const ROUNDS = Number(process.env.AXCTL_BENCH_ROUNDS ?? 2);
const PRESENT_MB = 100;
const TARGET = 0.8;
const root = path.resolve(__dirname, '../../..');

/** The baseline's receiver: the same job as the agent minus the protocol. */
const TCP_SINK = `
const net = require('net'), fs = require('fs');
const [file] = process.argv.slice(1);
const server = net.createServer((socket) => {
  const fd = fs.openSync(file, 'w');
  socket.on('data', (chunk) => { for (let o = 0; o < chunk.length; ) o += fs.writeSync(fd, chunk, o); });
  socket.on('end', () => { fs.fsyncSync(fd); fs.closeSync(fd); socket.end('ok'); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function writeRandomFile(file: string, mb: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fsp.open(file, 'w');
  for (let i = 0; i < mb; i++) {
    const block = randomBytes(MB);
    hash.update(block);
    await handle.write(block);
  }
  await handle.close();
  return hash.digest('hex');
}

/** A child process that prints one line (its port, or the agent's listening line) on start. */
function startChild(args: string[], pattern: RegExp, stream: 'stdout' | 'stderr'): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no start line from ${args.join(' ')}: ${text}`)), 15_000);
    child[stream]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${text}`)));
  });
}

async function tcpCopy(file: string, port: number): Promise<number> {
  const started = process.hrtime.bigint();
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  const answer = new Promise<void>((resolve, reject) => {
    socket.on('data', () => resolve());
    socket.on('error', reject);
  });
  const handle = await fsp.open(file, 'r');
  const buffer = Buffer.allocUnsafe(MB);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, MB, null);
    if (bytesRead === 0) break;
    if (!socket.write(Buffer.from(buffer.subarray(0, bytesRead)))) await new Promise((r) => socket.once('drain', r));
  }
  await handle.close();
  socket.end();
  await answer;
  socket.destroy();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The store alone: the same bytes through writeChunk, 8 MiB per call, into a fresh store. */
async function storeAlone(file: string, hash: string, size: number, dir: string): Promise<number> {
  const store = await BlobStore.open(dir, { capBytes: 4 * size });
  const handle = await fsp.open(file, 'r');
  const piece = 8 * MB;
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < size; offset += piece) {
    const buffer = Buffer.allocUnsafe(Math.min(piece, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    await store.writeChunk(hash, size, offset, buffer);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await handle.close();
  await fsp.rm(dir, { recursive: true, force: true });
  return seconds;
}

function mbps(bytes: number, seconds: number): number {
  return bytes / MB / seconds;
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-bench-transport-'));
  const children: ChildProcess[] = [];
  try {
    const token = randomBytes(32).toString('hex');
    await fsp.writeFile(path.join(dir, 'token'), token, { mode: 0o600 });
    const runJoint = path.join(dir, 'run_joint');
    await fsp.writeFile(runJoint, '#!/bin/sh\nexit 0\n', { mode: 0o755 });

    process.stdout.write(`preparing ${ROUNDS} files of ${FILE_MB} MB and one of ${PRESENT_MB} MB in ${dir}\n`);
    const files: { file: string; hash: string }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const file = path.join(dir, `big-${i}.bin`);
      files.push({ file, hash: await writeRandomFile(file, FILE_MB) });
    }
    const present = { file: path.join(dir, 'present.bin'), hash: '' };
    present.hash = await writeRandomFile(present.file, PRESENT_MB);
    const bytes = FILE_MB * MB;

    const sink = await startChild(['-e', TCP_SINK, path.join(dir, 'tcp-copy.bin')], /^(\d+)\n/, 'stdout');
    children.push(sink.child);
    const agent = await startChild(
      [path.join(root, 'dist/agent/main.js'), '--listen', '127.0.0.1:0', '--store', path.join(dir, 'store'), '--run-joint', runJoint, '--token-file', path.join(dir, 'token')],
      /listening on (ws:\/\/\S+)/,
      'stderr',
    );
    children.push(agent.child);
    const client = await AgentClient.connect(await openTransport(agent.match[1]!), { token });

    let tcpBest = 0;
    let putBest = 0;
    let getBest = 0;
    let storeBest = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { file, hash } = files[round]!;
      tcpBest = Math.max(tcpBest, mbps(bytes, await tcpCopy(file, Number(sink.match[1]))));
      storeBest = Math.max(storeBest, mbps(bytes, await storeAlone(file, hash, bytes, path.join(dir, 'store-alone'))));
      putBest = Math.max(putBest, mbps(bytes, await timed(() => client.putFile(file, hash, bytes))));
      getBest = Math.max(getBest, mbps(bytes, await timed(() => client.getBlob(hash, bytes, path.join(dir, 'back.bin')))));
      await fsp.rm(path.join(dir, 'back.bin'), { force: true });
    }

    await client.putFile(present.file, present.hash, PRESENT_MB * MB);
    const hasMs: number[] = [];
    const putPresentMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      hasMs.push((await timed(() => client.has([present.hash]))) * 1000);
      putPresentMs.push((await timed(() => client.putFile(present.file, present.hash, PRESENT_MB * MB))) * 1000);
    }
    await client.close();

    const ratio = putBest / tcpBest;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lines = [
      `transport: ${FILE_MB} MB over loopback, best of ${ROUNDS}; agent and TCP sink each in their own process`,
      `  TCP copy to disk (net server, fsync at end)   ${tcpBest.toFixed(0).padStart(6)} MB/s`,
      `  upload to axagent over WebSocket (putFile)    ${putBest.toFixed(0).padStart(6)} MB/s`,
      `  ratio upload / TCP copy                       ${ratio.toFixed(2).padStart(6)}   (target >= ${TARGET}${ratio >= TARGET ? '' : ': BELOW TARGET'})`,
      `  for comparison: the store alone, no network    ${storeBest.toFixed(0).padStart(6)} MB/s   (upload / store alone ${(putBest / storeBest).toFixed(2)})`,
      `  download from axagent (getBlob, sha256 check) ${getBest.toFixed(0).padStart(6)} MB/s`,
      `re-deploy of a present ${PRESENT_MB} MB blob (median of 20)`,
      `  has() round trip                              ${median(hasMs).toFixed(2).padStart(6)} ms`,
      `  putFile() finding it present                  ${median(putPresentMs).toFixed(2).padStart(6)} ms`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench transport: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
