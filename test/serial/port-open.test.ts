import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWithSerialport, openWithStty, portOpenError } from '../../shared/serial/port-open';

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
