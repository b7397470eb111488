/**
 * `--shape -1,10` → `--shape=-1,10`, for the host's CLI (yargs) and axagent's (util.parseArgs)
 * alike: both take a word starting with '-' after an option for another option (yargs only
 * spares a plain negative number), so `-1,10`, `-1e-5` or `-5` became short options or "argument
 * is ambiguous". Neither CLI has a short option starting with a digit or '.', so such a word can
 * only be the value of the option before it: joined to it, the option's own check judges it.
 * `takesValue(name)` says which `--name` options may take one. Tokens after `--` stay as they are.
 */
export function joinDashedValues(tokens: readonly string[], takesValue: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '--') return [...out, ...tokens.slice(i)];
    const name = /^--([^=]+)$/.exec(token)?.[1];
    const next = tokens[i + 1];
    if (name !== undefined && takesValue(name) && next !== undefined && /^-\.?[0-9]/.test(next)) {
      out.push(`${token}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}
