/**
 * `pulsar info --layer_mapping model.joint`: which ONNX layers each layer of the compiled
 * model came from, so a per-layer score of the compiled model (a lava layer name) can be
 * shown as the ONNX layer the user knows. pulsar info prints tabulate tables (default format
 * "simple"; --tablefmt grid/pipe/... on request) with the columns ORIGIN_NAMES (onnx layer
 * names) and LAVA_NAMES (compiled model layer names); a compiled layer fused from several
 * onnx layers lists them all in its ORIGIN_NAMES cell. Works on toolchains > 0.6.1.2 only:
 * older joints lack the onnx names and must be rebuilt.
 */
import * as path from 'node:path';
import { ToolchainError } from './errors';
import { requireFile } from './files';
import { toolPath } from './invocation';
import { assertSucceeded, type PulsarToolchain } from './toolchain';
import type { ToolchainVersion } from './version';

export interface LayerMapping {
  /** Layer name in the compiled (lava/joint) model. */
  readonly lava: string;
  /** The onnx layers it was made from (one, or several when layers were fused). */
  readonly onnx: readonly string[];
  /** 1-based line of the row in pulsar info's output. */
  readonly line: number;
}

export interface LayerMappingResult {
  readonly toolchain: ToolchainVersion;
  readonly model: string;
  readonly mappings: readonly LayerMapping[];
}

const ORIGIN = /^ORIGIN_NAMES?$/i;
const LAVA = /^LAVA_NAMES?$/i;

/** Reads every layer-mapping table in pulsar info's output; [] when there is none. */
export function parseLayerMapping(text: string): LayerMapping[] {
  const lines = text.split(/\r?\n/);
  const out: LayerMapping[] = [];
  for (let i = 0; i < lines.length; i++) {
    const header = splitRow(lines[i]);
    const originCol = header.findIndex((h) => ORIGIN.test(h));
    const lavaCol = header.findIndex((h) => LAVA.test(h));
    if (originCol < 0 || lavaCol < 0) continue;
    const spans = dashSpans(lines[i + 1] ?? '');
    let j = i + 1;
    if (spans || /^[\s|:+=-]+$/.test(lines[j] ?? '')) j++;
    for (; j < lines.length; j++) {
      const raw = lines[j];
      if (raw.trim() === '') break;
      if (/^[\s|:+=-]+$/.test(raw)) continue; // grid rule lines, closing rule of "simple"
      const cells = spans ? sliceBySpans(raw, spans) : splitRow(raw);
      if (cells.length <= Math.max(originCol, lavaCol)) break;
      const lava = cells[lavaCol].trim();
      const onnx = splitNames(cells[originCol]);
      if (lava) out.push({ lava, onnx, line: j + 1 });
    }
    i = j;
  }
  return out;
}

/** Lava layer name → onnx layer names (a lava name printed on several rows is merged). */
export function lavaToOnnx(mappings: readonly LayerMapping[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const m of mappings) {
    const list = map.get(m.lava) ?? [];
    for (const name of m.onnx) if (!list.includes(name)) list.push(name);
    map.set(m.lava, list);
  }
  return map;
}

/** Onnx layer name → the lava layers it ended up in. */
export function onnxToLava(mappings: readonly LayerMapping[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const m of mappings) {
    for (const name of m.onnx) {
      const list = map.get(name) ?? [];
      if (!list.includes(m.lava)) list.push(m.lava);
      map.set(name, list);
    }
  }
  return map;
}

export async function pulsarLayerMapping(tool: PulsarToolchain, model: string): Promise<LayerMappingResult> {
  const file = path.resolve(model);
  await requireFile(file, 'compiled model');
  const toolchain = await tool.version();
  const result = await tool.run(['info', '--layer_mapping', toolPath(tool.invocation, file)], tool.timeouts.queryMs, false);
  assertSucceeded(result, 'PULSAR_INFO_FAILED', 'pulsar info', 'pulsar info needs a toolchain newer than 0.6.1.2 and a joint built by it');
  const mappings = parseLayerMapping(result.lines.map((l) => l.text).join('\n'));
  if (mappings.length === 0) {
    throw new ToolchainError('LAYER_MAPPING_NOT_FOUND', `pulsar info --layer_mapping printed no ORIGIN_NAMES/LAVA_NAMES table for ${file}`, {
      hint: 'joints built by toolchains up to 0.6.1.2 lack the onnx layer names: rebuild with a newer toolchain',
    });
  }
  return { toolchain, model: file, mappings };
}

function splitRow(line: string): string[] {
  const t = line.trim();
  if (t.startsWith('|')) return t.replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  return t.split(/\s{2,}|\t+/).map((c) => c.trim());
}

/** Column spans from a tabulate "simple" rule line (`-----  ------`), or null. */
function dashSpans(line: string): Array<[number, number]> | null {
  if (!/^\s*-+(\s+-+)*\s*$/.test(line)) return null;
  const spans: Array<[number, number]> = [];
  for (const m of line.matchAll(/-+/g)) spans.push([m.index as number, (m.index as number) + m[0].length]);
  return spans.length >= 2 ? spans : null;
}

function sliceBySpans(line: string, spans: Array<[number, number]>): string[] {
  return spans.map(([start], k) => line.slice(start, k + 1 < spans.length ? spans[k + 1][0] : undefined).trim());
}

/** `['a', 'b']`, `a, b`, `a b` or `a` → names. */
function splitNames(cell: string): string[] {
  return cell
    .replace(/^\s*[[(]|[\])]\s*$/g, '')
    .split(/[,\s]+/)
    .map((n) => n.trim().replace(/^['"]|['"]$/g, ''))
    .filter(Boolean);
}
