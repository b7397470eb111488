/**
 * What `axctl agent install|status|uninstall` print: a few aligned lines for people, or the
 * report as JSON (--json) for scripts.
 */
import type { CheckResult } from './checks';
import type { InstallReport } from './install';
import type { StatusReport } from './status';
import type { UninstallReport } from './uninstall';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function rows(pairs: [string, string | undefined][]): string {
  const shown = pairs.filter((p): p is [string, string] => p[1] !== undefined);
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

function check(result: CheckResult | undefined): string | undefined {
  if (!result) return undefined;
  // A failure's message is among the problems listed below the rows.
  if (!result.ok) return `NO ANSWER (${result.code}) via ${result.via}`;
  return `answers (axagent ${result.agentVersion}, ${result.ms} ms${result.runJointProblem ? `, but ${result.runJointProblem}` : ''}) via ${result.via}`;
}

export function renderInstall(r: InstallReport): string {
  const what = r.previousVersion ? (r.previousVersion === r.version ? `reinstalled axagent ${r.version}` : `upgraded axagent ${r.previousVersion} → ${r.version}`) : `installed axagent ${r.version}`;
  return `${what} on ${r.board}\n` + rows([
    ['prefix', r.prefix],
    ['start', `${r.wrapper} --stdio (ssh://) or --listen HOST:PORT`],
    ['node', `${r.node} (${r.nodeVersion})`],
    ['run_joint', r.runJoint],
    ['store', r.store],
    ['service', r.service === 'none' ? `none${r.serviceNote ? ` (${r.serviceNote})` : ''}` : `${r.service}: ${r.serviceFile}, listening on ${r.listen}${r.serviceNote ? ` (${r.serviceNote})` : ''}`],
    ['token', `${r.boardTokenFile} on the board (${r.tokenKept ? 'kept' : 'new'}); this host's copy: ${r.hostTokenFile}`],
    ['ssh stdio', check(r.checks.stdio)],
    ['service', check(r.checks.service)],
  ]);
}

export function renderStatus(r: StatusReport): string {
  const head = r.installed ? `axagent ${r.version} installed at ${r.prefix} on ${r.board}` : `no axagent installed at ${r.prefix} on ${r.board}`;
  const body = r.installed
    ? rows([
      ['version', r.version === r.thisVersion ? `${r.version} (this axctl's)` : `${r.version} (this axctl has ${r.thisVersion})`],
      ['service', r.service === 'none' ? 'none' : `${r.service} ${r.serviceState ?? 'unknown'} (${r.serviceFile}, ${r.listen})`],
      ['node', r.node],
      ['run_joint', r.runJoint && `${r.runJoint}${r.runJointMissing ? ' (missing or not executable)' : ''}`],
      ['store', r.store && `${r.store}${r.storeFreeBytes !== undefined ? `, ${formatBytes(r.storeFreeBytes)} free` : ''}`],
      ['token', `${r.hostTokenFile}${r.hostTokenPresent ? '' : ' (missing)'}`],
      ['ssh stdio', check(r.checks.stdio)],
      ['service', check(r.checks.service)],
    ])
    : '';
  const problems = r.problems.map((p) => `  ! ${p}\n`).join('');
  return `${head}\n${body}${problems}`;
}

export function renderUninstall(r: UninstallReport): string {
  if (!r.wasInstalled) return `nothing installed at ${r.prefix} on ${r.board}; nothing to do\n`;
  const lines = [`removed axagent from ${r.prefix} on ${r.board}`];
  if (r.service) lines.push(`  service    ${r.service} stopped and removed${r.serviceFile ? ` (${r.serviceFile})` : ''}`);
  if (r.serviceKept) lines.push(`  service    ${r.serviceKept.service} left alone: it starts the agent installed at ${r.serviceKept.owner}`);
  if (r.stoppedPids.length) lines.push(`  processes  ended ${r.stoppedPids.join(', ')}`);
  if (r.keptStore) lines.push(`  store      kept ${r.keptStore} (outside the prefix; --purge-store removes it)`);
  if (r.purgedStore) lines.push(`  store      removed ${r.purgedStore}`);
  return lines.join('\n') + '\n';
}
