/**
 * yargs' own usage messages, made into axctl's one line: `Invalid values:` spans two lines and
 * names the option without its dashes; an unknown command got only "Did you mean boards?" or
 * "Unknown argument: bogus", never saying that bogus is no command. The CLI runs yargs in
 * English (cli.ts), so these messages are known.
 */
import { camelCaseOf } from './cli-option-values';

/** `Argument: stage, Given: "foo", Choices: "board", "compile"` (one line of Invalid values). */
const INVALID_VALUE = /Argument: (\S+), Given: (.*), Choices: (.*)$/;

/**
 * One line saying what is wrong (the caller adds the hint: usageHint). `tokens`: the command
 * line; `commands`: the names of axctl's commands.
 */
export function usageMessage(message: string, tokens: readonly string[], commands: readonly string[]): string {
  const first = tokens[0];
  if (first !== undefined && !first.startsWith('-') && !commands.includes(first)) {
    const suggestion = /^Did you mean (.+)\?$/.exec(message.trim());
    return `${first} is not a command${suggestion ? `; did you mean ${suggestion[1]}?` : ''}`;
  }
  // `axctl compare a`: yargs counts positional arguments without saying whose.
  const missing = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(message.trim());
  if (missing && first !== undefined) {
    const [, got, need] = missing;
    return `axctl ${first} needs ${need} argument${need === '1' ? '' : 's'} after it, got ${got}`;
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(message.trim());
  if (unknown) return unknownArguments(unknown[1]!.split(', '), tokens);
  const lines = message.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (/^Invalid values?:$/.test(lines[0] ?? '')) {
    const problems = lines.slice(1).map((line) => {
      const m = INVALID_VALUE.exec(line);
      return m ? `--${m[1]} ${m[2]} is not one of ${m[3]!.replace(/"/g, '')}` : line;
    });
    return problems.join('; ');
  }
  return lines.join(' ');
}

/**
 * yargs names an unknown option twice (`agent-prefix, agentPrefix`: its camel-case twin) and
 * without dashes. Said once each, as typed: `--agent-prefix`, `-x`; a stray word stays a word.
 */
function unknownArguments(names: readonly string[], tokens: readonly string[]): string {
  const typed = names.filter((name) => !names.some((other) => other !== name && other.includes('-') && camelCaseOf(other) === name));
  const shown = typed.map((name) => {
    const option = name.length === 1 ? `-${name}` : `--${name}`;
    const asOption = tokens.some((t) => t === option || t.startsWith(`${option}=`) || (name.length === 1 && /^-[^-]/.test(t) && t.includes(name)));
    return asOption ? option : name;
  });
  const options = shown.filter((s) => s.startsWith('-'));
  const kind = options.length === shown.length ? 'option' : 'argument';
  return `unknown ${kind}${shown.length === 1 ? '' : 's'}: ${shown.join(', ')}`;
}

/** Where to read more: the command's own --help when the line names one of axctl's commands. */
export function usageHint(tokens: readonly string[], commands: readonly string[]): string {
  const first = tokens[0];
  return first !== undefined && commands.includes(first) ? `see axctl ${first} --help` : 'see axctl --help';
}
