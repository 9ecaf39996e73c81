/**
 * The part of `ansible_ssh_common_args` rollgate honours: `-o ProxyJump=…` / `-J …`, `-o UserKnownHostsFile=…`
 * and `-o StrictHostKeyChecking=…` (Ansible operators put these there). `ProxyCommand` is refused (rollgate
 * runs no local commands to connect; ProxyJump does the same job); other options are ignored.
 */
import { shlexSplit } from '../load/python-shlex.js';

export interface SshCommonArgs {
  proxyJump?: string;
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: string;
}

/** Parse the args string; a string result is an error message. */
export function parseSshCommonArgs(text: string): SshCommonArgs | string {
  const split = shlexSplit(text);
  if ('error' in split) return split.error;
  const words = split.tokens.map((t) => t.text);
  const out: SshCommonArgs = {};
  const option = (raw: string): string | undefined => {
    const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/.exec(raw);
    if (!m) return undefined;
    const [, key = '', value = ''] = m;
    switch (key.toLowerCase()) {
      case 'proxyjump':
        out.proxyJump = value;
        break;
      case 'userknownhostsfile':
        out.userKnownHostsFiles = value.split(/\s+/).filter(Boolean);
        break;
      case 'stricthostkeychecking':
        out.strictHostKeyChecking = value;
        break;
      case 'proxycommand':
        return 'ProxyCommand is not supported: rollgate runs no local command to connect';
      default:
        break;
    }
    return undefined;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let problem: string | undefined;
    if (w === '-o') problem = option(words[++i] ?? '');
    else if (w.startsWith('-o')) problem = option(w.slice(2));
    else if (w === '-J') out.proxyJump = words[++i] ?? '';
    else if (w.startsWith('-J')) out.proxyJump = w.slice(2);
    if (problem) return problem;
  }
  return out;
}
