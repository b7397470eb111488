/**
 * The boards' CPU for tests: a 32-bit Arm Node 18 (Debian bookworm's armhf nodejs, unpacked by
 * scripts/arm-node.sh) run with qemu-arm-static. Found at $AXCTL_ARM_ROOT or the script's
 * default folder. When it is missing the test must fail and say how to make it — an Arm check
 * that silently skips would let an agent that breaks on the boards pass.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_ARM_ROOT = '/var/cache/axctl-arm-node';
export const QEMU_ARM = '/usr/bin/qemu-arm-static';
export const ROOT = path.resolve(__dirname, '../..');

export interface ArmNode {
  root: string;
  qemu: string;
  /** argv prefix that runs the Arm node: [qemu, '-L', root, root/usr/bin/node]. */
  command: string[];
}

/** The Arm node, or an Error saying exactly how to get it. */
export function findArmNode(env: NodeJS.ProcessEnv = process.env): ArmNode {
  const root = env.AXCTL_ARM_ROOT || DEFAULT_ARM_ROOT;
  const qemu = env.QEMU_ARM || QEMU_ARM;
  if (!existsSync(qemu)) {
    throw new Error(`${qemu} is missing: apt-get install -y qemu-user-static (then run: sh scripts/arm-node.sh)`);
  }
  if (!existsSync(path.join(root, 'usr/bin/node'))) {
    throw new Error(
      `no 32-bit Arm Node at ${root}: run \`sh scripts/arm-node.sh\` once (needs debootstrap: apt-get install -y debootstrap), ` +
        'or point AXCTL_ARM_ROOT at a folder it made',
    );
  }
  return { root, qemu, command: [qemu, '-L', root, path.join(root, 'usr/bin/node')] };
}

/** Spawns `node args...` on the emulated Arm CPU. */
export function spawnArm(arm: ArmNode, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcessWithoutNullStreams {
  const [qemu, ...rest] = arm.command;
  return spawn(qemu!, [...rest, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A run_joint for the agent to spawn: the board simulator, itself on the Arm node. */
export function armRunJointScript(arm: ArmNode): string {
  const sim = path.join(ROOT, 'dist/scripts/sim/run-joint.js');
  return `#!/bin/sh\nexec ${arm.command.map((a) => `'${a}'`).join(' ')} '${sim}' "$@"\n`;
}
