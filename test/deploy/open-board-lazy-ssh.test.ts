/**
 * A plain ws:// board is opened without loading SSH (ssh2 and the SSH openers, ~60 ms of every
 * axctl start), as the SSH opener would have opened it: same session, same reinstall hint. Any
 * SSH setting (here a jump host list, or --agentless) still brings the SSH code in. Run in a
 * fresh Node process from dist/, where nothing else has loaded SSH first.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type AgentProcess } from '../agent/helpers';
import { ROOT, requireBuild } from '../built';

let agent: AgentProcess;
beforeAll(async () => {
  requireBuild();
  agent = await startAgent();
}, 30_000);
afterAll(() => agent?.stop());

/** Opens the board in a new process with `extra` options; what it loaded and the session's reinstall hint. */
async function openInFreshProcess(extra: Record<string, unknown>): Promise<{ ssh2Loaded: boolean; reinstall?: { command: string }; error?: string }> {
  const script = `
    const { openBoard } = require(${JSON.stringify(path.join(ROOT, 'dist/host/board/open-board.js'))});
    const loaded = () => Object.keys(require.cache).some((m) => m.includes('/node_modules/ssh2/'));
    openBoard({ board: ${JSON.stringify(agent.url)}, tokenFile: ${JSON.stringify(path.join(agent.dir, 'token'))}, ...${JSON.stringify(extra)} }).then(
      async (session) => { console.log(JSON.stringify({ ssh2Loaded: loaded(), reinstall: session.reinstall })); await session.close(); },
      (err) => console.log(JSON.stringify({ ssh2Loaded: loaded(), error: err.code })),
    );`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 20_000 });
  return JSON.parse(stdout) as { ssh2Loaded: boolean; reinstall?: { command: string }; error?: string };
}

describe('opening a ws:// board', () => {
  it('without SSH settings: SSH is not loaded, and the session still says how to reinstall the agent over SSH', async () => {
    const opened = await openInFreshProcess({});
    expect(opened.error).toBeUndefined();
    expect(opened.ssh2Loaded).toBe(false);
    expect(opened.reinstall?.command).toBe('axctl agent install --board ssh://USER@127.0.0.1');
  });

  it('with an SSH setting (a known_hosts file, --agentless): the SSH openers take it, as before', async () => {
    const opened = await openInFreshProcess({ ssh: { knownHosts: '/nonexistent/known_hosts' } });
    expect(opened.ssh2Loaded).toBe(true);
    expect(opened.reinstall?.command).toBe('axctl agent install --board ssh://USER@127.0.0.1');
    const agentless = await openInFreshProcess({ agentless: true });
    expect(agentless.ssh2Loaded).toBe(true);
    expect(agentless.error).toBe('AGENTLESS_NEEDS_SSH');
  });
});
