/**
 * The published playbook JSON Schema (schemas/playbook.schema.json), generated from the keyword tables and
 * `moduleSpecs`. Editors use it through `# yaml-language-server: $schema=../schemas/playbook.schema.json`;
 * rollgate itself validates piece by piece (src/load/playbook-*.ts) to give sharper messages, from the same
 * tables. `npm run schemas` rewrites the file; a test fails when the committed file is out of date.
 */
import { moduleSpecs } from '../modules/registry.js';
import { blockKeywords, handlerKeywords, metaActions, playKeywords, taskKeywords } from './playbook-keywords.js';

type Schema = Record<string, unknown>;

/** A string holding `{{ }}`: valid wherever a templated value may stand. */
export const templateString: Schema = { type: 'string', pattern: '\\{\\{.*\\}\\}' };

/** Module options with every option also accepting a template (its type is known only at run time). */
function moduleOptionsSchema(name: keyof typeof moduleSpecs): Schema {
  const spec = moduleSpecs[name];
  const options = spec.options as Schema & { properties: Record<string, Schema> };
  const properties = Object.fromEntries(
    Object.entries(options.properties).map(([key, prop]) => {
      const { description, ...rest } = prop as Schema & { description?: string };
      const wrapped: Schema = Object.keys(rest).length === 0 ? {} : { anyOf: [rest, templateString] };
      return [key, description ? { description, ...wrapped } : wrapped];
    }),
  );
  const object: Schema = { ...options, properties };
  const requiresNothing = !options.required && !options.anyOf && !options.oneOf;
  const alternatives: Schema[] = [object];
  if (name === 'command' || name === 'shell')
    alternatives.unshift({ type: 'string', description: 'the command line (free form)' });
  if (requiresNothing) alternatives.push({ type: 'null' });
  const body = alternatives.length === 1 ? object : { anyOf: alternatives };
  return { description: spec.description, ...body };
}

function taskSchema(keywords: Record<string, Schema>): Schema {
  const moduleKeys = Object.keys(moduleSpecs);
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...keywords,
      ...Object.fromEntries(moduleKeys.map((m) => [m, { $ref: `#/definitions/module_${m}` }])),
      meta: { enum: [...metaActions], description: 'steer the play: flush_handlers runs notified handlers now' },
    },
    oneOf: [...moduleKeys, 'meta'].map((m) => ({ required: [m] })),
  };
}

export function buildPlaybookSchema(): Schema {
  const taskOrBlock = { $ref: '#/definitions/task_or_block' };
  const taskList = { type: 'array', items: taskOrBlock };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'rollgate playbook',
    description:
      'A list of plays, as ansible-playbook reads them, restricted to what rollgate runs. Generated from src/load/schema.ts; do not edit.',
    type: 'array',
    items: { $ref: '#/definitions/play' },
    definitions: {
      play: {
        type: 'object',
        additionalProperties: false,
        required: ['hosts'],
        properties: {
          ...playKeywords,
          pre_tasks: taskList,
          tasks: taskList,
          post_tasks: taskList,
          handlers: { type: 'array', items: { $ref: '#/definitions/handler' } },
        },
      },
      task_or_block: {
        if: { type: 'object', required: ['block'] },
        then: { $ref: '#/definitions/block' },
        else: { $ref: '#/definitions/task' },
      },
      block: {
        type: 'object',
        additionalProperties: false,
        required: ['block'],
        properties: { ...blockKeywords, block: taskList, rescue: taskList, always: taskList },
      },
      task: taskSchema(taskKeywords),
      handler: taskSchema(handlerKeywords),
      ...Object.fromEntries(
        Object.keys(moduleSpecs).map((m) => [`module_${m}`, moduleOptionsSchema(m as keyof typeof moduleSpecs)]),
      ),
    },
  };
}

/** The file `npm run schemas` writes, byte for byte. */
export function playbookSchemaText(): string {
  return JSON.stringify(buildPlaybookSchema(), null, 2) + '\n';
}
