/**
 * The shared secret both sides read from a token file: one line of text (e.g. the output of
 * `openssl rand -hex 32`), surrounding whitespace ignored, at least 16 characters.
 */
import { BadFileError } from '../errors';
import { readTextFile, statRegularFile } from '../fs/regular-file';

export const MIN_TOKEN_CHARS = 16;
const GENERATE_HINT = 'put a random secret in it, e.g. `openssl rand -hex 32 > FILE`';

export interface TokenFile {
  secret: Uint8Array;
  /** Group or others may read the file: the secret is not private to its owner. */
  worldReadable: boolean;
}

/** A token file is one line; anything this large is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

export async function readTokenFile(file: string): Promise<TokenFile> {
  const { mode } = await statRegularFile(file);
  const text = await readTextFile(file, { what: 'a token file', maxBytes: MAX_TOKEN_FILE_BYTES });
  return { secret: parseToken(text, file), worldReadable: (mode & 0o044) !== 0 };
}

export function parseToken(text: string, file = 'token'): Uint8Array {
  const token = text.trim();
  if (token.length === 0) throw new BadFileError('TOKEN_EMPTY', file, 'the token file is empty', { hint: GENERATE_HINT });
  if (/[\r\n]/.test(token)) throw new BadFileError('TOKEN_MULTILINE', file, 'the token must be a single line', { hint: GENERATE_HINT });
  if (token.length < MIN_TOKEN_CHARS) {
    throw new BadFileError('TOKEN_TOO_SHORT', file, `the token has ${token.length} characters, at least ${MIN_TOKEN_CHARS} are needed`, { hint: GENERATE_HINT });
  }
  return Buffer.from(token, 'utf8');
}
