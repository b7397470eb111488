/**
 * Which board `axctl agent ... --board X` works on: an ssh:// URL, or an inventory name whose
 * url is one (bringing its SSH settings, which the command line overrides); anything else is
 * refused before connecting, as are bad option values.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstallOptions } from '../../host/agent-install/service';
import { resolveAgentTarget } from '../../host/agent-install/target';

describe('the board of axctl agent', () => {
  let dir: string;
  let inventory: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-agent-target-'));
    inventory = path.join(dir, 'axctl.yaml');
    await fsp.writeFile(inventory, [
      'boards:',
      '  evb:',
      '    url: ssh://root@192.168.1.21:2222',
      '    identity: keys/lab',
      '    known-hosts: ~/lab_known_hosts',
      '    via: ssh://me@gw',
      '    run-joint: /opt/bin/run_joint',
      '  evb-ws: ws://192.168.1.22:7007',
    ].join('\n') + '\n');
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('takes an ssh:// URL as it is', async () => {
    expect(await resolveAgentTarget({ board: 'ssh://root@board', connectTimeout: 3 }, { inventoryFiles: [inventory] })).toEqual({ url: 'ssh://root@board', ssh: { timeoutMs: 3000 } });
  });

  it('takes an inventory name with its SSH settings and run_joint; the command line wins', async () => {
    const target = await resolveAgentTarget({ board: 'evb' }, { inventoryFiles: [inventory] });
    expect(target).toEqual({
      url: 'ssh://root@192.168.1.21:2222',
      ssh: { identity: path.join(dir, 'keys/lab'), knownHosts: path.join(os.homedir(), 'lab_known_hosts'), via: ['ssh://me@gw'] },
      runJoint: '/opt/bin/run_joint',
    });
    const overridden = await resolveAgentTarget({ board: 'evb', identity: '/k', via: ['ssh://other@gw2'], acceptNewHostKey: true }, { inventoryFiles: [inventory] });
    expect(overridden.ssh).toMatchObject({ identity: '/k', via: ['ssh://other@gw2'], acceptNewHostKey: true });
    expect(parseInstallOptions({ board: 'evb' }, target.runJoint).runJoint).toBe('/opt/bin/run_joint');
    expect(parseInstallOptions({ board: 'evb', runJoint: '/usr/bin/run_joint' }, target.runJoint).runJoint).toBe('/usr/bin/run_joint');
  });

  it.each([
    ['ws://192.168.1.22:7007', 'AGENT_NEEDS_SSH'],
    ['evb-ws', 'AGENT_NEEDS_SSH'],
    ['serial:///dev/ttyUSB0', 'AGENT_NEEDS_SSH'],
    ['nosuch', 'BOARD_UNKNOWN'],
    ['ssh://root:secret@board', 'SSH_PASSWORD_IN_URL'],
    ['', 'BOARD_MISSING'],
  ])('refuses %s (%s)', async (board, code) => {
    await expect(resolveAgentTarget({ board }, { inventoryFiles: [inventory] })).rejects.toMatchObject({ code, exitCode: 2 });
  });

  it('refuses bad option values before connecting', () => {
    const bad = (args: object) => () => parseInstallOptions({ board: 'ssh://b', ...args });
    // Each says what to give instead (its hint).
    expect(bad({ service: 'upstart' })).toThrow(expect.objectContaining({ code: 'BAD_SERVICE_KIND', hint: expect.stringContaining('auto') }));
    expect(bad({ port: 70000 })).toThrow(expect.objectContaining({ code: 'BAD_PORT', message: '--port 70000: expected a port number from 1 to 65535', hint: 'e.g. --port 7007, the default' }));
    expect(bad({ port: 0 })).toThrow(expect.objectContaining({ code: 'BAD_PORT', hint: 'e.g. --port 7007, the default' }));
    expect(bad({ listenHost: '0.0.0.0; reboot' })).toThrow(expect.objectContaining({ code: 'BAD_LISTEN_HOST', hint: expect.stringContaining('0.0.0.0') }));
    expect(bad({ checkTimeout: 0 })).toThrow(expect.objectContaining({ code: 'BAD_TIMEOUT' }));
    expect(bad({ store: 'store' })).toThrow(expect.objectContaining({ code: 'BOARD_PATH_BAD' }));
    expect(parseInstallOptions({ board: 'ssh://b' })).toMatchObject({ prefix: '/opt/axagent', service: 'auto', port: 7007, listenHost: '0.0.0.0', initdDir: '/etc/init.d', checkTimeoutMs: 20_000 });
  });
});
