/**
 * Text the other side sent (a host's client version, an agent's version or error message),
 * made safe to log or print. A peer controls every byte of it: a newline in it would forge a
 * log line of its own, an escape sequence would drive the reader's terminal, and 15 MB of it
 * would make a 15 MB log line. So control characters are shown escaped (`\n`, `\x1b`,
 * `\u{202e}`) and the text is cut to a length fit for one line.
 */

/** Most characters of peer text kept by default: far more than any version or message needs. */
export const PEER_TEXT_MAX_CHARS = 200;

/**
 * C0 and C1 controls and DEL, plus the Unicode characters that break or reorder a line when
 * shown: line and paragraph separators, and the bidirectional overrides and isolates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `text` with its control characters escaped, cut to `maxChars` characters (then noted). */
export function peerText(text: string, maxChars: number = PEER_TEXT_MAX_CHARS): string {
  let kept = text;
  let note = '';
  if (text.length > maxChars) {
    // Not in the middle of a surrogate pair: a lone half would print as garbage.
    const end = /[\ud800-\udbff]/.test(text.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
    kept = text.slice(0, end);
    note = ` [${text.length - end} more characters]`;
  }
  return kept.replace(UNSAFE, escapeOne) + note;
}
