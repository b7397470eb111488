/**
 * Making report strings safe for where they are written. Tensor names, paths and logs come
 * from the board and the user's files: they may hold markup, quotes, terminal escapes or bytes
 * that XML forbids. Nothing from a report reaches a page, an XML file or a terminal unescaped.
 */

/** ANSI escape sequences (colours, cursor moves) as run_joint or a shell may print them. */
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/**
 * Control characters made visible: C0 controls as their Unicode "control pictures" (NUL → ␀,
 * ESC → ␛), DEL as ␡; C1 controls, lone surrogates and the non-characters U+FFFE/U+FFFF (none
 * of which XML allows or a terminal should receive) as U+FFFD. `keep` lists the C0 controls
 * left alone (newline and tab by default).
 */
export function visibleControls(s: string, keep = '\n\t'): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    if (keep.includes(c)) return c;
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

const XML_TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const XML_ATTR: Record<string, string> = { ...XML_TEXT, '"': '&quot;', "'": '&#39;', '\n': '&#10;', '\t': '&#9;' };

/** Text content of an XML element: markup escaped, colours dropped, other controls visible. */
export function escapeXmlText(s: string): string {
  return visibleControls(stripAnsi(s), '\n\t\r').replace(/[&<>\r]/g, (c) => XML_TEXT[c]);
}

/** An attribute value (in double or single quotes); newlines survive as character references. */
export function escapeXmlAttr(s: string): string {
  return visibleControls(stripAnsi(s), '\n\t\r').replace(/[&<>"'\r\n\t]/g, (c) => XML_ATTR[c]);
}

/** HTML text or attribute value: the XML attribute rules are safe in both places. */
export function escapeHtml(s: string): string {
  return visibleControls(stripAnsi(s), '\n\t').replace(/[&<>"']/g, (c) => XML_ATTR[c]);
}

/** A string for a terminal: no escape sequence from the report may reach it. */
export function escapeTerminal(s: string, keep = '\n\t'): string {
  return visibleControls(stripAnsi(s), keep);
}

/** Every string inside `value` passed through `fn`; numbers, booleans and null untouched. */
export function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out as T;
  }
  return value;
}
