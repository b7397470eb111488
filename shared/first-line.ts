/**
 * The first line of a library's message: axctl's errors are one line, and OpenSSL, yaml and
 * Node's own messages can run over several (yaml's and OpenSSL's first line ends in a colon
 * before the detail that is dropped, so that colon goes too).
 */
export function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim().replace(/:$/, '');
}

/** firstLine of a thrown value's message (or of the value itself when it is not an Error). */
export function firstLineOf(err: unknown): string {
  return firstLine(String((err as Error | undefined)?.message ?? err));
}
