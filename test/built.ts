/** What `npm run build` makes that the end-to-end tests run (they need the build first). */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const CLI = path.join(ROOT, 'dist/host/cli.js');
export const AGENT_MAIN = path.join(ROOT, 'dist/agent/main.js');
export const AGENT_BUNDLE = path.join(ROOT, 'dist/axagent.js');
export const SIM_RUN_JOINT = path.join(ROOT, 'dist/scripts/sim/run-joint.js');

export function requireBuild(): void {
  for (const file of [CLI, AGENT_MAIN, AGENT_BUNDLE, SIM_RUN_JOINT]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  }
}
