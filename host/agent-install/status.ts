/**
 * `axctl agent status`: is the agent installed under the prefix, which version, is its service
 * running, does it answer (through the wrapper over SSH, and on the service's port), how much
 * room the store has. Every finding that needs action becomes one line in `problems`, with
 * the command that fixes it.
 */
import type { BoardLink } from './board-link';
import { checkService, checkStdio, installCommand, type CheckResult } from './checks';
import { hostTokenFile, readHostToken } from './host-token';
import { layoutOf, type ServiceKind } from './layout';
import { probeBoard } from './probe';

export interface StatusOptions {
  prefix: string;
  initdDir: string;
  /** This axctl's agent version (what install would put there). */
  thisVersion: string;
  checkTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export interface StatusReport {
  board: string;
  prefix: string;
  installed: boolean;
  /** Version written at install time. */
  version?: string;
  thisVersion: string;
  service?: ServiceKind;
  serviceFile?: string;
  /** systemd: active/inactive/failed...; initd: running/stopped/missing. */
  serviceState?: string;
  listen?: string;
  node?: string;
  runJoint?: string;
  /** The agent's run_joint is not an executable file on the board (gone after a firmware update, or a wrong path): nothing can run. */
  runJointMissing?: boolean;
  store?: string;
  /** Free bytes for the store: the agent's own figure when it answered, else df's. */
  storeFreeBytes?: number;
  hostTokenFile: string;
  hostTokenPresent: boolean;
  checks: { stdio?: CheckResult; service?: CheckResult };
  /** What needs doing, one line each; empty when all is well. */
  problems: string[];
}

export async function agentStatus(link: BoardLink, opts: StatusOptions): Promise<StatusReport> {
  const layout = layoutOf(opts.prefix);
  const probe = await probeBoard(link.shell, link.label, { prefix: layout.prefix, initdDir: opts.initdDir });
  const tokenFile = hostTokenFile(link.label, opts.env);
  const hostToken = await readHostToken(tokenFile);
  const conf = probe.conf;
  const installed = probe.prefixState === 'ours' && probe.agentFilePresent && conf !== undefined;
  const report: StatusReport = {
    board: link.label,
    prefix: layout.prefix,
    installed,
    thisVersion: opts.thisVersion,
    hostTokenFile: tokenFile,
    hostTokenPresent: hostToken !== undefined,
    checks: {},
    problems: [],
    ...(probe.storeFreeBytes !== undefined && { storeFreeBytes: probe.storeFreeBytes }),
  };
  const fix = installCommand(link.label, { prefix: layout.prefix });
  if (!installed) {
    report.problems.push(probe.prefixState === 'ours' ? `the installation at ${layout.prefix} is incomplete: run ${fix}` : `no agent installed at ${layout.prefix}: run ${fix}`);
    return report;
  }
  Object.assign(report, {
    version: conf.version,
    service: conf.service,
    ...(conf.serviceFile && { serviceFile: conf.serviceFile }),
    ...(probe.serviceState && { serviceState: probe.serviceState }),
    ...(conf.service !== 'none' && { listen: `${conf.listenHost}:${conf.port}` }),
    node: conf.node,
    runJoint: conf.runJoint,
    store: conf.store,
  });
  // The probe takes the configured run_joint when it is an executable file, else looks elsewhere.
  const runJointMissing = !(probe.runJoint === conf.runJoint && probe.runJointExecutable);
  if (runJointMissing) {
    report.runJointMissing = true;
    const elsewhere = probe.runJoint && probe.runJointExecutable ? ` (there is one at ${probe.runJoint})` : '';
    report.problems.push(`the agent's run_joint ${conf.runJoint} is missing or not executable, so nothing can run: put it back, or run ${fix} --run-joint PATH${elsewhere}`);
  }
  if (conf.version !== opts.thisVersion) report.problems.push(`the agent is ${conf.version}, this axctl is ${opts.thisVersion}: upgrade with ${fix}`);
  if (!hostToken) report.problems.push(`this host has no copy of the agent's token (${tokenFile}): run ${fix} (it keeps the board's token)`);
  // The board's own token is the truth; the host's copy may be missing or stale.
  const token = probe.token ?? hostToken;
  if (hostToken && probe.token && hostToken !== probe.token) report.problems.push(`${tokenFile} differs from the board's token: run ${fix} to copy it again`);
  if (!token) {
    report.problems.push(`the board has no token at ${layout.tokenFile}: run ${fix}`);
    return report;
  }
  const stdio = await checkStdio(link, layout.prefix, token, opts.checkTimeoutMs);
  report.checks.stdio = stdio;
  if (stdio.ok && stdio.storeFreeBytes !== undefined) report.storeFreeBytes = stdio.storeFreeBytes;
  // An agent of an earlier release refuses to start without its run_joint: that is said above, not again as a refusal to answer.
  if (!stdio.ok && !(runJointMissing && stdio.code?.startsWith('RUN_JOINT_'))) report.problems.push(`the agent does not answer over ssh stdio: ${stdio.error}`);
  // Today's agent answers and says so itself: listed here only when the probe above did not find it already.
  if (stdio.runJointProblem && !runJointMissing) {
    report.runJointMissing = true;
    report.problems.push(`the agent says its run_joint ${conf.runJoint} is missing or not executable (${stdio.runJointProblem}), so nothing can run: put it back, or run ${fix} --run-joint PATH`);
  }
  if (conf.service !== 'none') {
    const running = probe.serviceState === 'active' || probe.serviceState === 'running';
    if (!running) report.problems.push(`the ${conf.service} service is ${probe.serviceState ?? 'unknown'}: run ${fix} to restart it`);
    else {
      const service = await checkService(link, conf.port, token, opts.checkTimeoutMs);
      report.checks.service = service;
      if (!service.ok) report.problems.push(`the service does not answer on port ${conf.port}: ${service.error}`);
    }
  }
  return report;
}
