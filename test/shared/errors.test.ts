/** shared/errors.ts helpers: values cut for messages. */
import { describe, expect, it } from 'vitest';
import { quoteForMessage, shortenForMessage } from '../../shared/errors';

describe('values in messages', () => {
  it('are cut to a sane length', () => {
    expect(quoteForMessage('<f4')).toBe("'<f4'");
    expect(quoteForMessage('['.repeat(100_000))).toBe(`'${'['.repeat(60)}...' (100000 characters)`);
    expect(shortenForMessage('9'.repeat(5000), 10)).toBe('9999999999... (5000 characters)');
  });
});
