/**
 * Load-time check of the `rollgate_*` variables declared in core/host-vars.ts: every host's merged variables,
 * wherever they were set (YAML or INI inventory, group_vars, host_vars), against each variable's JSON Schema with
 * ajv. Each bad value is a problem at the position that set it. Connection variables are left to targets/,
 * which reads them with its own messages.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ConfigProblem, SourcePosition } from '../core/config-error.js';
import { hostVarDeclarations, type HostVarName } from '../core/host-vars.js';
import { LockedVault } from '../core/locked-vault.js';
import { createAjv, kindOf } from './schema-errors.js';

type Declaration = { doc: string; schema: Record<string, unknown>; checkedBy?: 'targets' };

let validators: Map<HostVarName, ValidateFunction> | undefined;

function validatorsOf(): Map<HostVarName, ValidateFunction> {
  if (validators) return validators;
  const ajv = createAjv();
  validators = new Map();
  for (const [name, d] of Object.entries(hostVarDeclarations) as Array<[HostVarName, Declaration]>)
    if (d.checkedBy !== 'targets') validators.set(name, ajv.compile(d.schema));
  return validators;
}

function messageOf(name: string, value: unknown, err: ErrorObject): string {
  switch (err.keyword) {
    case 'type':
      return `\`${name}\` must be ${[err.params.type].flat().join(' or ')}, not ${kindOf(value)}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `\`${name}\` must be ${err.keyword === 'minimum' ? 'at least' : 'more than'} ${err.params.limit}, not ${JSON.stringify(value)}`;
    case 'minLength':
      return `\`${name}\` must not be empty`;
    case 'pattern':
      return `\`${name}\` is ${JSON.stringify(value)}, which is not in the expected form`;
    default:
      return `\`${name}\` ${err.message ?? 'is not valid'}`;
  }
}

/** Problems with the declared variables of one host (none when all are absent or valid). */
export function hostVarProblems(host: {
  vars: Record<string, unknown>;
  varOrigins: Record<string, SourcePosition>;
}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, validate] of validatorsOf()) {
    if (!(name in host.vars)) continue;
    const value = host.vars[name];
    if (value instanceof LockedVault) {
      // rollgate's settings are read as the inventory loads, so a vaulted one needs its password even to list.
      const { position, message, hint } = value.problem;
      problems.push({
        position,
        message: `\`${name}\` is read when the inventory loads, and ${message}`,
        ...(hint ? { hint } : {}),
      });
      continue;
    }
    if (validate(value)) continue;
    const err = validate.errors?.[0];
    const hint = (hostVarDeclarations[name].schema as { 'x-hint'?: string })['x-hint'];
    problems.push({
      position: host.varOrigins[name],
      message: err ? messageOf(name, value, err) : `\`${name}\` is not valid`,
      ...(hint ? { hint } : {}),
    });
  }
  return problems;
}
