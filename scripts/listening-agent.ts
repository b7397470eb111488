/**
 * The bundled agent started as a WebSocket service on a free loopback port, for the demo and
 * the benches: resolves with its ws:// URL once it says it is listening.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ListeningAgentSpec {
  /** dist/axagent.js (or dist/agent/main.js). */
  agent: string;
  store: string;
  runJoint: string;
  tokenFile: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function startListeningAgent(spec: ListeningAgentSpec): { child: ChildProcess; url: Promise<string> } {
  const timeoutMs = spec.timeoutMs ?? 15_000;
  const child = spawn(process.execPath, [spec.agent, '--listen', '127.0.0.1:0', '--store', spec.store, '--run-joint', spec.runJoint, '--token-file', spec.tokenFile], {
    env: spec.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited (${code}) before listening: ${stderr}`));
    });
  });
  return { child, url };
}
