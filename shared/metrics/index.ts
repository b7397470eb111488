/** Comparison metrics and verdicts: the public surface of shared/metrics. */
export { MetricsAccumulator, cosineOf, relErr2Of, unravelIndex } from './accumulator';
export type { ElementTest, Metrics, MetricsOptions, WorstElement } from './accumulator';
export { compareSources } from './compare-sources';
export type { CompareOptions, Comparison, TensorSummary } from './compare-sources';
export { isClassifierShape, TOPK_MAX_ELEMENTS } from './topk';
export type { TopKAgreement } from './topk';
export {
  BOARD_FLOAT_ATOL,
  BOARD_FLOAT_MIN_COSINE,
  BOARD_FLOAT_RTOL,
  COMPILE_MIN_COSINE,
  STAGES,
  stageTolerance,
  withOverrides,
} from './tolerance';
export type { Stage, Tolerance, ToleranceOverrides } from './tolerance';
export { formatCosine, formatPercent, formatShare, formatValue } from './format';
