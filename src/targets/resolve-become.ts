/**
 * sudo's password for one host, as Ansible finds it: the host's `ansible_become_password` (or `_pass`, or the old
 * `ansible_sudo_pass`; rollgate's `rollgate_become_password` first), which may be vault-encrypted or a template
 * over the host's variables (`"{{ vault_sudo_password }}"`); else `rollgate_become_password_env: NAME` (the
 * password in the controller's environment); else the run's `--ask-become-pass` / `--become-password-file`.
 * Read for every host (a play's `become: true` may need it later). Problems name the variable's file:line:col.
 */
import type { ConfigProblem } from '../core/config-error.js';
import { BecomePassword } from '../connection/become-password.js';
import { createScope } from '../template/template.js';
import type { Resolved } from './resolve-options.js';
import { findVar, varProblem, type FoundVar, type TargetHost } from './target-vars.js';

/** A usable password: a non-empty line (sudo reads one line). */
function badPassword(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (/[\r\n]/.test(value)) return 'has a line break (sudo reads the password up to the first one)';
  return undefined;
}

/** The variable's value as text, templated over the host's variables when it is a template. */
function fromVariable(host: TargetHost, v: FoundVar, problems: ConfigProblem[]): string | undefined {
  let value = v.value;
  if (typeof value === 'string' && value.includes('{{')) {
    try {
      value = createScope([{ kind: 'inventory', vars: host.vars, position: v.position }]).lookup(v.name);
    } catch (err) {
      problems.push(
        varProblem(
          host,
          v,
          `${v.name} cannot be templated: ${(err as Error).message}`,
          `define the variable it names for ${host.name} (a vault-encrypted vars file is the usual place)`,
        ),
      );
      return undefined;
    }
  }
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string') {
    problems.push(
      varProblem(host, v, `${v.name} is not text`, `write ${v.name}: followed by the password (ideally !vault)`),
    );
    return undefined;
  }
  return value;
}

export function resolveBecomePassword(
  host: TargetHost,
  o: Resolved,
  problems: ConfigProblem[],
): BecomePassword | undefined {
  const before = problems.length;
  const v = findVar(host, 'becomePassword');
  if (v) {
    const value = fromVariable(host, v, problems);
    if (value === undefined) return undefined;
    const bad = badPassword(value);
    if (!bad) return new BecomePassword(value, v.name);
    problems.push(varProblem(host, v, `${v.name} ${bad}`, `write the password itself, or remove ${v.name}`));
    return undefined;
  }
  const env = findVar(host, 'becomePasswordEnv');
  if (env) {
    const name = env.value;
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(
        varProblem(
          host,
          env,
          `${env.name} is ${JSON.stringify(name)}, not an environment variable name`,
          `write ${env.name}: SUDO_PASSWORD (the name of the variable that holds the password, not the password)`,
        ),
      );
      return undefined;
    }
    const value = o.env[name];
    const bad = value === undefined ? 'is not set' : badPassword(value);
    if (bad || value === undefined) {
      problems.push(
        varProblem(
          host,
          env,
          `environment variable ${name} (${env.name}) ${bad}`,
          `export ${name} with sudo's password for ${host.name} before running rollgate`,
        ),
      );
      return undefined;
    }
    return problems.length > before ? undefined : new BecomePassword(value, `${env.name} (${name})`);
  }
  return o.becomePassword;
}
