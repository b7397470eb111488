/**
 * Layer-by-layer comparison (guide step 3.4): the onnx-vs-lava_joint score per layer that a
 * build with `score_compare_per_layer: true` prints, from the build diagnose ran or from a
 * saved build log. Layers are named back to the onnx through `pulsar info --layer_mapping`
 * when a compiled model is at hand; a layer that is already an onnx name keeps its name.
 */
import { readTextFile } from '../../shared/fs/regular-file';
import { parsePulsarRunLog, type PulsarScore } from '../../shared/parsers/pulsar-run-log';
import type { DiagnoseReport } from '../report/model';
import { lavaToOnnx, pulsarLayerMapping, type LayerMapping } from '../toolchain/layer-mapping';
import { COSINE_THRESHOLD, isLowCosine } from '../toolchain/scores';
import type { PulsarToolchain } from '../toolchain/toolchain';

export type LayerRow = DiagnoseReport['layers'][number];

export async function readBuildLogScores(file: string): Promise<PulsarScore[]> {
  return parsePulsarRunLog(await readTextFile(file, { what: 'a pulsar build log' })).scores;
}

/**
 * The mapping of `model`, or why there is none (an old toolchain, pulsar info failing): the
 * table is still useful with the compiled names, so a failure is a note, not an error.
 */
export async function layerMappingOf(tool: PulsarToolchain, model: string): Promise<{ mappings: readonly LayerMapping[] } | { note: string }> {
  try {
    return { mappings: (await pulsarLayerMapping(tool, model)).mappings };
  } catch (err) {
    const e = err as { message?: string; hint?: string };
    return { note: `layer names not mapped to the onnx: ${e.message ?? String(err)}${e.hint ? ` (${e.hint})` : ''}` };
  }
}

/** The report's rows, worst first (NaN first: it counts as lost), with onnx names when mapped. */
export function layerRows(scores: readonly PulsarScore[], mappings: readonly LayerMapping[] | null): LayerRow[] {
  const toOnnx = mappings ? lavaToOnnx(mappings) : null;
  const onnxNames = new Set(mappings?.flatMap((m) => m.onnx) ?? []);
  const onnxNameOf = (name: string): string | null => {
    if (!toOnnx) return null;
    const list = toOnnx.get(name);
    if (list && list.length > 0) return list.join(', ');
    return onnxNames.has(name) ? name : null;
  };
  const rank = (c: number) => (Number.isNaN(c) ? -Infinity : c);
  return [...scores]
    .sort((a, b) => rank(a.cosine) - rank(b.cosine))
    .map((s) => ({
      name: s.layer,
      onnxName: onnxNameOf(s.layer),
      cosine: s.cosine,
      relErr2Percent: Number.isFinite(s.relErr2Percent) ? s.relErr2Percent : null,
    }));
}

/** One line for the check: where the loss starts (log order) and the worst layer. */
export function describeLayers(scores: readonly PulsarScore[], rows: readonly LayerRow[]): { low: number; text: string } {
  const low = scores.filter((s) => isLowCosine(s.cosine, COSINE_THRESHOLD));
  const named = (r: { name: string; onnxName?: string | null }) => (r.onnxName && r.onnxName !== r.name ? `${r.name} (onnx: ${r.onnxName})` : r.name);
  const fmt = (c: number) => (Number.isNaN(c) ? 'NaN' : c.toFixed(6));
  if (low.length === 0) return { low: 0, text: `all ${scores.length} layers >= ${COSINE_THRESHOLD} (lowest ${fmt(rows[0].cosine)}, ${named(rows[0])})` };
  const first = rows.find((r) => r.name === low[0].layer) ?? rows[0];
  return {
    low: low.length,
    text: `${low.length} of ${scores.length} layers below ${COSINE_THRESHOLD}; the first is ${named(first)} (${fmt(low[0].cosine)}), the worst ${named(rows[0])} (${fmt(rows[0].cosine)})`,
  };
}
