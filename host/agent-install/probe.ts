/**
 * One round trip that tells install, status and uninstall what the board has: who we are,
 * whether systemd runs, where Node and run_joint are, what is installed under the prefix
 * (its settings and token), the service's state and the store's free space. The script only
 * reads; every decision is made on the host from the answer.
 */
import { SERVICE_NAME, layoutOf, parseConf, serviceFileOf, shq, type AgentConf, type ServiceKind } from './layout';
import { parseKeyValues, runScript, type BoardShell } from './board-shell';

/** Where run_joint usually is on Axera BSPs, after $PATH. */
export const RUN_JOINT_LOCATIONS = ['/opt/bin/run_joint', '/usr/local/bin/run_joint', '/usr/bin/run_joint', '/soc/bin/run_joint'];
/** The folder whose presence means systemd is the running init (as sd_booted() checks). */
export const SYSTEMD_MARKER = '/run/systemd/system';

/** `empty`: an empty folder, or one holding only the empty folders of an install cut short. */
export type PrefixState = 'ours' | 'absent' | 'empty' | 'foreign';

export interface BoardProbe {
  uid: number;
  arch: string;
  /** systemd is the running init. */
  systemd: boolean;
  initdDirExists: boolean;
  /** Node found (the requested one, the installed one, or on $PATH), with its `--version`. */
  node?: string;
  nodeVersion?: string;
  /** run_joint found (requested, installed, $PATH, usual places) and whether it is executable. */
  runJoint?: string;
  runJointExecutable: boolean;
  prefixState: PrefixState;
  conf?: AgentConf;
  /** The board's token file text, trimmed, when there is one. */
  token?: string;
  /** Whether the installed agent file is there. */
  agentFilePresent: boolean;
  /** systemd: `systemctl is-active`; initd: running/stopped; missing: the service file is gone. */
  serviceState?: string;
  /** Free space of the filesystem holding the store (or the folder it would be made in). */
  storeFreeBytes?: number;
  /**
   * The prefix whose agent each service file already on the board starts (one board has one
   * axagent.service and one S99axagent, whatever the prefix).
   */
  serviceOwners: { systemd?: string; initd?: string };
  /**
   * Something is already at each service file's place. With no owner above, it is not a file
   * `axctl agent install` wrote (a unit or script of the user's own).
   */
  serviceFilesPresent: { systemd: boolean; initd: boolean };
}

export interface ProbeRequest {
  prefix: string;
  initdDir: string;
  node?: string;
  runJoint?: string;
  store?: string;
  systemdMarker?: string;
  /** Where systemd units live (tests point it elsewhere). */
  systemdDir?: string;
}

export function probeScript(req: ProbeRequest): string {
  const l = layoutOf(req.prefix);
  const candidates = RUN_JOINT_LOCATIONS.map(shq).join(' ');
  return `P=${shq(l.prefix)}
conf() { ( . "$P/etc/axagent.conf" >/dev/null 2>&1 && eval "echo \\"\\$$1\\"" ) 2>/dev/null; }
# Nothing in $P but empty folders of ours (what an install cut short made): free to install into.
# A folder it cannot list is not known to be empty. A link to nowhere is not absent: it is the user's.
skeleton() {
  for e in "$P"/* "$P"/.[!.]* "$P"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    case "\${e##*/}" in
      bin|etc|lib|log|run|store) [ -d "$e" ] && [ ! -L "$e" ] && ls -A "$e" >/dev/null 2>&1 && [ -z "$(ls -A "$e")" ] || return 1 ;;
      *) return 1 ;;
    esac
  done
  return 0
}
echo "uid=$(id -u 2>/dev/null)"
echo "arch=$(uname -m 2>/dev/null)"
if [ -d ${shq(req.systemdMarker ?? SYSTEMD_MARKER)} ]; then echo systemd=yes; else echo systemd=no; fi
if [ -d ${shq(req.initdDir)} ]; then echo initd=yes; else echo initd=no; fi
node=${shq(req.node ?? '')}
[ -z "$node" ] && node=$(conf AXAGENT_NODE)
[ -n "$node" ] && [ ! -x "$node" ] && [ -z ${shq(req.node ?? '')} ] && node=
[ -z "$node" ] && node=$(command -v node 2>/dev/null || command -v nodejs 2>/dev/null)
echo "node=$node"
[ -n "$node" ] && echo "nodeVersion=$("$node" --version 2>/dev/null)"
rj=${shq(req.runJoint ?? '')}
if [ -z "$rj" ]; then
  for c in "$(conf AXAGENT_RUN_JOINT)" "$(command -v run_joint 2>/dev/null)" ${candidates}; do
    if [ -n "$c" ] && [ -f "$c" ] && [ -x "$c" ]; then rj=$c; break; fi
  done
fi
echo "runJoint=$rj"
if [ -n "$rj" ] && [ -f "$rj" ] && [ -x "$rj" ]; then echo runJointOk=yes; fi
if [ -f "$P/etc/axagent.conf" ] || [ -f "$P/lib/axagent.js" ]; then echo prefix=ours
elif [ ! -e "$P" ] && [ ! -L "$P" ]; then echo prefix=absent
elif [ -d "$P" ] && skeleton; then echo prefix=empty
else echo prefix=foreign; fi
if [ -f "$P/lib/axagent.js" ]; then echo agentFile=yes; fi
if [ -f "$P/etc/token" ]; then echo "token=$(cat "$P/etc/token" 2>/dev/null | head -n 1)"; fi
case "$(conf AXAGENT_SERVICE)" in
  systemd) echo "service=$(systemctl is-active ${SERVICE_NAME} 2>/dev/null)" ;;
  initd) f=$(conf AXAGENT_SERVICE_FILE)
    if [ ! -f "$f" ]; then echo service=missing
    elif sh "$f" status >/dev/null 2>&1; then echo service=running; else echo service=stopped; fi ;;
esac
s=${shq(req.store ?? '')}
[ -z "$s" ] && s=$(conf AXAGENT_STORE)
[ -z "$s" ] && s="$P/store"
while [ ! -d "$s" ] && [ "$s" != / ]; do s=$(dirname "$s"); done
echo "storeFreeKb=$(df -Pk "$s" 2>/dev/null | tail -n 1 | awk '{print $4}')"
u=${shq(serviceFileOf('systemd', { initdDir: req.initdDir, ...(req.systemdDir && { systemdDir: req.systemdDir }) })!)}
if [ -e "$u" ] || [ -L "$u" ]; then echo systemdFile=yes; fi
[ -f "$u" ] && echo "systemdOwner=$(sed -n 's|^ExecStart=\\(/.*\\)/bin/axagent --listen .*|\\1|p' "$u" | head -n 1)"
i=${shq(serviceFileOf('initd', { initdDir: req.initdDir })!)}
if [ -e "$i" ] || [ -L "$i" ]; then echo initdFile=yes; fi
[ -f "$i" ] && echo "initdOwner=$(sed -n "s|^PREFIX='\\(/.*\\)'\\$|\\1|p" "$i" | head -n 1)"
echo --conf--
cat "$P/etc/axagent.conf" 2>/dev/null
exit 0
`;
}

export function parseProbe(out: string): BoardProbe {
  const [head, confText = ''] = splitOnce(out, '--conf--\n');
  const kv = parseKeyValues(head);
  const yes = (key: string) => kv.get(key) === 'yes';
  const nonEmpty = (key: string) => kv.get(key) || undefined;
  const freeKb = Number(kv.get('storeFreeKb'));
  const conf = parseConf(confText);
  const prefixState = (kv.get('prefix') ?? 'absent') as PrefixState;
  const probe: BoardProbe = {
    uid: Number(kv.get('uid') ?? -1),
    arch: kv.get('arch') ?? '',
    systemd: yes('systemd'),
    initdDirExists: yes('initd'),
    runJointExecutable: yes('runJointOk'),
    prefixState,
    agentFilePresent: yes('agentFile'),
    serviceOwners: {
      ...(kv.get('systemdOwner') && { systemd: kv.get('systemdOwner') }),
      ...(kv.get('initdOwner') && { initd: kv.get('initdOwner') }),
    },
    serviceFilesPresent: { systemd: yes('systemdFile'), initd: yes('initdFile') },
  };
  const optional = {
    node: nonEmpty('node'),
    nodeVersion: nonEmpty('nodeVersion'),
    runJoint: nonEmpty('runJoint'),
    token: nonEmpty('token'),
    serviceState: nonEmpty('service'),
    storeFreeBytes: kv.get('storeFreeKb') && Number.isFinite(freeKb) ? freeKb * 1024 : undefined,
    conf,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (probe as unknown as Record<string, unknown>)[key] = value;
  return probe;
}

export async function probeBoard(shell: BoardShell, board: string, req: ProbeRequest): Promise<BoardProbe> {
  const { stdout } = await runScript(shell, board, 'looking at the board', probeScript(req), { timeoutMs: 30_000 });
  return parseProbe(stdout);
}

/** Which service `auto` means on this board. */
export function chooseService(requested: ServiceKind | 'auto', probe: Pick<BoardProbe, 'systemd' | 'initdDirExists'>): ServiceKind {
  if (requested !== 'auto') return requested;
  if (probe.systemd) return 'systemd';
  if (probe.initdDirExists) return 'initd';
  return 'none';
}

/** Major version of `v18.20.4`; NaN when unreadable. */
export function nodeMajor(version: string | undefined): number {
  const m = /^v?(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : NaN;
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + sep.length)];
}
