/**
 * Learning a model's input names from the agent. The host cannot read a joint file, so the
 * first run of a model sends gt file bases as names; when one holds a '/' (or the gt folder
 * names its file otherwise) the agent refuses the run with INPUT_UNKNOWN or INPUT_MISSING,
 * and its hint lists the model's inputs in order: "the model's inputs, in order: a, b/c".
 */
import { isAxError } from '../../shared/errors';

const LISTING = /the model's inputs, in order: (.+)$/;

/** The model's input names from the agent's refusal of a run, or null for any other error. */
export function inputNamesFromRefusal(err: unknown): string[] | null {
  if (!isAxError(err) || (err.code !== 'INPUT_UNKNOWN' && err.code !== 'INPUT_MISSING')) return null;
  const m = LISTING.exec(err.hint ?? '');
  if (!m) return null;
  const names = m[1]!.split(', ').map((n) => n.trim()).filter(Boolean);
  return names.length > 0 ? names : null;
}
