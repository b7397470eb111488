/**
 * `lintConfig`: the guide's step 3.2 as code. Reads a Pulsar config.prototxt (or an expanded
 * output_config) and reports what is known to cost precision or silently do nothing, each
 * finding pointing at the file and line of the offending field. Unknown fields are fine:
 * configs differ between toolchain versions and only what a rule knows is judged.
 */
import { readTextFile } from '../../shared/fs/regular-file';
import { parsePrototxt } from '../../shared/parsers/prototxt';
import { makeContext, type PathMount } from './context';
import { sortFindings, type Finding } from './finding';
import { checkDatasets } from './rules/datasets';
import { checkEvaluation } from './rules/evaluation';
import { checkNormalization } from './rules/normalization';
import { checkSixteenBit } from './rules/sixteen-bit';

export interface LintOptions {
  /** Container folders as the host sees them, for dataset paths written as /data/... */
  readonly mounts?: readonly PathMount[];
}

/** Lints a config file. Throws a BadFileError when it cannot be read or is not prototxt. */
export async function lintConfig(file: string, options: LintOptions = {}): Promise<Finding[]> {
  const text = await readTextFile(file, { what: 'a prototxt config' });
  return lintConfigText(text, file, options);
}

/** Lints config text; `file` names it in findings and anchors relative dataset paths. */
export async function lintConfigText(text: string, file: string, options: LintOptions = {}): Promise<Finding[]> {
  const ctx = makeContext(parsePrototxt(text, file), file, options.mounts ?? []);
  const findings = [
    ...checkNormalization(ctx),
    ...(await checkDatasets(ctx)),
    ...checkSixteenBit(ctx),
    ...checkEvaluation(ctx),
  ];
  return sortFindings(findings);
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
