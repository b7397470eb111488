/**
 * The shared secret both sides read from a token file: one line of text (e.g. the output of
 * `openssl rand -hex 32`), surrounding whitespace ignored, at least 16 characters.
 */
import { BadFileError } from '../errors';
import { readTextFile } from '../fs/regular-file';

export const MIN_TOKEN_CHARS = 16;
const GENERATE_HINT = 'put a random secret in it, e.g. `openssl rand -hex 32 > FILE`';
const VALUE_HINT = "set it to the agent's token: the line in the token file the agent was started with";

export interface TokenFile {
  secret: Uint8Array;
  /**
   * Group or others may read or write the file: the secret is not private to its owner (a
   * reader learns it; a writer can change it to one of their own at the agent's next start).
   */
  notPrivate: boolean;
}

/** A token file is one line; anything this large is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

export async function readTokenFile(file: string): Promise<TokenFile> {
  let mode = 0;
  const text = await readTextFile(file, { what: 'a token file', maxBytes: MAX_TOKEN_FILE_BYTES, onStats: (stats) => (mode = stats.mode) });
  return { secret: parseToken(text, file), notPrivate: (mode & 0o066) !== 0 };
}

/**
 * The token in `text`. `source` names where it came from, first in every message; `from`
 * says whether that is a file or a value given directly (AXCTL_TOKEN, the inventory's
 * `token:`), so an empty one is not called an empty file.
 */
export function parseToken(text: string, source = 'token', from: 'file' | 'value' = 'file'): Uint8Array {
  const token = text.trim();
  const hint = from === 'file' ? GENERATE_HINT : VALUE_HINT;
  if (token.length === 0) throw new BadFileError('TOKEN_EMPTY', source, from === 'file' ? 'the token file is empty' : 'is blank: it holds no token', { hint });
  if (/[\r\n]/.test(token)) throw new BadFileError('TOKEN_MULTILINE', source, 'the token must be a single line', { hint });
  if (token.length < MIN_TOKEN_CHARS) {
    throw new BadFileError('TOKEN_TOO_SHORT', source, `the token has ${token.length} characters, at least ${MIN_TOKEN_CHARS} are needed`, { hint });
  }
  return Buffer.from(token, 'utf8');
}
