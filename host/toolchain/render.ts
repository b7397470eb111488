/** Human-readable summaries of build and sim results (the JSON form is the result itself). */
import * as path from 'node:path';
import type { PulsarScore } from '../../shared/parsers/pulsar-run-log';
import type { BuildResult } from './build';
import type { SimResult } from './sim';
import { formatToolchainVersion } from './version';

export function renderBuild(build: BuildResult): string {
  const lines = [
    `built ${rel(build.joint.path)} with pulsar ${formatToolchainVersion(build.toolchain)} in ${seconds(build.durationMs)}`,
    `  output config ${rel(build.outputConfig.path)}  (give this one to axctl sim --config)`,
    `  joint sha256  ${build.joint.sha256}`,
  ];
  if (build.lavaJoint) lines.push(`  lava_joint    ${rel(build.lavaJoint.path)}  (axctl sim --joint it to check quantization alone)`);
  if (build.recordFile) lines.push(`  recorded in   ${rel(build.recordFile)}`);
  if (build.layerScores.length > 0) {
    lines.push(`  per-layer scores: ${build.layerScores.length} layers, ${build.lowLayers.length} below cosine ${build.cosineThreshold}`);
    for (const s of build.lowLayers.slice(0, 10)) lines.push(`    ${scoreLine(s)}`);
    if (build.lowLayers.length > 10) lines.push(`    ... ${build.lowLayers.length - 10} more`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderSim(sim: SimResult): string {
  const lines = [
    `pulsar ${formatToolchainVersion(sim.toolchain)}: ${path.basename(sim.onnx)} vs ${path.basename(sim.model)} (${sim.modelKind}), config ${configNote(sim)}`,
  ];
  for (const w of sim.configCheck.warnings) lines.push(`  warning: ${w}`);
  const width = Math.max(...sim.scores.map((s) => s.layer.length), 5);
  lines.push(`  ${'layer'.padEnd(width)}  2-norm RE   cosine`);
  for (const s of sim.scores) {
    lines.push(`  ${s.layer.padEnd(width)}  ${`${fmt(s.relErr2Percent, 2)}%`.padStart(9)}   ${fmt(s.cosine, 4)}${s.low ? `  < ${sim.cosineThreshold}: precision loss` : ''}`);
  }
  lines.push(sim.verdict === 'ok'
    ? `ok: every output has cosine >= ${sim.cosineThreshold}; gt written to ${rel(sim.outputGt)}`
    : `precision loss: ${sim.scores.filter((s) => s.low).length} output(s) below cosine ${sim.cosineThreshold} (guide step 3: check the config with axctl lint, then compare ${sim.modelKind === 'joint' ? 'the lava_joint' : 'per layer'})`);
  return `${lines.join('\n')}\n`;
}

function configNote(sim: SimResult): string {
  switch (sim.configCheck.method) {
    case 'build-record': return 'is the one the build wrote';
    case 'content': return 'looks expanded (no build record)';
    default: return 'not checked';
  }
}

function scoreLine(s: PulsarScore): string {
  return `${s.layer}  2-norm RE ${fmt(s.relErr2Percent, 2)}%  cosine ${fmt(s.cosine, 4)}`;
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v).toLowerCase();
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}
