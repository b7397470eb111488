import { describe, expect, it } from 'vitest';
import { defaultSchemes, openTransport } from '../../host/client/connect';
import { DEFAULT_BAUD, parseSerialUrl } from '../../host/transports/serial';

describe('serial:// URLs', () => {
  it('reads the port path and the parameters', () => {
    expect(parseSerialUrl('serial:///dev/ttyUSB0?baud=921600')).toEqual({ path: '/dev/ttyUSB0', baud: 921_600 });
    expect(parseSerialUrl('serial:///dev/ttyACM1')).toEqual({ path: '/dev/ttyACM1', baud: DEFAULT_BAUD });
    expect(parseSerialUrl('serial:///dev/serial/by-id/usb-FTDI%20x?baud=115200&giveup=90&pace=0&payload=512&window=16')).toEqual({
      path: '/dev/serial/by-id/usb-FTDI x',
      baud: 115_200,
      giveUpAfterMs: 90_000,
      paceBaud: 0,
      maxPayload: 512,
      window: 16,
    });
  });

  it('reads decimal numbers with an exponent or a fraction where they fit', () => {
    expect(parseSerialUrl('serial:///dev/ttyS0?baud=9.6e3&giveup=1.5e1')).toEqual({ path: '/dev/ttyS0', baud: 9600, giveUpAfterMs: 15_000 });
    // A '+' is a sign, not a space (URLSearchParams would read it as one), as for axagent --baud.
    expect(parseSerialUrl('serial:///dev/ttyS0?baud=+921600&giveup=1e+2')).toEqual({ path: '/dev/ttyS0', baud: 921_600, giveUpAfterMs: 100_000 });
    expect(() => parseSerialUrl('serial:///dev/ttyS0?baud=%20115200')).toThrow(/baud= 115200 is not valid/);
  });

  it('takes parameters from schemeOptions when the URL does not set them', () => {
    expect(parseSerialUrl('serial:///dev/ttyS0?baud=9600', { baud: 57600, giveup: 5 })).toEqual({ path: '/dev/ttyS0', baud: 9600, giveUpAfterMs: 5000 });
  });

  it.each([
    ['serial://dev/ttyUSB0', /names a host \('dev'\).*three slashes/],
    ['serial:///', /names no serial port/],
    ['serial:///dev/ttyUSB0?baud=fast', /baud=fast is not valid/],
    ['serial:///dev/ttyUSB0?baud=0', /baud=0 is not valid/],
    ['serial:///dev/ttyUSB0?baud=115200.5', /baud=115200.5 is not valid/],
    ['serial:///dev/ttyUSB0?speed=9600', /unknown parameter 'speed'/],
    ['serial:///dev/ttyUSB0?window=64', /window=64 is not valid/],
    ['serial:///dev/ttyUSB0?baud=115200&baud=9600', /gives 'baud' more than once$/],
    // Decimal only: Number() read 0x100 as 256 baud, which axagent --baud refuses.
    ['serial:///dev/ttyUSB0?baud=0x100', /baud=0x100 is not valid/],
    ['serial:///dev/ttyUSB0?baud=0x2580', /baud=0x2580 is not valid/],
    ['serial:///dev/ttyUSB0?pace=0b1', /pace=0b1 is not valid/],
    ['serial:///dev/ttyUSB0?payload=0o1000', /payload=0o1000 is not valid/],
    ['serial:///dev/ttyUSB0?giveup=0x10', /giveup=0x10 is not valid/],
    ['serial:///dev/ttyUSB0?baud=', /baud= is not valid/],
    ['serial:///dev/tty%E0%A4', /malformed %-escape in its port path/],
    ['serial:///dev/ttyUSB0?constructor=1', /unknown parameter 'constructor'/],
    ['serial:///dev/ttyUSB0?baud=1%0a%1b[31mX', /baud=1\\n\\x1b\[31mX is not valid/],
  ])('refuses %s with one line and an example', (url, problem) => {
    let error: unknown;
    try {
      parseSerialUrl(url);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'SERIAL_BAD_URL', exitCode: 2, message: expect.stringMatching(problem), hint: expect.stringContaining('serial:///dev/ttyUSB0?baud=921600') });
  });

  it('is registered as a scheme, and a missing port fails with SERIAL_PORT_OPEN_FAILED', async () => {
    expect(defaultSchemes.schemes()).toContain('serial');
    await expect(openTransport('serial:///dev/axctl-no-such-port?baud=921600')).rejects.toMatchObject({
      code: 'SERIAL_PORT_OPEN_FAILED',
      exitCode: 5,
      message: '/dev/axctl-no-such-port: no such device',
    });
  });
});
