/** The options deploy and verify share, defined once so their --help says the same. */
import type { Argv } from 'yargs';

export interface BoardArgs {
  board?: string;
  model?: string;
  gt?: string;
  'token-file'?: string;
  'connect-timeout'?: number;
  progress?: boolean;
}

export function boardOptions<T>(yargs: Argv<T>): Argv<T & BoardArgs> {
  return yargs
    .option('board', { type: 'string', describe: 'the board: ws://HOST:PORT (axagent), ssh://, serial://, or a name from axctl.yaml [default: from .axctl/]' })
    .option('model', { type: 'string', describe: 'the compiled model (.joint) [default: from .axctl/]' })
    .option('gt', { type: 'string', describe: 'the gt folder of `pulsar run --output_gt` (input/, joint/, onnx/) [default: from .axctl/]' })
    .option('token-file', { type: 'string', describe: "file holding the agent's token [default: $AXCTL_TOKEN, then axctl.yaml]" })
    .option('connect-timeout', { type: 'number', describe: 'seconds to connect and authenticate [default: 10]' })
    .option('progress', { type: 'boolean', describe: 'show progress on stderr (default: only on a terminal); --no-progress never' }) as unknown as Argv<T & BoardArgs>;
}
