/** Config lint: step 3.2 of the precision guide. Other parts of axctl import from here. */
export { hasErrors, lintConfig, lintConfigText, type LintOptions } from './lint';
export { sortFindings, type Finding, type Severity } from './finding';
export { parseMounts, type PathMount } from './context';
export { LINT_RULES, type LintRule } from './rules-table';
export { MIN_CALIBRATION_SIZE } from './rules/datasets';
export { inspectDatasetFile, type DatasetFile } from './dataset-file';
export { channelCounts, resolveColourSpaces, type ColourSpace, type ResolvedColourSpace } from './colour-space';
