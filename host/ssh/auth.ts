/**
 * Which keys to log in with, in order, like OpenSSH: the --identity file, then the keys of an
 * ssh-agent (SSH_AUTH_SOCK). Without --identity, the agent's keys and then the default key
 * files (~/.ssh/id_ed25519, id_ecdsa, id_rsa) that exist. A key protected by a passphrase is
 * used through the agent only (axctl never prompts): `ssh-add FILE` loads it there.
 */
import { readTextFile } from '../../shared/fs/regular-file';
import * as os from 'node:os';
import * as path from 'node:path';
import { utils, type AnyAuthMethod, type ParsedKey } from 'ssh2';
import { BadFileError, ConnectError, fileSystemError } from '../../shared/errors';
import { fingerprint, keyTypeLabel } from './known-hosts';
import { socketAnswers } from '../../shared/socket-answers';

export interface AuthSources {
  /** Private key file (--identity). */
  identity?: string;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null: do not use an agent. */
  agentSocket?: string | null;
}

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What will be offered, for the message when the server accepts none of it. */
  offered: string[];
}

const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** How long a local ssh-agent may take to accept a connection before it counts as gone. */
const AGENT_PROBE_TIMEOUT_MS = 1000;

export async function planAuth(user: string, sources: AuthSources): Promise<AuthPlan> {
  const named = sources.agentSocket === undefined ? process.env.SSH_AUTH_SOCK || null : sources.agentSocket;
  // A dead agent (an SSH_AUTH_SOCK left from an old login or tmux) made ssh2 give up the whole
  // login ("Failed to connect to agent"): skipped, as OpenSSH does, so the key files still count.
  const agent = named && (await socketAnswers(named, AGENT_PROBE_TIMEOUT_MS)) ? named : null;
  if (named && !agent && process.env.AXCTL_DEBUG) process.stderr.write(`axctl: debug: no ssh-agent answers at ${named}; using key files only\n`);
  const methods: AnyAuthMethod[] = [];
  const offered: string[] = [];
  const addKey = (key: ParsedKey, file: string) => {
    methods.push({ type: 'publickey', username: user, key });
    offered.push(`${file} (${keyTypeLabel(key.type)} ${fingerprint(key.getPublicSSH())})`);
  };
  const addAgent = () => {
    if (!agent) return;
    methods.push({ type: 'agent', username: user, agent });
    offered.push(`the keys of the ssh-agent at ${agent}`);
  };

  if (sources.identity !== undefined) {
    const key = await loadKey(sources.identity, { agentAvailable: !!agent });
    if (key) addKey(key, sources.identity);
    addAgent();
  } else {
    addAgent();
    for (const name of DEFAULT_KEY_FILES) {
      const file = path.join(os.homedir(), '.ssh', name);
      const key = await loadKey(file, { optional: true, agentAvailable: !!agent });
      if (key) addKey(key, file);
    }
  }
  if (methods.length === 0) {
    throw new ConnectError('SSH_NO_KEY', 'no SSH key to log in with: no --identity, no ssh-agent (SSH_AUTH_SOCK) and no ~/.ssh/id_* key', {
      hint: 'give your private key with --identity FILE, or load it into an ssh-agent with ssh-add',
    });
  }
  return { methods, offered };
}

/**
 * The private key in `file`; null when it should be skipped (an optional default file that is
 * missing or unusable, or a passphrase-protected key while an agent may hold it).
 */
async function loadKey(file: string, opts: { optional?: boolean; agentAvailable: boolean }): Promise<ParsedKey | null> {
  let data: string;
  try {
    // A key is a small regular file: a FIFO or a device given as --identity must not hang or fill memory.
    data = await readTextFile(file, { what: 'an SSH private key', maxBytes: 1024 * 1024 });
  } catch (err) {
    if (opts.optional) return null;
    throw fileSystemError(file, err);
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    if (/passphrase/i.test(parsed.message)) {
      if (opts.optional || opts.agentAvailable) return null;
      throw new BadFileError('SSH_KEY_ENCRYPTED', file, 'is protected by a passphrase, and axctl does not prompt for one', {
        hint: `load it into an ssh-agent (eval $(ssh-agent); ssh-add ${file}) and axctl will use the agent`,
      });
    }
    if (opts.optional) return null;
    throw new BadFileError('SSH_KEY_INVALID', file, `is not a usable SSH private key (${parsed.message})`, {
      hint: 'give the private key file (not the .pub one), e.g. ~/.ssh/id_ed25519',
    });
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) {
    if (opts.optional) return null;
    throw new BadFileError('SSH_KEY_INVALID', file, 'holds a public key, not a private one', { hint: `give the file without .pub, e.g. ${file.replace(/\.pub$/, '')}` });
  }
  return key;
}
