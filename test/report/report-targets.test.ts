/**
 * Where a --junit/--html path leads: a report is written as `cmd > PATH` would, never by
 * renaming a regular file over a device, a pipe or a symbolic link (as root, `--junit
 * /dev/full` once left /dev/full a regular file). Real FIFOs, device nodes, links and
 * descriptors; the descriptor cases run the built writer in a child process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { writeReportFile } from '../../host/report/report-file';
import { ROOT, requireBuild } from '../built';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-report-targets-');
let tmp: string;
beforeAll(() => {
  tmp = dirs.make();
});
afterAll(() => dirs.cleanup());

const isRoot = process.getuid?.() === 0;

async function failure(file: string, content = 'x'): Promise<AxError> {
  const err = await writeReportFile(file, content).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AxError);
  return err as AxError;
}

function tempFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

describe('report paths that are not plain files', () => {
  it('a link target with .. climbs from the folder the link really is in, as the kernel does', async () => {
    const root = dirs.make();
    mkdirSync(path.join(root, 'a', 'b', 'c'), { recursive: true });
    mkdirSync(path.join(root, 'w'));
    symlinkSync('../a/b/c', path.join(root, 'w', 'out')); // w/out is really a/b/c
    symlinkSync('../x.xml', path.join(root, 'a', 'b', 'c', 'report.xml'));
    await writeReportFile(path.join(root, 'w', 'out', 'report.xml'), '<climbed/>');
    // The kernel reads a/b/c/../x.xml = a/b/x.xml; reading the text w/out/../x.xml would give w/x.xml.
    expect(readFileSync(path.join(root, 'a', 'b', 'x.xml'), 'utf8')).toBe('<climbed/>');
    expect(readdirSync(path.join(root, 'w'))).toEqual(['out']);
  });

  it('a symbolic link is followed: the file it names is replaced, the link stays', async () => {
    mkdirSync(path.join(tmp, 'arch'));
    writeFileSync(path.join(tmp, 'arch', 'run42.xml'), 'old');
    symlinkSync('arch/run42.xml', path.join(tmp, 'latest.xml'));
    await writeReportFile(path.join(tmp, 'latest.xml'), '<new/>');
    expect(readlinkSync(path.join(tmp, 'latest.xml'))).toBe('arch/run42.xml');
    expect(readFileSync(path.join(tmp, 'arch', 'run42.xml'), 'utf8')).toBe('<new/>');
    expect([...tempFilesIn(tmp), ...tempFilesIn(path.join(tmp, 'arch'))]).toEqual([]);
  });

  it('a link to a file not yet there makes that file', async () => {
    symlinkSync('later/run43.xml', path.join(tmp, 'next.xml'));
    await writeReportFile(path.join(tmp, 'next.xml'), '<made/>');
    expect(lstatSync(path.join(tmp, 'next.xml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(tmp, 'later', 'run43.xml'), 'utf8')).toBe('<made/>');
  });

  it('a FIFO is written to its reader and stays a FIFO', async () => {
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let read = '';
    reader.stdout.on('data', (d: Buffer) => (read += d.toString()));
    const done = new Promise((resolve) => reader.once('close', resolve));
    try {
      await writeReportFile(fifo, '<through-the-pipe/>');
      await done;
    } finally {
      // A FIFO renamed away leaves the reader waiting forever.
      if (reader.exitCode === null) reader.kill();
    }
    expect(read).toBe('<through-the-pipe/>');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it.skipIf(!isRoot)('a character device is written to and stays one; a full one says so (root: mknod)', async () => {
    const nul = path.join(tmp, 'null');
    const full = path.join(tmp, 'full');
    execFileSync('mknod', [nul, 'c', '1', '3']);
    execFileSync('mknod', [full, 'c', '1', '7']);
    await writeReportFile(nul, '<gone/>');
    expect(lstatSync(nul).isCharacterDevice()).toBe(true);
    const err = await failure(full);
    expect(err.code).toBe('REPORT_WRITE_FAILED');
    expect(err.describe()).toBe(`${full}: cannot write the report: no space left on the device (free some space or write elsewhere)`);
    expect(lstatSync(full).isCharacterDevice()).toBe(true);
    expect(tempFilesIn(tmp)).toEqual([]);
  });

  it('a folder is one line saying so and stays as it was', async () => {
    const folder = path.join(tmp, 'reports');
    mkdirSync(folder);
    for (const file of [folder, `${folder}/`, `${folder}/.`]) {
      expect((await failure(file)).describe()).toBe(`${file}: cannot write the report: it is a folder (name a file inside it)`);
    }
    expect(readdirSync(folder)).toEqual([]);
    expect(tempFilesIn(tmp)).toEqual([]);
  });

  it('a socket is refused in words, not an errno', async () => {
    const server = (await import('node:net')).createServer();
    const socket = path.join(tmp, 'sock');
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      expect((await failure(socket)).describe()).toBe(`${socket}: cannot write the report: it is a socket (name a file, a device or a pipe)`);
    } finally {
      server.close();
    }
  });

  it('a descriptor that is not open is named as such', async () => {
    expect((await failure('/dev/fd/987')).describe()).toBe(
      '/dev/fd/987: cannot write the report: no descriptor of that number is open for writing (open it for axctl (e.g. 3>file) or name a file)',
    );
  });
});

/** Runs the built writer in a child: `writeReportFile(file, text)`, then exit 0 or print the error line and exit 2. */
function writeInChild(file: string, text: string, options: { uid?: number; fd3?: boolean; fileSizeLimit?: number } = {}) {
  requireBuild();
  const script = `require(${JSON.stringify(path.join(ROOT, 'dist/host/report/report-file.js'))}).writeReportFile(process.argv[1], process.argv[2])
    .then(() => process.exit(0), (e) => { process.stderr.write(e.describe() + '\\n'); process.exit(2); });`;
  // ulimit -f makes a write past the limit fail (EFBIG) instead of killing the process (SIGXFSZ ignored).
  const [command, args] =
    options.fileSizeLimit === undefined
      ? [process.execPath, ['-e', script, file, text]]
      : ['sh', ['-c', `ulimit -f ${options.fileSizeLimit}; trap '' XFSZ; exec "$0" -e "$1" "$2" "$3"`, process.execPath, script, file, text]];
  const child = spawn(command, args, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe', options.fd3 ? 'pipe' : 'ignore'], ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }) });
  const out = { stdout: '', stderr: '', fd3: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  (child.stdio[3] as NodeJS.ReadableStream | null)?.on('data', (d: Buffer) => (out.fd3 += d.toString()));
  return new Promise<typeof out & { code: number | null }>((resolve) => child.once('close', (code) => resolve({ ...out, code })));
}

describe('report paths that are descriptors (built writer in a child process)', () => {
  it('/dev/fd/3 (as bash passes >(...)) is written to the pipe behind it', async () => {
    const run = await writeInChild('/dev/fd/3', '<to-fd-3/>', { fd3: true });
    expect(run).toMatchObject({ code: 0, stderr: '', fd3: '<to-fd-3/>' });
  });

  it('a /dev/fd/N that is one of Node own descriptors is refused, not written into', async () => {
    requireBuild();
    // In the child, find what Node opened for itself: an anonymous inode (epoll, eventfd) and a
    // pipe it holds both ends of (libuv's); a write into either crashed axctl or lost the report.
    const script = `
      const fs = require('fs');
      const { writeReportFile } = require(${JSON.stringify(path.join(ROOT, 'dist/host/report/report-file.js'))});
      process.on('SIGINT', () => {}); // makes libuv open its signal pipe
      const links = fs.readdirSync('/proc/self/fd').map(Number).filter((n) => n > 2).map((n) => { try { return [n, fs.readlinkSync('/proc/self/fd/' + n)]; } catch { return null; } }).filter(Boolean);
      const anon = links.find(([, l]) => l.startsWith('anon_inode:'));
      const pipe = links.find(([n, l]) => l.startsWith('pipe:') && links.some(([m, k]) => m !== n && k === l));
      (async () => {
        const lines = [];
        for (const [n] of [anon, pipe]) lines.push(await writeReportFile('/dev/fd/' + n, '<lost/>').then(() => 'written', (e) => e.describe()));
        process.stdout.write(JSON.stringify({ found: [Boolean(anon), Boolean(pipe)], lines }));
      })();`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const { found, lines } = JSON.parse(out) as { found: boolean[]; lines: string[] };
    expect(found).toEqual([true, true]);
    for (const line of lines) expect(line).toMatch(/^\/dev\/fd\/\d+: cannot write the report: no descriptor of that number is open for writing \(open it for axctl/);
  });

  it('/dev/fd/1 and /proc/self/fd/1 go to stdout', async () => {
    for (const file of ['/dev/fd/1', '/proc/self/fd/1']) {
      const run = await writeInChild(file, '<to-stdout/>');
      expect(run).toMatchObject({ code: 0, stderr: '', stdout: '<to-stdout/>' });
    }
  });

  it.skipIf(!isRoot)('/dev/stdout goes to stdout for a user who cannot write in /dev (root: runs as nobody)', async () => {
    const run = await writeInChild('/dev/stdout', '<as-nobody/>', { uid: 65534 });
    expect(run).toMatchObject({ code: 0, stderr: '', stdout: '<as-nobody/>' });
  });

  it('a write that fails leaves the existing file as it was, and no temporary file', async () => {
    const folder = dirs.make();
    const file = path.join(folder, 'kept.xml');
    writeFileSync(file, 'the old report');
    // 1 block of 512 bytes: the new report cannot be written whole.
    const run = await writeInChild(file, 'x'.repeat(4096), { fileSizeLimit: 1 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^${file}: cannot write the report: .*\\(.*\\)\\n$`));
    expect(readFileSync(file, 'utf8')).toBe('the old report');
    expect(readdirSync(folder)).toEqual(['kept.xml']);
  });
});
