import { describe, expect, it } from 'vitest';
import { PEER_TEXT_MAX_CHARS, peerText } from '../../shared/peer-text';

describe('peerText', () => {
  it('keeps ordinary text, accents and emoji as they are', () => {
    expect(peerText('axctl 1.2.3 (café) 🚀')).toBe('axctl 1.2.3 (café) 🚀');
  });

  it('escapes what would break the line or drive a terminal', () => {
    expect(peerText('1.0\naxagent: forged\r\tx')).toBe('1.0\\naxagent: forged\\r\\tx');
    expect(peerText('\u001b[31mred\u0007\u0000\u007f\u009b')).toBe('\\x1b[31mred\\x07\\x00\\x7f\\x9b');
    expect(peerText('a\u2028b\u202ec\u2066')).toBe('a\\u{2028}b\\u{202e}c\\u{2066}');
  });

  it('cuts long text and says how much was cut, never splitting a surrogate pair', () => {
    const long = 'v'.repeat(15 * 1024 * 1024);
    expect(peerText(long)).toBe(`${'v'.repeat(PEER_TEXT_MAX_CHARS)} [${long.length - PEER_TEXT_MAX_CHARS} more characters]`);
    expect(peerText(`ab${'🚀'.repeat(3)}`, 3)).toBe('ab [6 more characters]');
    expect(peerText('abc', 3)).toBe('abc');
  });
});
