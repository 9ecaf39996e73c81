/**
 * A task's module options for one host: templated in the task's scope (expression options passed as written,
 * command lines rendered with every value quoted, `omit` dropped), then checked again against the module's
 * schema now that templated values have types (a "600" from -e becomes 600 where an integer is wanted).
 */
import { Ajv } from 'ajv';
import type { ConfigProblem, SourcePosition } from '../core/config-error.js';
import { formatProblem } from '../core/config-error.js';
import { schemaProblems } from '../load/option-errors.js';
import { renderValue, TemplateFailure } from '../template/template.js';
import type { VarScope } from '../template/vars.js';
import type { YamlDocument } from '../load/yaml.js';
import { moduleSpecs, type ModuleName } from '../modules/registry.js';
import { renderCommandLine, renderShellLine } from './shell-template.js';
import { OMIT } from './task-scope.js';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, coerceTypes: true, useDefaults: true });
const validators = new Map<string, ReturnType<Ajv['compile']>>();

export interface ArgRules {
  /** Options passed as written (bare expressions the module evaluates). */
  expressionOptions?: readonly string[];
  /** Options that are command lines: values quoted (shell) or kept whole words (command). */
  shellOptions?: readonly string[];
}

function dropOmitted(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== OMIT).map(dropOmitted);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== OMIT)
        .map(([k, v]) => [k, dropOmitted(v)]),
    );
  }
  return value;
}

/** A document whose every position is the task's options (run-time values have no line of their own). */
function pinnedDoc(position: SourcePosition, value: unknown): YamlDocument {
  return { file: position.file, value, positionOf: () => position, positionIn: () => position };
}

/** Template and check; throws TemplateFailure (with the task's position) when the options are unusable. */
export function renderModuleArgs(
  module: ModuleName,
  raw: Record<string, unknown>,
  scope: VarScope,
  position: SourcePosition,
  rules: ArgRules,
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (rules.expressionOptions?.includes(key)) args[key] = value;
    else if (rules.shellOptions?.includes(key) && typeof value === 'string') {
      args[key] =
        module === 'command' ? renderCommandLine(value, scope, position) : renderShellLine(value, scope, position);
    } else args[key] = renderValue(value, scope, position);
  }
  const cleaned = dropOmitted(args) as Record<string, unknown>;
  let validate = validators.get(module);
  if (!validate) {
    validate = ajv.compile(moduleSpecs[module].options);
    validators.set(module, validate);
  }
  if (!validate(cleaned)) {
    const problems: ConfigProblem[] = schemaProblems(validate.errors ?? [], {
      doc: pinnedDoc(position, cleaned),
      path: [],
      value: cleaned,
      what: `module \`${module}\``,
    });
    const text = problems
      .map((p) => formatProblem({ message: p.message, ...(p.hint ? { hint: p.hint } : {}) }))
      .join('; ');
    throw new TemplateFailure(`after templating, ${text}`, position);
  }
  return cleaned;
}
