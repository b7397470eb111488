/**
 * The text of the files install writes on the board besides the agent itself: the sh wrapper
 * PREFIX/bin/axagent (the one way the agent is started, by SSH sessions and services alike),
 * a systemd unit, and a BusyBox-style init.d script. Pure functions of the layout and settings,
 * so tests read them without a board.
 */
import { AGENT_MALLOC_SETTING as MALLOC, UNSET_FOR_RUNS } from '../../shared/agent-env';
import { SERVICE_NAME, shq, type AgentConf, type Layout } from './layout';

/**
 * `PREFIX/bin/axagent --stdio` serves one connection on stdin/stdout (what ssh:// uses);
 * `PREFIX/bin/axagent --listen HOST:PORT` serves WebSocket connections (what the service runs).
 * Store, run_joint and token come from PREFIX/etc/axagent.conf, so upgrading the agent or
 * changing a setting never needs the callers to change.
 */
export function renderWrapper(layout: Layout): string {
  return `#!/bin/sh
# axagent with this installation's settings (written by \`axctl agent install\`).
#   ${layout.wrapper} --stdio             one connection on stdin/stdout (ssh://)
#   ${layout.wrapper} --listen HOST:PORT  WebSocket connections (the service)
# Further axagent options may follow; see \`${layout.wrapper} --help\`.
PREFIX=${shq(layout.prefix)}
. "$PREFIX/etc/axagent.conf" || exit 2
# glibc raises its mmap threshold once a large buffer is freed, and then keeps the agent's
# freed 1 MiB transfer buffers in its heap (6-12 MiB more resident after downloads); a fixed
# threshold hands them back. Other C libraries ignore it. run_joint does not get it.
if [ -z "\${${MALLOC.name}+set}" ]; then
  ${MALLOC.name}=${MALLOC.value} ${UNSET_FOR_RUNS}=${MALLOC.name}
  export ${MALLOC.name} ${UNSET_FOR_RUNS}
fi
exec "$AXAGENT_NODE" "$PREFIX/lib/axagent.js" --store "$AXAGENT_STORE" --run-joint "$AXAGENT_RUN_JOINT" --token-file "$PREFIX/etc/token" "$@"
`;
}

function listenArg(conf: AgentConf): string {
  const host = conf.listenHost.includes(':') ? `[${conf.listenHost}]` : conf.listenHost;
  return `${host}:${conf.port}`;
}

/** /etc/systemd/system/axagent.service: restarts the agent if it dies, starts it at boot. */
export function renderSystemdUnit(layout: Layout, conf: AgentConf): string {
  return `# Installed by \`axctl agent install\`; \`axctl agent uninstall\` removes it.
[Unit]
Description=axagent, the board side of axctl (${layout.prefix})
After=network.target

[Service]
Type=simple
ExecStart=${layout.wrapper} --listen ${listenArg(conf)}
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
TimeoutStopSec=10

[Install]
WantedBy=multi-user.target
`;
}

/**
 * init.d script for BusyBox init (rcS runs /etc/init.d/S??* with `start`) and sysvinit alike:
 * start|stop|restart|status. The pid file is trusted only if that process is an axagent, so a
 * stale file whose pid was reused never gets another program killed.
 */
export function renderInitdScript(layout: Layout, conf: AgentConf): string {
  return `#!/bin/sh
# ${SERVICE_NAME}: the board side of axctl (${layout.prefix}).
# Installed by \`axctl agent install\`; \`axctl agent uninstall\` removes it.
# usage: $0 start|stop|restart|status
PREFIX=${shq(layout.prefix)}
PIDFILE="$PREFIX/run/axagent.pid"
LOG="$PREFIX/log/axagent.log"
LISTEN=${shq(listenArg(conf))}

running() {
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q axagent "/proc/$pid/cmdline" 2>/dev/null
}

start() {
  if running; then echo "axagent is running (pid $pid)"; return 0; fi
  mkdir -p "$PREFIX/run" "$PREFIX/log"
  # Detached from the caller (an ssh session may start us): no terminal, no inherited pipes.
  nohup "$PREFIX/bin/axagent" --listen "$LISTEN" </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  echo "axagent started (pid $!)"
}

stop() {
  if ! running; then rm -f "$PIDFILE"; echo "axagent is not running"; return 0; fi
  kill "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 10 ]; do sleep 1; i=$((i + 1)); done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; fi
  rm -f "$PIDFILE"
  echo "axagent stopped"
}

case "$1" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status)
    if running; then echo "running (pid $pid)"; exit 0; fi
    echo "stopped"; exit 3 ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`;
}
