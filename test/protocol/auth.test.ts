import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { NONCE_BYTES, agentProof, hostProof, newNonce, proofMatches } from '../../shared/protocol/auth';
import { parseToken, readTokenFile } from '../../shared/protocol/token';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');

describe('challenge-response proofs', () => {
  const agentNonce = newNonce();
  const clientNonce = newNonce();

  it('uses fresh 32-byte nonces', () => {
    expect(agentNonce).toHaveLength(NONCE_BYTES);
    expect(Buffer.from(agentNonce).equals(Buffer.from(clientNonce))).toBe(false);
  });

  it('binds a proof to the secret, both nonces and the direction', () => {
    const host = hostProof(secret, agentNonce, clientNonce);
    expect(proofMatches(hostProof(secret, agentNonce, clientNonce), host)).toBe(true);
    expect(proofMatches(hostProof(Buffer.from('another secret of some length'), agentNonce, clientNonce), host)).toBe(false);
    expect(proofMatches(hostProof(secret, newNonce(), clientNonce), host)).toBe(false);
    expect(proofMatches(hostProof(secret, agentNonce, newNonce()), host)).toBe(false);
    // A host proof is never a valid agent proof (no reflection), even with the nonces swapped.
    expect(proofMatches(agentProof(secret, agentNonce, clientNonce), host)).toBe(false);
    expect(proofMatches(agentProof(secret, clientNonce, agentNonce), host)).toBe(false);
  });

  it('treats a proof of the wrong length as wrong', () => {
    const host = hostProof(secret, agentNonce, clientNonce);
    expect(proofMatches(host, host.subarray(0, 31))).toBe(false);
    expect(proofMatches(host, new Uint8Array(0))).toBe(false);
  });
});

describe('token files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'axctl-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as AxError).code;
    }
    return undefined;
  };

  it('trims the line and refuses empty, short and multi-line tokens', () => {
    expect(Buffer.from(parseToken('  0123456789abcdef\n')).toString()).toBe('0123456789abcdef');
    expect(codeOf(() => parseToken(' \n'))).toBe('TOKEN_EMPTY');
    expect(codeOf(() => parseToken('short'))).toBe('TOKEN_TOO_SHORT');
    expect(codeOf(() => parseToken('0123456789abcdef\n0123456789abcdef'))).toBe('TOKEN_MULTILINE');
  });

  it('a blank token given as a value (AXCTL_TOKEN) is not called an empty file', () => {
    expect(() => parseToken('   ', 'AXCTL_TOKEN', 'value')).toThrow(expect.objectContaining({ code: 'TOKEN_EMPTY', message: 'AXCTL_TOKEN: is blank: it holds no token', hint: expect.stringContaining("agent's token") }));
    expect(() => parseToken('', 'board.token')).toThrow(expect.objectContaining({ message: 'board.token: the token file is empty' }));
  });

  it('refuses a token file that is a FIFO or a device instead of waiting on it', async () => {
    await expect(readTokenFile('/dev/zero')).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', exitCode: 2 });
  });

  it('reports whether others can read or write the file, and a missing file by name', async () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, 'x'.repeat(32), { mode: 0o600 });
    expect((await readTokenFile(file)).notPrivate).toBe(false);
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
      const loose = path.join(dir, `token-${mode.toString(8)}`);
      writeFileSync(loose, 'y'.repeat(32));
      chmodSync(loose, mode);
      expect((await readTokenFile(loose)).notPrivate, mode.toString(8)).toBe(true);
    }
    await expect(readTokenFile(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
