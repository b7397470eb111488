/**
 * `pulsar version` prints the toolchain version and the commit it was built from:
 *   0.5.34.2
 *   7ca3b9d5
 * possibly after warnings of the libraries it loads (`[W Context.cpp:69] Warning: ...`).
 * Every result of the wrapper carries this, because the guide's last step (asking Axera for
 * help) needs the exact toolchain, and gt folders from different toolchains differ.
 */

export interface ToolchainVersion {
  /** `0.6.1.14`; null when the output held no version line. */
  readonly version: string | null;
  /** Commit hash printed under the version (`7ca3b9d5`); null when absent. */
  readonly commit: string | null;
  /** What `pulsar version` printed, trimmed, for reports. */
  readonly raw: string;
}

const VERSION_LINE = /^v?(\d+(?:\.\d+){1,4}(?:[-+._][0-9A-Za-z.]+)?)$/;
const COMMIT_LINE = /^[0-9a-f]{7,40}$/i;
// `[dd hh:mm:ss module:line]` logger prefixes, as on every other pulsar line.
const LOG_PREFIX = /^\[[^\]]*\]\s*/;

export function parsePulsarVersion(text: string): ToolchainVersion {
  const lines = text.split(/\r?\n/).map((l) => l.replace(LOG_PREFIX, '').trim()).filter(Boolean);
  let version: string | null = null;
  let commit: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const m = VERSION_LINE.exec(lines[i]) ?? /\bversion[:\s]+v?(\d+(?:\.\d+){1,4}\S*)/i.exec(lines[i]);
    if (!m) continue;
    version = m[1];
    const next = lines[i + 1];
    if (next !== undefined && COMMIT_LINE.test(next)) commit = next.toLowerCase();
    break;
  }
  return { version, commit, raw: text.trim() };
}

/** `0.6.1.14 (7ca3b9d5)`, or `unknown` when pulsar did not say. */
export function formatToolchainVersion(v: ToolchainVersion): string {
  if (!v.version) return 'unknown';
  return v.commit ? `${v.version} (${v.commit})` : v.version;
}
