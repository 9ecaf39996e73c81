/**
 * How a host becomes its become user, as Ansible's inventory says: `ansible_become_method` sudo (the default) or
 * su; for su, `ansible_become_exe` (default `su`) and `ansible_become_flags` (split as sh splits them, each word
 * quoted again on the host). Other methods are refused for every host, become or not, since a play's `become:
 * true` may turn become on later. Problems name the variable's file:line:col.
 */
import type { ConfigProblem } from '../core/config-error.js';
import { shlexSplit } from '../load/python-shlex.js';
import type { SshTarget } from '../connection/target.js';
import { findVar, varProblem, type TargetHost } from './target-vars.js';

export type BecomeMethod = Pick<SshTarget, 'becomeMethod' | 'becomeExe' | 'becomeFlags'>;

const METHODS = new Set(['sudo', 'su']);
// rollgate gives su the command itself.
const COMMAND_FLAG = /^(-c|-C|--command(=.*)?|--session-command(=.*)?)$/;

function suFlags(host: TargetHost, problems: ConfigProblem[]): string[] | undefined {
  const v = findVar(host, 'becomeFlags');
  if (!v || v.value === '' || v.value === null) return undefined;
  const split = typeof v.value === 'string' ? shlexSplit(v.value) : { error: 'is not a string' };
  if ('error' in split) {
    problems.push(varProblem(host, v, `${v.name} ${split.error}`, `write su's flags as one line, e.g. ${v.name}: -l`));
    return undefined;
  }
  const words = split.tokens.map((t) => t.text);
  const command = words.find((w) => COMMAND_FLAG.test(w));
  if (command) {
    problems.push(
      varProblem(host, v, `${v.name} has ${command}`, `remove ${command}: rollgate gives su the command to run`),
    );
    return undefined;
  }
  return words;
}

function suExe(host: TargetHost, problems: ConfigProblem[]): string | undefined {
  const v = findVar(host, 'becomeExe');
  if (!v) return undefined;
  if (typeof v.value === 'string' && v.value.trim() !== '' && !v.value.startsWith('-')) return v.value.trim();
  problems.push(
    varProblem(host, v, `${v.name} is ${JSON.stringify(v.value)}`, `write the su program, e.g. ${v.name}: /bin/su`),
  );
  return undefined;
}

/** The host's become method (with su's program and flags), or {} after adding its problems. */
export function resolveBecomeMethod(host: TargetHost, problems: ConfigProblem[]): BecomeMethod {
  const method = findVar(host, 'becomeMethod');
  if (!method) return {};
  if (typeof method.value !== 'string' || !METHODS.has(method.value)) {
    problems.push(
      varProblem(
        host,
        method,
        `${method.name} is ${JSON.stringify(method.value)}; rollgate becomes another user through sudo or su`,
        `write ${method.name}: sudo or ${method.name}: su`,
      ),
    );
    return {};
  }
  if (method.value === 'sudo') return { becomeMethod: 'sudo' };
  const out: BecomeMethod = { becomeMethod: 'su' };
  const exe = suExe(host, problems);
  if (exe) out.becomeExe = exe;
  const flags = suFlags(host, problems);
  if (flags?.length) out.becomeFlags = flags;
  return out;
}
