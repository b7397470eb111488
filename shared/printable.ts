/**
 * Text a peer sent, made safe to log or echo: control characters (a newline would forge a log
 * line, an escape sequence would drive the reader's terminal) shown as \uXXXX, and cut to
 * `max` characters so a peer cannot make a megabyte log line.
 */
export function printable(text: string, max = 120): string {
  const cut = text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
