/**
 * How the stand-in fails: like the Python tool it imitates, with a logged error, a traceback
 * on stderr and exit code 1; usage errors exit 2 as argparse's do.
 */

export class Fail extends Error {
  constructor(readonly exitCode: number, message: string, readonly traceback: readonly string[] = []) {
    super(message);
  }
}

/** An exception raised inside a frozen super_pulsar module. */
export function pythonError(module: string, line: number, exception: string): Fail {
  return new Fail(1, exception, [
    'Traceback (most recent call last):',
    '  File "/usr/local/bin/pulsar", line 8, in <module>',
    '    sys.exit(main())',
    `  File "<frozen ${module}>", line ${line}, in run`,
    exception,
  ]);
}
