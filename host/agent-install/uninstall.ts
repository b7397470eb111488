/**
 * `axctl agent uninstall`: stops and removes the service, ends every process still running the
 * installation's agent, and removes the prefix. Running it again (or on a board without the
 * agent) changes nothing and succeeds. A prefix holding something that is not an installation
 * is never removed. A store outside the prefix is kept unless asked (it only holds cached
 * blobs, but it may be on a card the user chose for a reason). The host's token copy is kept:
 * a later install reuses it.
 */
import { UsageError } from '../../shared/errors';
import type { BoardLink } from './board-link';
import { parseKeyValues, runScript } from './board-shell';
import { DEFAULT_SYSTEMD_DIR, INITD_SCRIPT_NAME, SERVICE_NAME, layoutOf, shq, type Layout, type ServiceKind } from './layout';
import { probeBoard } from './probe';
import { removePrefixScript, removeServiceScript, stopAgentProcessesScript } from './remote-scripts';

export interface UninstallOptions {
  prefix: string;
  initdDir: string;
  /** Also remove a store that lives outside the prefix. */
  purgeStore: boolean;
}

export interface UninstallReport {
  board: string;
  prefix: string;
  /** Something of an installation was there. */
  wasInstalled: boolean;
  /** The service that was stopped and removed, if any. */
  service?: ServiceKind;
  serviceFile?: string;
  /** Agent processes ended. */
  stoppedPids: number[];
  /** The service file now starts another prefix's agent (installed over ours): left alone. */
  serviceKept?: { service: ServiceKind; owner: string };
  /** A store outside the prefix that was kept (purgeStore not set). */
  keptStore?: string;
  purgedStore?: string;
}

export async function uninstallAgent(link: BoardLink, opts: UninstallOptions): Promise<UninstallReport> {
  const layout = layoutOf(opts.prefix);
  const probe = await probeBoard(link.shell, link.label, { prefix: layout.prefix, initdDir: opts.initdDir });
  if (probe.prefixState === 'foreign') {
    throw new UsageError('PREFIX_NOT_OURS', `${link.label}: ${layout.prefix} holds something other than an axagent installation; nothing was removed`, {
      hint: 'check --prefix',
    });
  }
  const conf = probe.conf;
  const report: UninstallReport = { board: link.label, prefix: layout.prefix, wasInstalled: probe.prefixState === 'ours', stoppedPids: [] };

  // One board has one axagent.service and one S99axagent. If another installation's is there
  // now (installed over ours by an older axctl), stopping and removing it would take that
  // installation's agent down: ours is gone from the service already.
  const owner = conf && conf.service !== 'none' ? probe.serviceOwners[conf.service] : undefined;
  if (conf && conf.service !== 'none' && owner !== undefined && owner !== layout.prefix) {
    report.serviceKept = { service: conf.service, owner };
  } else if (conf && conf.service !== 'none') {
    await runScript(link.shell, link.label, `removing the ${conf.service} service`, removeServiceScript(conf.service, conf.serviceFile));
    report.service = conf.service;
    if (conf.serviceFile) report.serviceFile = conf.serviceFile;
  }
  // Service files that name this prefix but no settings file does (an install cut short).
  const leftovers = parseKeyValues((await runScript(link.shell, link.label, 'looking for service files', leftoverServicesScript(layout, opts.initdDir))).stdout);
  for (const [kind, file] of leftovers) {
    await runScript(link.shell, link.label, `removing ${file}`, removeServiceScript(kind as ServiceKind, file));
    report.wasInstalled = true;
    report.service ??= kind as ServiceKind;
    report.serviceFile ??= file;
  }

  const stopped = await runScript(link.shell, link.label, 'stopping agent processes', stopAgentProcessesScript(layout), { timeoutMs: 30_000 });
  report.stoppedPids = [...stopped.stdout.matchAll(/^stopped=(\d+)$/gm)].map((m) => Number(m[1]));

  const store = conf?.store;
  const storeOutside = store !== undefined && store !== layout.prefix && !store.startsWith(`${layout.prefix}/`);
  if (report.wasInstalled || probe.prefixState === 'empty') {
    await runScript(link.shell, link.label, `removing ${layout.prefix}`, removePrefixScript(layout, storeOutside ? store : undefined, opts.purgeStore));
  }
  if (storeOutside) {
    if (opts.purgeStore) report.purgedStore = store;
    else report.keptStore = store;
  }
  return report;
}

/** Prints `systemd=FILE` / `initd=FILE` for service files that start this prefix's wrapper. */
function leftoverServicesScript(layout: Layout, initdDir: string): string {
  const unit = `${DEFAULT_SYSTEMD_DIR}/${SERVICE_NAME}.service`;
  const script = `${initdDir.replace(/\/+$/, '')}/${INITD_SCRIPT_NAME}`;
  return `if [ -f ${shq(unit)} ] && grep -qF ${shq(layout.wrapper)} ${shq(unit)}; then echo systemd=${unit}; fi
if [ -f ${shq(script)} ] && grep -qF ${shq(`PREFIX=${shq(layout.prefix)}`)} ${shq(script)}; then echo initd=${script}; fi
exit 0
`;
}
