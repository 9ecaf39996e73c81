/**
 * Connection variables written as inline `!vault` values that no vault password given opens (LockedVault): the
 * target needs them, so each is the vault's own error, at the value, before any host is contacted. Only the
 * variable that would be used counts (the first of its setting's names the host defines), as Ansible opens a
 * vaulted value only where it is used.
 */
import type { ConfigProblem } from '../core/config-error.js';
import { LockedVault } from '../core/locked-vault.js';
import { connectionVarNames } from './connection-vars.js';
import { CONNECTION_VARS, type TargetHost } from './target-vars.js';

const settings: ReadonlyArray<readonly string[]> = [
  ...Object.values(connectionVarNames),
  ...Object.values(CONNECTION_VARS),
];

export function lockedVarProblems(host: TargetHost): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const names of settings) {
    const name = names.find((n) => n in host.vars);
    const value = name === undefined ? undefined : host.vars[name];
    if (!(value instanceof LockedVault)) continue;
    const { position, message, hint } = value.problem;
    problems.push({ position, message: `host \`${host.name}\`: ${name}: ${message}`, ...(hint ? { hint } : {}) });
  }
  return problems;
}
