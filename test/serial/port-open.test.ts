import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPtyPair } from '../../scripts/serial-relay';
import { openWithSerialport, openWithStty, portOpenError, sttyCommand } from '../../shared/serial/port-open';
import { HAVE_SOCAT } from './line';

const dir = mkdtempSync(path.join(os.tmpdir(), 'axctl-serial-open-'));
const plainFile = path.join(dir, 'not-a-tty');
writeFileSync(plainFile, 'x');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening a serial port', () => {
  it.each([
    ['Error: No such file or directory, cannot open /dev/ttyUSB9', 'SERIAL_PORT_OPEN_FAILED', '/dev/ttyUSB9: no such device', /ls \/dev\/ttyUSB/],
    ['Error: Permission denied, cannot open /dev/ttyUSB9', 'SERIAL_PORT_OPEN_FAILED', '/dev/ttyUSB9: permission denied', /dialout/],
    ['Error Resource temporarily unavailable Cannot lock port', 'SERIAL_PORT_BUSY', '/dev/ttyUSB9: is in use by another program', /minicom/],
    ['Inappropriate ioctl for device setting custom baud rate of 921600', 'SERIAL_PORT_OPEN_FAILED', '/dev/ttyUSB9: is not a serial port (a terminal device was expected)', /path/],
  ])('explains "%s" in one line with a hint', (text, code, message, hint) => {
    expect(portOpenError('/dev/ttyUSB9', new Error(text))).toMatchObject({ code, message, exitCode: 5, hint: expect.stringMatching(hint) });
  });

  it('reports a missing device and a plain file, with serialport and with stty alike', async () => {
    const missing = path.join(dir, 'ttyNOPE');
    await expect(openWithSerialport(missing, 115_200)).rejects.toMatchObject({ code: 'SERIAL_PORT_OPEN_FAILED', message: `${missing}: no such device` });
    await expect(openWithStty(missing, 115_200)).rejects.toMatchObject({ code: 'SERIAL_PORT_OPEN_FAILED', message: `${missing}: no such device` });
    await expect(openWithSerialport(plainFile, 115_200)).rejects.toMatchObject({ code: 'SERIAL_PORT_OPEN_FAILED', message: expect.stringContaining('is not a serial port') });
    await expect(openWithStty(plainFile, 115_200)).rejects.toMatchObject({ code: 'SERIAL_PORT_OPEN_FAILED', message: expect.stringContaining('is not a serial port') });
  });
});

describe('the rate asked for is the rate the line runs at', () => {
  it('a rate the driver refuses is SERIAL_BAD_BAUD naming the rate, as serialport reports it', () => {
    expect(portOpenError('/dev/ttyUSB9', new Error('Error: Invalid argument || while setting custom baud rate of 123456'))).toMatchObject({
      code: 'SERIAL_BAD_BAUD',
      exitCode: 5,
      message: expect.stringMatching(/^\/dev\/ttyUSB9: 123456 baud cannot be set on this port/),
    });
  });

  it('sttyCommand refuses a rate stty cannot set', () => {
    expect(sttyCommand('/dev/ttyS1', 921_600)).toMatch(/^stty -F '\/dev\/ttyS1' 921600 raw /);
    expect(() => sttyCommand('/dev/ttyS1', 123_456)).toThrow(expect.objectContaining({ code: 'SERIAL_BAD_BAUD' }));
  });

  it.runIf(HAVE_SOCAT)('stty: a rate stty cannot set is SERIAL_BAD_BAUD; the configured line opens', async () => {
    const pair = await startPtyPair(path.join(dir, 'ttyBOARD'), path.join(dir, 'ttyPEER'));
    try {
      const tty = path.join(dir, 'ttyBOARD');
      await expect(openWithStty(tty, 123_456)).rejects.toMatchObject({
        code: 'SERIAL_BAD_BAUD',
        exitCode: 5,
        message: `${tty}: 123456 baud is not a rate stty can set`,
        hint: expect.stringContaining('e.g. 115200 or 230400'),
      });
      execSync(sttyCommand(tty, 921_600));
      const line = await openWithStty(tty, 921_600);
      await line.close();
    } finally {
      await pair.stop();
    }
  });
});
