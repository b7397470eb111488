/** `pulsar version` output → version and commit. */
import { describe, expect, it } from 'vitest';
import { formatToolchainVersion, parsePulsarVersion } from '../../host/toolchain';

describe('parsePulsarVersion', () => {
  it('reads the two lines the docs show', () => {
    expect(parsePulsarVersion('0.5.34.2\n7ca3b9d5\n')).toEqual({ version: '0.5.34.2', commit: '7ca3b9d5', raw: '0.5.34.2\n7ca3b9d5' });
  });

  it('skips library warnings and logger prefixes before the version', () => {
    const text = '[W Context.cpp:69] Warning: torch.set_deterministic is in beta\r\n[24 18:40:10 wrapper_pulsar_version.py:12] 0.6.1.14\r\n2124c702\r\n';
    expect(parsePulsarVersion(text)).toMatchObject({ version: '0.6.1.14', commit: '2124c702' });
  });

  it('keeps a version without commit, and says unknown when there is none', () => {
    expect(parsePulsarVersion('version: 0.6.1.20\n')).toMatchObject({ version: '0.6.1.20', commit: null });
    const none = parsePulsarVersion('usage: pulsar [-h] {debug,build,info,run,view} ...\n');
    expect([none.version, none.commit, formatToolchainVersion(none)]).toEqual([null, null, 'unknown']);
    expect(formatToolchainVersion({ version: '0.6.1.14', commit: 'abc1234', raw: '' })).toBe('0.6.1.14 (abc1234)');
  });
});
