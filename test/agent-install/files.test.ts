/**
 * What install writes on a board, without a board: the wrapper, the systemd unit (systemd does
 * not run in this container, so its unit is checked by content), the init.d script, the
 * settings file, service detection, path checks, the host's token file names, and the upgrade
 * hint for an agent of another protocol.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectError } from '../../shared/errors';
import { agentUpgradeHint, withUpgradeHint } from '../../host/agent-install/checks';
import { hostTokenFile, hostTokenFileOf, sameHostTokens, tokenFileName, writeHostToken } from '../../host/agent-install/host-token';
import { resolveToken } from '../../host/board/open-board';
import { checkBoardPath, layoutOf, parseConf, renderConf, type AgentConf } from '../../host/agent-install/layout';
import { chooseService, nodeMajor, parseProbe, probeScript } from '../../host/agent-install/probe';
import { planInstall } from '../../host/agent-install/install';
import { prepareStoreScript, receiveAgentCommand, removeMadeFoldersScript, removeServiceScript, startServiceScript, stopAgentProcessesScript, undoReceiveScript, writeInstallationScript } from '../../host/agent-install/remote-scripts';
import { renderInitdScript, renderSystemdUnit, renderWrapper } from '../../host/agent-install/service-files';

const layout = layoutOf('/opt/axagent');
const conf: AgentConf = { version: '0.1.0', node: '/usr/bin/node', store: '/data/axstore', runJoint: '/opt/bin/run_joint', listenHost: '0.0.0.0', port: 7007, service: 'systemd', serviceFile: '/etc/systemd/system/axagent.service' };

/** `sh -n`: the script parses. */
function shSyntaxOk(script: string): string {
  const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  return r.status === 0 ? 'ok' : r.stderr;
}

describe('the systemd unit', () => {
  const unit = renderSystemdUnit(layout, conf);
  it('starts the wrapper listening on the port, restarts on failure, starts at boot', () => {
    expect(unit).toContain('ExecStart=/opt/axagent/bin/axagent --listen 0.0.0.0:7007\n');
    expect(unit).toMatch(/^\[Unit\]$/m);
    expect(unit).toMatch(/^After=network\.target$/m);
    expect(unit).toMatch(/^\[Service\]\nType=simple$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^\[Install\]\nWantedBy=multi-user\.target$/m);
  });
  it('brackets an IPv6 listen address', () => {
    expect(renderSystemdUnit(layout, { ...conf, listenHost: '::' })).toContain('--listen [::]:7007\n');
  });
  it('is written, reloaded, enabled and restarted by the start script; disabled and removed by the remove script', () => {
    const start = startServiceScript('systemd', conf.serviceFile, layout, conf);
    expect(shSyntaxOk(start)).toBe('ok');
    expect(start).toContain("mv -f '/etc/systemd/system/axagent.service.new' '/etc/systemd/system/axagent.service'");
    expect(start.indexOf('systemctl daemon-reload')).toBeLessThan(start.indexOf('systemctl restart axagent'));
    expect(start).toContain('systemctl enable axagent');
    const remove = removeServiceScript('systemd', conf.serviceFile);
    expect(remove).toContain('systemctl disable --now axagent');
    expect(remove).toContain("rm -f '/etc/systemd/system/axagent.service'");
  });
});

describe('the wrapper and the settings file', () => {
  it('the wrapper sources the settings and passes its arguments on', async () => {
    const wrapper = renderWrapper(layout);
    expect(shSyntaxOk(wrapper)).toBe('ok');
    expect(wrapper).toContain(`PREFIX='/opt/axagent'`);
    expect(wrapper).toContain('--token-file "$PREFIX/etc/token" "$@"');
  });

  it('runs the agent with the settings, in a real folder', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-wrapper-'));
    try {
      const l = layoutOf(dir);
      const script = writeInstallationScript(l, { ...conf, node: process.execPath, service: 'none' }, 'a'.repeat(64));
      await fsp.mkdir(path.join(dir, 'etc'), { recursive: true });
      await fsp.mkdir(path.join(dir, 'bin'), { recursive: true });
      execFileSync('sh', ['-s'], { input: script });
      expect((await fsp.stat(l.tokenFile)).mode & 0o777).toBe(0o600);
      expect((await fsp.stat(l.wrapper)).mode & 0o777).toBe(0o755);
      expect((await fsp.readFile(l.tokenFile, 'utf8')).trim()).toBe('a'.repeat(64));
      expect(parseConf(await fsp.readFile(l.confFile, 'utf8'))).toEqual({ ...conf, node: process.execPath, service: 'none' });
      // A stand-in agent that prints its arguments shows what the wrapper passes.
      await fsp.mkdir(path.join(dir, 'lib'));
      await fsp.writeFile(l.agentFile, 'process.stdout.write(JSON.stringify(process.argv.slice(2)))');
      const args = JSON.parse(execFileSync(l.wrapper, ['--stdio'], { encoding: 'utf8' }));
      expect(args).toEqual(['--store', '/data/axstore', '--run-joint', '/opt/bin/run_joint', '--token-file', `${dir}/etc/token`, '--stdio']);
      // The agent gets glibc's fixed mmap threshold, noted as not the user's (not for run_joint)...
      await fsp.writeFile(l.agentFile, 'process.stdout.write(JSON.stringify([process.env.MALLOC_MMAP_THRESHOLD_, process.env.AXAGENT_UNSET_FOR_RUNS]))');
      const { MALLOC_MMAP_THRESHOLD_: _unset, ...env } = process.env;
      expect(JSON.parse(execFileSync(l.wrapper, ['--stdio'], { encoding: 'utf8', env }))).toEqual(['131072', 'MALLOC_MMAP_THRESHOLD_']);
      // ...and a threshold the user set stays, and stays theirs.
      expect(JSON.parse(execFileSync(l.wrapper, ['--stdio'], { encoding: 'utf8', env: { ...env, MALLOC_MMAP_THRESHOLD_: '65536' } }))).toEqual(['65536', null]);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('reads back what it writes, and rejects incomplete settings', () => {
    expect(parseConf(renderConf(conf))).toEqual(conf);
    expect(parseConf(renderConf(conf).replace(/^AXAGENT_NODE=.*$/m, ''))).toBeUndefined();
    expect(parseConf(renderConf({ ...conf, service: 'bogus' as never }))).toBeUndefined();
  });
});

describe('the init.d script', () => {
  it('parses, and answers start|stop|restart|status from its pid file', () => {
    const script = renderInitdScript(layout, { ...conf, service: 'initd' });
    expect(shSyntaxOk(script)).toBe('ok');
    expect(script).toContain(`LISTEN='0.0.0.0:7007'`);
    expect(script).toContain('nohup "$PREFIX/bin/axagent" --listen "$LISTEN" </dev/null >>"$LOG" 2>&1 &');
    expect(script).toMatch(/status\)\n.*exit 0; fi\n\s+echo "stopped"; exit 3/);
    expect(script).toContain('grep -q axagent "/proc/$pid/cmdline"');
  });
  it('stop-all ends only processes whose argv holds this agent file', () => {
    const stop = stopAgentProcessesScript(layout);
    expect(shSyntaxOk(stop)).toBe('ok');
    expect(stop).toContain(`A='/opt/axagent/lib/axagent.js'`);
    expect(stop).toContain('grep -qxF "$A"');
  });
});

describe('the store and a failed first install', () => {
  const sh = (script: string) => spawnSync('sh', ['-s'], { input: script, encoding: 'utf8' });
  it('makes a store with its parents and says what it made; one it cannot make is refused in one line', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-store-'));
    try {
      const store = path.join(dir, 'a/b/store');
      const made = sh(prepareStoreScript(store));
      expect(made.status, made.stderr).toBe(0);
      expect(made.stdout.trim()).toBe(`made=${path.join(dir, 'a')}`);
      expect((await fsp.stat(store)).isDirectory()).toBe(true);
      expect(await fsp.readdir(store)).toEqual([]);
      expect(sh(prepareStoreScript(store)).stdout).toBe(''); // there already: nothing made
      expect(sh(removeMadeFoldersScript(store, path.join(dir, 'a'))).status).toBe(0);
      expect(await fsp.readdir(dir)).toEqual([]);
      // A file in the way of a parent: mkdir fails, nothing is left.
      await fsp.mkdir(path.join(dir, 'x'));
      await fsp.writeFile(path.join(dir, 'x/file'), '');
      const refused = sh(prepareStoreScript(path.join(dir, 'x/file/store')));
      expect(refused.status).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/mkdir: .*file/);
      expect(await fsp.readdir(path.join(dir, 'x'))).toEqual(['file']);
      // Made a parent, then failed (a name too long): the parent goes again.
      const long = sh(prepareStoreScript(path.join(dir, 'y/z', 'n'.repeat(300))));
      expect(long.status).toBe(1);
      expect(await fsp.readdir(dir)).toEqual(['x']);
      const proc = sh(prepareStoreScript('/proc/axctl-no-store/s'));
      expect(proc.status).toBe(1);
      expect(proc.stderr).toContain('/proc/axctl-no-store');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
  it('replaces the agent file only when every byte arrived; the undo removes only empty folders of ours', async () => {
    const sh = (script: string, input = '') => spawnSync('sh', ['-c', script], { input, encoding: 'utf8' });
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-receive-'));
    try {
      const l = layoutOf(path.join(dir, 'prefix'));
      const store = path.join(l.prefix, 'store');
      expect(sh(receiveAgentCommand(l, store, 5), 'v1abc').status).toBe(0);
      expect(await fsp.readFile(l.agentFile, 'utf8')).toBe('v1abc');
      // Cut short (the host stopped mid-upload): the working agent stays, no temporary file.
      const cut = sh(receiveAgentCommand(l, store, 10), 'v2ab');
      expect(cut.status).toBe(1);
      expect(cut.stderr).toMatch(/received +4 of 10 bytes/);
      expect(await fsp.readFile(l.agentFile, 'utf8')).toBe('v1abc');
      expect(await fsp.readdir(path.join(l.prefix, 'lib'))).toEqual(['axagent.js']);
      // Undo after a failed first install: empty folders go, a folder another install filled stays.
      expect(sh(undoReceiveScript(l, true, store)).status).toBe(0);
      expect((await fsp.readdir(l.prefix)).sort()).toEqual(['lib']);
      await fsp.rm(l.agentFile);
      expect(sh(undoReceiveScript(l, true, store)).status).toBe(0);
      expect(await fsp.readdir(dir)).toEqual([]);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('service detection', () => {
  it('auto: systemd where it runs, else init.d, else none; explicit kinds stay', () => {
    expect(chooseService('auto', { systemd: true, initdDirExists: true })).toBe('systemd');
    expect(chooseService('auto', { systemd: false, initdDirExists: true })).toBe('initd');
    expect(chooseService('auto', { systemd: false, initdDirExists: false })).toBe('none');
    expect(chooseService('initd', { systemd: true, initdDirExists: true })).toBe('initd');
  });

  it('the probe sees systemd by /run/systemd/system, and reads node, run_joint and the prefix', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-probe-'));
    try {
      const marker = path.join(dir, 'run-systemd-system');
      const runJoint = path.join(dir, 'run_joint');
      await fsp.writeFile(runJoint, '#!/bin/sh\n', { mode: 0o755 });
      const probe = (extra: object) => parseProbe(execFileSync('sh', ['-s'], { input: probeScript({ prefix: path.join(dir, 'prefix'), initdDir: path.join(dir, 'initd'), runJoint, systemdMarker: marker, ...extra }), encoding: 'utf8' }));
      let p = probe({});
      expect(p).toMatchObject({ systemd: false, initdDirExists: false, prefixState: 'absent', runJoint, runJointExecutable: true, agentFilePresent: false });
      expect(nodeMajor(p.nodeVersion)).toBeGreaterThanOrEqual(18);
      expect(p.storeFreeBytes).toBeGreaterThan(0);
      await fsp.mkdir(marker);
      await fsp.mkdir(path.join(dir, 'initd'));
      await fsp.mkdir(path.join(dir, 'prefix'));
      p = probe({});
      expect(p).toMatchObject({ systemd: true, initdDirExists: true, prefixState: 'empty' });
      expect(chooseService('auto', p)).toBe('systemd');
      // Only the empty folders an install cut short made: still free to install into.
      for (const d of ['bin', 'etc', 'lib', 'log', 'run', 'store']) await fsp.mkdir(path.join(dir, 'prefix', d));
      expect(probe({}).prefixState).toBe('empty');
      await fsp.mkdir(path.join(dir, 'prefix', 'mine'));
      expect(probe({}).prefixState).toBe('foreign');
      await fsp.rmdir(path.join(dir, 'prefix', 'mine'));
      await fsp.writeFile(path.join(dir, 'prefix', 'lib', 'notes.txt'), 'mine');
      expect(probe({}).prefixState).toBe('foreign');
      await fsp.writeFile(path.join(dir, 'prefix', 'notes.txt'), 'mine');
      expect(probe({}).prefixState).toBe('foreign');
      expect(probe({ runJoint: path.join(dir, 'nope') })).toMatchObject({ runJointExecutable: false });
      // A prefix that is a link to nowhere is the user's, not absent (a failed install would rm -rf it).
      const linked = (extra: object) => parseProbe(execFileSync('sh', ['-s'], { input: probeScript({ prefix: path.join(dir, 'dangling'), initdDir: path.join(dir, 'initd'), runJoint, systemdMarker: marker, ...extra }), encoding: 'utf8' }));
      await fsp.symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
      expect(linked({}).prefixState).toBe('foreign');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('an install at another prefix does not take over the service files of the installation that owns them', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-probe-'));
    try {
      const [initdDir, systemdDir] = [path.join(dir, 'initd'), path.join(dir, 'systemd')];
      await fsp.mkdir(initdDir);
      await fsp.mkdir(systemdDir);
      const first = layoutOf(path.join(dir, 'opt/axagent'));
      await fsp.writeFile(path.join(initdDir, 'S99axagent'), renderInitdScript(first, conf), { mode: 0o755 });
      await fsp.writeFile(path.join(systemdDir, 'axagent.service'), renderSystemdUnit(first, conf));
      const probeAt = (prefix: string) => parseProbe(execFileSync('sh', ['-s'], { input: probeScript({ prefix, initdDir, systemdDir, runJoint: '/bin/sh' }), encoding: 'utf8' }));
      const other = path.join(dir, 'opt/other');
      const p = probeAt(other);
      expect(p.serviceOwners).toEqual({ systemd: first.prefix, initd: first.prefix });
      const plan = (prefix: string, service: 'initd' | 'systemd' | 'none') =>
        planInstall('ssh://root@board', { ...probeAt(prefix), systemd: true }, { service, prefix, initdDir }, `${prefix}/store`);
      for (const service of ['initd', 'systemd'] as const) {
        expect(() => plan(other, service)).toThrow(expect.objectContaining({ code: 'SERVICE_TAKEN', message: expect.stringContaining(`already starts the agent installed at ${first.prefix}`) }));
        expect(plan(first.prefix, service).service).toBe(service);
        expect(plan(`${first.prefix}/`, service).service).toBe(service);
      }
      expect(plan(other, 'none').service).toBe('none');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
  it('a unit or init.d script of the board user (no axctl prefix in it) is refused unless replacing it is asked for', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-probe-'));
    try {
      const [initdDir, systemdDir] = [path.join(dir, 'initd'), path.join(dir, 'systemd')];
      await fsp.mkdir(initdDir);
      await fsp.mkdir(systemdDir);
      await fsp.writeFile(path.join(initdDir, 'S99axagent'), '#!/bin/sh\nexec /usr/bin/vendor-daemon\n', { mode: 0o755 });
      await fsp.writeFile(path.join(systemdDir, 'axagent.service'), '[Service]\nExecStart=/usr/bin/vendor-daemon\n');
      const prefix = path.join(dir, 'opt/axagent');
      const p = parseProbe(execFileSync('sh', ['-s'], { input: probeScript({ prefix, initdDir, systemdDir, runJoint: '/bin/sh' }), encoding: 'utf8' }));
      expect(p.serviceOwners).toEqual({});
      expect(p.serviceFilesPresent).toEqual({ systemd: true, initd: true });
      const plan = (service: 'initd' | 'systemd', replaceServiceFile?: boolean) =>
        planInstall('ssh://root@board', { ...p, systemd: true }, { service, prefix, initdDir, ...(replaceServiceFile && { replaceServiceFile }) }, `${prefix}/store`);
      expect(() => plan('initd')).toThrow(expect.objectContaining({ code: 'SERVICE_FILE_NOT_OURS', exitCode: 2, message: `ssh://root@board: ${path.join(initdDir, 'S99axagent')} exists and was not written by axctl agent install` }));
      expect(() => plan('systemd')).toThrow(expect.objectContaining({ code: 'SERVICE_FILE_NOT_OURS', message: expect.stringContaining('/etc/systemd/system/axagent.service exists') }));
      expect(plan('initd', true)).toMatchObject({ service: 'initd', serviceNote: `replaced ${path.join(initdDir, 'S99axagent')}, which axctl did not write` });
      expect(parseProbe(execFileSync('sh', ['-s'], { input: probeScript({ prefix, initdDir: path.join(dir, 'none'), systemdDir: path.join(dir, 'none'), runJoint: '/bin/sh' }), encoding: 'utf8' })).serviceFilesPresent).toEqual({ systemd: false, initd: false });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('board paths', () => {
  it('accepts absolute plain paths and normalizes slashes', () => {
    expect(checkBoardPath('--prefix', '/opt/axagent/')).toBe('/opt/axagent');
    expect(checkBoardPath('--prefix', '/data//ax-agent_2')).toBe('/data/ax-agent_2');
  });
  it.each([['relative'], ['opt/x'], ['/'], ['/opt/a b'], ["/opt/a'b"], ['/opt/$HOME'], ['/opt/`id`'], ['/opt/../etc'], ['/opt/a;rm']])('refuses %s', (p) => {
    expect(() => checkBoardPath('--prefix', p)).toThrow(expect.objectContaining({ code: 'BOARD_PATH_BAD', exitCode: 2 }));
  });
});

describe("the host's token files", () => {
  it('one per host, with the SSH port when it is not 22, under XDG_CONFIG_HOME', () => {
    expect(tokenFileName('ssh://root@192.168.1.20')).toBe('192.168.1.20.token');
    expect(tokenFileName('ssh://root@192.168.1.20:22')).toBe('192.168.1.20.token');
    expect(tokenFileName('ssh://root@gw.lab:2201')).toBe('gw.lab_2201.token');
    expect(tokenFileName('ws://192.168.1.20:7007')).toBe('192.168.1.20.token');
    expect(tokenFileName('ssh://root@[fe80::1]')).toBe('fe80__1.token');
    expect(hostTokenFile('ssh://root@Board', { XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/axctl/tokens/board.token');
    expect(hostTokenFile('ssh://root@board', { HOME: '/home/me' })).toBe('/home/me/.config/axctl/tokens/board.token');
  });

  it('none for a serial:// board, which names no host: serial boards do not share one .token file', async () => {
    expect(hostTokenFileOf('serial:///dev/ttyUSB0?baud=921600', { XDG_CONFIG_HOME: '/cfg' })).toBeUndefined();
    expect(hostTokenFileOf('ssh://root@Board', { XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/axctl/tokens/board.token');
    const cfg = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-tokens-'));
    try {
      // What an earlier lookup for a host-less URL would have named: tokens/.token.
      await fsp.mkdir(path.join(cfg, 'axctl/tokens'), { recursive: true });
      await fsp.writeFile(path.join(cfg, 'axctl/tokens/.token'), `${'ab'.repeat(32)}\n`, { mode: 0o600 });
      const url = 'serial:///dev/ttyUSB0?baud=921600';
      await expect(resolveToken({ given: url, url, mode: 'agent' }, { env: { XDG_CONFIG_HOME: cfg } })).rejects.toMatchObject({ code: 'TOKEN_MISSING' });
    } finally {
      await fsp.rm(cfg, { recursive: true, force: true });
    }
  });
});

describe("the host's copies for the same host under other SSH ports", () => {
  it('are the usable <host>.token and <host>_<port>.token files other than the board\'s own, by port; never another host\'s', async () => {
    const cfg = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-tokens-'));
    try {
      const dir = path.join(cfg, 'axctl/tokens');
      await fsp.mkdir(dir, { recursive: true });
      const usable = ['gw.lab_2202.token', 'gw.lab.token', 'gw.lab_2201.token', 'gw.lab2_2201.token', 'other.lab_2201.token', 'gw.lab_99999.token', 'gw.lab_x.token'];
      for (const name of usable) await fsp.writeFile(path.join(dir, name), `${'ab'.repeat(32)}\n`);
      await fsp.writeFile(path.join(dir, 'gw.lab_2203.token'), 'not a token\n');
      const env = { XDG_CONFIG_HOME: cfg };
      expect(await sameHostTokens('ws://GW.lab:8700', env)).toEqual([
        { file: path.join(dir, 'gw.lab_2201.token'), sshPort: 2201 },
        { file: path.join(dir, 'gw.lab_2202.token'), sshPort: 2202 },
      ]);
      expect((await sameHostTokens('ssh://root@gw.lab:2201', env)).map((t) => t.sshPort)).toEqual([22, 2202]);
      expect(await sameHostTokens('serial:///dev/ttyUSB0', env)).toEqual([]);
      expect(await sameHostTokens('ws://gw.lab:8700', { XDG_CONFIG_HOME: path.join(cfg, 'nowhere') })).toEqual([]);
    } finally {
      await fsp.rm(cfg, { recursive: true, force: true });
    }
  });
});

describe('an agent of another protocol', () => {
  it('is refused with the command that upgrades it', () => {
    const err = new ConnectError('PROTOCOL_MISMATCH', 'x runs axagent 0.0.1 (protocol 0)', { hint: 'upgrade the agent: copy dist/axagent.js' });
    expect(withUpgradeHint(err, 'ssh://root@board')).toMatchObject({ code: 'PROTOCOL_MISMATCH', hint: 'upgrade the agent: axctl agent install --board ssh://root@board' });
  });
  it('a newer agent keeps its hint (axctl is the one to upgrade)', () => {
    const err = new ConnectError('PROTOCOL_MISMATCH', 'x runs axagent 9.0.0 (protocol 9)', { hint: "upgrade axctl on this host to the release of the board's axagent" });
    expect(withUpgradeHint(err, 'ssh://root@board')).toBe(err);
  });
});

describe('the upgrade command for a board URL', () => {
  it.each([
    ['ssh://root@board', 'upgrade the agent: axctl agent install --board ssh://root@board'],
    ['ssh://root@board:2222/', 'upgrade the agent: axctl agent install --board ssh://root@board:2222'],
    ['ws://192.168.1.20:7007', 'upgrade the agent: axctl agent install --board ssh://USER@192.168.1.20'],
    ['wss://[fe80::1]:7007', 'upgrade the agent: axctl agent install --board ssh://USER@[fe80::1]'],
    ['serial:///dev/ttyUSB0', 'upgrade the agent: axctl agent install --board ssh://USER@HOST'],
  ])('%s', (url, hint) => {
    expect(agentUpgradeHint(url)).toBe(hint);
  });
});

describe('the host copy of a board token', () => {
  it('is mode 600 in a folder tightened to 700, also one that existed before with looser modes', async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-host-token-'));
    try {
      const folder = path.join(root, 'tokens');
      await fsp.mkdir(folder, { mode: 0o755 });
      const file = path.join(folder, 'board.token');
      await writeHostToken(file, 'a'.repeat(64));
      expect((await fsp.stat(folder)).mode & 0o777).toBe(0o700);
      expect((await fsp.stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await fsp.rm(root, { recursive: true, force: true });
    }
  });
});

