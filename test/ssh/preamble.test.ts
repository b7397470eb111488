/**
 * What the host's end of an SSH exec channel tolerates before the agent's first frame
 * (host/ssh/preamble.ts): a login shell's banner is set aside, a frame is found wherever it
 * starts and however the bytes are cut, "AX" in a banner is not taken for a frame, and too much
 * text is refused. Pure: no sshd here (agent-over-ssh.test.ts has the real channel).
 */
import { describe, expect, it } from 'vitest';
import { FramePreamble, PREAMBLE_LIMIT_BYTES } from '../../host/ssh/preamble';
import { FrameDecoder, FrameType, encodeFrame } from '../../shared/protocol/frame';
import { ProtocolError } from '../../shared/protocol/errors';

const hello = encodeFrame(FrameType.Message, new TextEncoder().encode('agent hello'));
const ping = encodeFrame(FrameType.Ping);
const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const join = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Feeds `bytes` in pieces of `step` and decodes what the preamble passes on. */
function through(bytes: Uint8Array, step: number): { payloads: string[]; preamble: FramePreamble } {
  const preamble = new FramePreamble();
  const decoder = new FrameDecoder();
  const payloads: string[] = [];
  for (let at = 0; at < bytes.length; at += step) {
    for (const pass of preamble.push(bytes.subarray(at, at + step))) {
      for (const frame of decoder.push(pass)) payloads.push(frame.type === FrameType.Message ? Buffer.from(frame.payload).toString() : `type ${frame.type}`);
    }
  }
  return { payloads, preamble };
}

describe('FramePreamble', () => {
  it('passes a stream that starts with a frame untouched', () => {
    const { payloads, preamble } = through(join(hello, ping), 7);
    expect(payloads).toEqual(['agent hello', 'type 1']);
    expect(preamble.skipped).toBe(0);
  });

  it('sets a banner aside and finds the frame after it, however the bytes are cut', () => {
    const banner = 'Welcome to AX620A\r\nLast login: today\n';
    for (const step of [1, 2, 3, 5, 64, 4096]) {
      const { payloads, preamble } = through(join(text(banner), hello, ping), step);
      expect(payloads, `step ${step}`).toEqual(['agent hello', 'type 1']);
      expect(preamble.skipped).toBe(banner.length);
      expect(Buffer.from(preamble.printed()).toString()).toBe(banner);
    }
  });

  it('does not take "AX" and a version byte in a banner for a frame: the CRC decides', () => {
    // A candidate header with a small length and a whole "frame" whose CRC is wrong.
    const fake = join(text('AX\x01\x00\x00\x00\x00\x02xyabcd'), text('AX\x01\x07 AX\x01'));
    for (const step of [1, 4, 1000]) {
      const { payloads, preamble } = through(join(text('AXERA '), fake, hello), step);
      expect(payloads, `step ${step}`).toEqual(['agent hello']);
      expect(preamble.skipped).toBe(6 + fake.length);
    }
  });

  it('passes everything on once the first frame was seen, banners included (the decoder then refuses them)', () => {
    const preamble = new FramePreamble();
    expect(Buffer.concat(preamble.push(hello))).toEqual(Buffer.from(hello));
    const later = text('Welcome');
    expect(preamble.push(later)).toEqual([later]);
  });

  it(`refuses more than ${PREAMBLE_LIMIT_BYTES} bytes before a frame, quoting their start`, () => {
    const preamble = new FramePreamble();
    const chunk = text('Welcome to AX620A '.repeat(100));
    let err: unknown;
    try {
      for (let sent = 0; sent <= PREAMBLE_LIMIT_BYTES + chunk.length; sent += chunk.length) preamble.push(chunk);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'PROTO_BAD_MAGIC', exitCode: 5 });
    expect((err as ProtocolError).message).toContain('"Welcome to AX620A Welcome');
    expect((err as ProtocolError).hint).toMatch(/startup files/);
  });

  it('quotes binary junk before a frame as escaped bytes, not as replacement characters', () => {
    const preamble = new FramePreamble();
    const junk = Buffer.alloc(PREAMBLE_LIMIT_BYTES + 10, 0);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 151 + 7) & 0xff;
    junk.write('ok', 0, 'latin1');
    const err = (() => {
      try {
        preamble.push(junk);
      } catch (e) {
        return e as ProtocolError;
      }
      return null;
    })();
    expect(err?.code).toBe('PROTO_BAD_MAGIC');
    expect(err!.message).toMatch(/starting "ok5\\xcc/);
    expect(err!.message.split('"')).toHaveLength(3); // a quote byte in the junk is escaped too
    expect(err!.message).toContain('(binary)');
    expect(err!.message).not.toContain('\ufffd');
    expect(err!.message).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });
});
