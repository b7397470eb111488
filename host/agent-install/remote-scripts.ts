/**
 * The sh scripts install and uninstall send to the board (on stdin, see board-shell.ts).
 * Files are written beside their target and renamed into place, so an interrupted install
 * leaves the previous file whole. Every script uses only what BusyBox offers.
 */
import { SERVICE_NAME, renderConf, shq, type AgentConf, type Layout, type ServiceKind } from './layout';
import { renderInitdScript, renderSystemdUnit, renderWrapper } from './service-files';

/** `cat > file` of a text through a quoted here-document (nothing in it is expanded). */
function writeFile(target: string, content: string, mode: string): string {
  const marker = 'AXCTL_FILE_END';
  if (content.includes(marker)) throw new Error(`file content for ${target} contains the here-document marker`);
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `cat > ${shq(`${target}.new`)} <<'${marker}'\n${body}${marker}\nchmod ${mode} ${shq(`${target}.new`)}\nmv -f ${shq(`${target}.new`)} ${shq(target)}\n`;
}

/** The folders an installation has under its prefix (besides a store inside it). */
export const PREFIX_FOLDERS = ['bin', 'lib', 'etc', 'run', 'log'] as const;

/**
 * Makes a store folder that lies outside the prefix (with missing parents) and proves that a
 * file can be written in it, before install changes anything else. On failure it removes the
 * folders it made, says why on stderr (one line) and exits 1. Prints `made=DIR`, the topmost
 * folder it made, for undoing a failed install (removeMadeFoldersScript).
 */
export function prepareStoreScript(store: string): string {
  return `S=${shq(store)}
made=
d=$S
while [ ! -e "$d" ] && [ ! -L "$d" ]; do made=$d; d=$(dirname "$d"); done
fail() { [ -n "$made" ] && { c=$S; while rmdir "$c" 2>/dev/null; [ "$c" != "$made" ]; do c=$(dirname "$c"); done; }; echo "$1" | tail -n 1 >&2; exit 1; }
err=$(umask 022 && mkdir -p "$S" 2>&1) || fail "$err"
[ -d "$S" ] || fail "it is not a folder"
t="$S/.axctl-install-check.$$"
err=$({ : > "$t"; } 2>&1) || fail "$err"
rm -f "$t"
[ -n "$made" ] && echo "made=$made"
exit 0
`;
}

/** Removes the empty folders from `folder` up to `top` (what prepareStoreScript made); a folder not empty stays, and so do those above it. */
export function removeMadeFoldersScript(folder: string, top: string): string {
  return `c=${shq(folder)}
while rmdir "$c" 2>/dev/null; [ "$c" != ${shq(top)} ]; do c=$(dirname "$c"); done`;
}

/**
 * The folders, and the agent file itself arriving on stdin. It replaces the old one only when
 * all `bytes` arrived: a host stopped mid-upload closes stdin, `cat` ends happily, and a cut
 * bundle would otherwise replace a working agent. The temporary name is this shell's own, so
 * two installs at once do not take each other's file.
 */
export function receiveAgentCommand(layout: Layout, store: string, bytes: number): string {
  const dirs = PREFIX_FOLDERS.map((d) => shq(`${layout.prefix}/${d}`)).join(' ');
  const incoming = `${shq(`${layout.agentFile}.new`)}.$$`;
  return `umask 022 && mkdir -p ${dirs} ${shq(store)} && cat > ${incoming} && n=$(wc -c < ${incoming}) && ` +
    `{ [ $n -eq ${bytes} ] || { echo "received $n of ${bytes} bytes of the agent" >&2; rm -f ${incoming}; exit 1; }; } && ` +
    `chmod 644 ${incoming} && mv -f ${incoming} ${shq(layout.agentFile)} || { rm -f ${incoming}; exit 1; }`;
}

/**
 * Undoes what a first install whose agent file could not be received made under the prefix:
 * our folders (and the prefix, when there was none), so the next install does not find a
 * prefix that is not ours. Only rmdir: a folder something else has meanwhile filled (a second
 * install running at the same time) stays, with what is in it.
 */
export function undoReceiveScript(layout: Layout, prefixWasAbsent: boolean, store: string): string {
  const folders = [...PREFIX_FOLDERS.map((d) => `${layout.prefix}/${d}`), `${layout.prefix}/store`, ...(store.startsWith(`${layout.prefix}/`) ? [store] : [])];
  return `rmdir ${folders.map(shq).join(' ')} 2>/dev/null${prefixWasAbsent ? `; rmdir ${shq(layout.prefix)} 2>/dev/null` : ''}; exit 0`;
}

/** Token (mode 600), settings and wrapper. */
export function writeInstallationScript(layout: Layout, conf: AgentConf, token: string): string {
  return [
    'set -e',
    'umask 077',
    writeFile(layout.tokenFile, token, '600'),
    'umask 022',
    writeFile(layout.confFile, renderConf(conf), '644'),
    writeFile(layout.wrapper, renderWrapper(layout), '755'),
  ].join('\n');
}

/** Writes the service file and (re)starts the service. */
export function startServiceScript(kind: ServiceKind, file: string | undefined, layout: Layout, conf: AgentConf): string {
  if (kind === 'systemd') {
    return [
      'set -e',
      writeFile(file!, renderSystemdUnit(layout, conf), '644'),
      'systemctl daemon-reload',
      `systemctl enable ${SERVICE_NAME} >/dev/null 2>&1`,
      `systemctl restart ${SERVICE_NAME}`,
    ].join('\n');
  }
  if (kind === 'initd') {
    return ['set -e', writeFile(file!, renderInitdScript(layout, conf), '755'), `sh ${shq(file!)} restart`].join('\n');
  }
  return 'exit 0';
}

/** Stops and removes a service install wrote earlier (nothing if its file is gone). */
export function removeServiceScript(kind: ServiceKind, file: string | undefined): string {
  if (kind === 'systemd') {
    return [
      `systemctl disable --now ${SERVICE_NAME} >/dev/null 2>&1 || true`,
      ...(file ? [`rm -f ${shq(file)}`] : []),
      'systemctl daemon-reload >/dev/null 2>&1 || true',
    ].join('\n');
  }
  if (kind === 'initd' && file) {
    return `if [ -f ${shq(file)} ]; then sh ${shq(file)} stop >/dev/null 2>&1 || true; rm -f ${shq(file)}; fi`;
  }
  return 'true';
}

/**
 * Ends every process running this installation's agent file (the service, and agents of SSH
 * sessions still open): TERM, up to 10 s, then KILL. Prints `stopped=PID` for each.
 */
export function stopAgentProcessesScript(layout: Layout): string {
  return `A=${shq(layout.agentFile)}
pids=
for d in /proc/[0-9]*; do
  pid=\${d#/proc/}
  [ "$pid" = "$$" ] && continue
  if tr '\\000' '\\n' < "$d/cmdline" 2>/dev/null | grep -qxF "$A"; then
    kill "$pid" 2>/dev/null && pids="$pids $pid" && echo "stopped=$pid"
  fi
done
i=0
while [ -n "$pids" ] && [ "$i" -lt 10 ]; do
  left=
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
  pids=$left
  [ -n "$pids" ] && sleep 1
  i=$((i + 1))
done
for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
exit 0
`;
}

/** Removes the prefix, and the store when it lives elsewhere and `purgeStore` is set. */
export function removePrefixScript(layout: Layout, store: string | undefined, purgeStore: boolean): string {
  const lines = [`rm -rf ${shq(layout.prefix)}`];
  if (store && purgeStore) lines.push(`rm -rf ${shq(store)}`);
  return lines.join('\n');
}

/** The last lines the service logged, for an install whose service does not answer. */
export function serviceLogScript(kind: ServiceKind, layout: Layout): string {
  if (kind === 'systemd') return `journalctl -u ${SERVICE_NAME} -n 15 --no-pager 2>&1 || true`;
  if (kind === 'initd') return `tail -n 15 ${shq(layout.logFile)} 2>&1 || true`;
  return 'true';
}
