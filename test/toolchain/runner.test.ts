/** runPulsar on small scripts: line splitting across chunks, both streams, exit codes, timeouts. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePulsarInvocation, runPulsar, type PulsarLine } from '../../host/toolchain';
import { isAxError } from '../../shared/errors';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-runner-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An invocation that runs `node SCRIPT` with the script's text. */
function script(name: string, body: string) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  return resolvePulsarInvocation({ cwd: dir, env: {}, pulsar: `'${process.execPath}' '${file}'` });
}

describe('runPulsar', () => {
  it('splits lines on \\n, \\r\\n (even across chunks) and \\r, keeps UTF-8 whole and the unterminated last line', async () => {
    const inv = script('chunks.js', `
      const euro = Buffer.from('€ ok\\n');
      const parts = [Buffer.from('a\\r'), Buffer.from('\\nprogress 10%\\rprogress 20%\\r\\nerr'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('tail')];
      let i = 0;
      const next = () => { if (i < parts.length) process.stdout.write(parts[i++], () => setTimeout(next, 20)); };
      process.stderr.write('to stderr\\n', next);
    `);
    const seen: PulsarLine[] = [];
    const result = await runPulsar(inv, ['x'], { timeoutMs: 30_000, onLine: (l) => seen.push(l) });
    expect(result.exitCode).toBe(0);
    expect(result.lines).toEqual(seen);
    expect(seen.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['a', 'progress 10%', 'progress 20%', 'err€ ok', 'tail']);
    expect(seen.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['to stderr']);
    expect(result.argv.slice(-1)).toEqual(['x']);
  });

  it('a working folder that is a file or missing is its own error (exit 2), not a crash or a pulsar not found', async () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    for (const [cwd, code] of [[file, 'FILE_NOT_FOLDER'], [path.join(dir, 'missing'), 'FILE_NOT_FOUND']] as const) {
      const inv = { ...script('ok.js', ''), cwd };
      const err = await runPulsar(inv, [], { timeoutMs: 30_000 }).then(() => null, (e: unknown) => e);
      expect(isAxError(err) && [err.code, err.exitCode]).toEqual([code, 2]);
      expect((err as Error).message).toContain(cwd);
    }
  });

  it('returns a non-zero exit instead of throwing', async () => {
    const result = await runPulsar(script('fail.js', 'console.log("boom"); process.exit(3);'), [], { timeoutMs: 30_000 });
    expect([result.exitCode, result.signal, result.lines.map((l) => l.text)]).toEqual([3, null, ['boom']]);
  });

  it('stops a process at the timeout and says so', async () => {
    const err = await runPulsar(script('sleep.js', 'setInterval(() => {}, 1000);'), ['build'], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('PULSAR_TIMEOUT');
    expect((err as Error).message).toContain('pulsar build did not finish');
  });

  it('stops at the timeout when pulsar is a wrapper script whose child keeps the pipes open', async () => {
    // sh runs node without exec: SIGTERM ends sh, the node child lives on holding stdout/stderr.
    const child = path.join(dir, 'forever.js');
    fs.writeFileSync(child, 'console.log("started"); setTimeout(() => {}, 20_000);');
    const wrapper = path.join(dir, 'wrapper.sh');
    fs.writeFileSync(wrapper, `#!/bin/sh\n'${process.execPath}' '${child}' "$@"\necho after\n`, { mode: 0o755 });
    const inv = resolvePulsarInvocation({ cwd: dir, env: {}, pulsar: wrapper });
    const started = Date.now();
    const err = await runPulsar(inv, ['build'], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(isAxError(err) && err.code).toBe('PULSAR_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
