/**
 * Tasks, handlers and blocks: keys checked against the keyword tables and `moduleSpecs`, exactly one module per
 * task, module options validated against the module's schema (templated values are typed at run time),
 * conditions compiled and every template's syntax checked, all before any host is touched.
 */
import { moduleSpecs, type ModuleName } from '../modules/registry.js';
import type { Block, Handler, MetaAction, MetaTask, NodeCommon, Task, TaskNode } from './playbook-types.js';
import type { YamlPath } from './yaml.js';
import { blockKeywords, handlerKeywords, metaActions, taskKeywords } from './playbook-keywords.js';
import {
  at,
  checkKeywordValues,
  checkTemplates,
  conditions,
  isMapping,
  optionalBoolean,
  report,
  reportUnknownKey,
  stringList,
  templatedPointers,
  type LoadContext,
} from './playbook-context.js';
import { validateWithSchema } from './option-errors.js';
import { argvProblems, shellLineProblems } from '../template/shell-line-check.js';
import { closestName, didYouMean, listChoices } from '../core/suggest.js';

const moduleNames = Object.keys(moduleSpecs) as ModuleName[];
const isModule = (k: string): k is ModuleName => Object.hasOwn(moduleSpecs, k);

export function parseTaskList(ctx: LoadContext, value: unknown, path: YamlPath, handlers: boolean): TaskNode[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    report(
      ctx,
      path,
      `\`${String(path[path.length - 1])}\` must be a list of tasks`,
      'start each task with `- name: ...` on its own line',
    );
    return [];
  }
  return value.flatMap((item, i) => {
    const node = parseNode(ctx, item, [...path, i], handlers);
    return node ? [node] : [];
  });
}

export function parseHandlers(ctx: LoadContext, value: unknown, path: YamlPath): Handler[] {
  return parseTaskList(ctx, value, path, true).filter((n): n is Handler => n.kind === 'task');
}

function parseNode(ctx: LoadContext, node: unknown, path: YamlPath, handlers: boolean): TaskNode | null {
  if (!isMapping(node)) {
    report(
      ctx,
      path,
      `a task must be a mapping, not ${Array.isArray(node) ? 'a list' : `\`${String(node)}\``}`,
      'write `- name: ...` and the module with its options below it',
    );
    return null;
  }
  if ('block' in node && !handlers) return parseBlock(ctx, node, path);
  for (const k of ['rescue', 'always'])
    if (k in node)
      report(
        ctx,
        [...path, k],
        `\`${k}\` needs a \`block\` in the same mapping`,
        'put the tasks that may fail under `block:`',
        'key',
      );
  return parseTask(ctx, node, path, handlers);
}

function parseCommon(ctx: LoadContext, node: Record<string, unknown>, path: YamlPath): NodeCommon {
  if (typeof node.name === 'string') checkTemplates(ctx, node.name, [...path, 'name']);
  checkTemplates(ctx, node.vars, [...path, 'vars']);
  return {
    ...(typeof node.name === 'string' ? { name: node.name } : {}),
    position: at(ctx, path),
    when: conditions(ctx, node.when, [...path, 'when'], 'when'),
    tags: stringList(node.tags),
    become: optionalBoolean(node.become),
    ignoreErrors: optionalBoolean(node.ignore_errors),
    checkMode: optionalBoolean(node.check_mode),
    vars: isMapping(node.vars) ? node.vars : {},
    noLog: optionalBoolean(node.no_log),
  };
}

function parseBlock(ctx: LoadContext, node: Record<string, unknown>, path: YamlPath): Block {
  for (const key of Object.keys(node)) {
    if (key in blockKeywords) continue;
    if (isModule(key) || key === 'meta')
      report(
        ctx,
        [...path, key],
        `a block cannot also run a module (\`${key}\`)`,
        'move it into a task inside `block:`',
        'key',
      );
    else reportUnknownKey(ctx, path, key, 'a block', Object.keys(blockKeywords));
  }
  checkKeywordValues(ctx, node, path, blockKeywords);
  return {
    kind: 'block',
    ...parseCommon(ctx, node, path),
    block: parseTaskList(ctx, node.block, [...path, 'block'], false),
    rescue: parseTaskList(ctx, node.rescue, [...path, 'rescue'], false),
    always: parseTaskList(ctx, node.always, [...path, 'always'], false),
  };
}

/** Sort a task's keys into keywords and modules; report the rest. */
function findModules(
  ctx: LoadContext,
  node: Record<string, unknown>,
  path: YamlPath,
  keywords: Record<string, object>,
  handlers: boolean,
): { modules: string[]; unknownModule: boolean } {
  let unknownModule = false;
  const keys = Object.keys(node);
  const modules: string[] = keys.filter((k) => isModule(k) || k === 'meta');
  const vocabulary = [...moduleNames, 'meta', ...Object.keys(keywords)];
  for (const key of keys) {
    if (key in keywords || modules.includes(key)) continue;
    if (key === 'rescue' || key === 'always') continue; // reported by parseNode: needs a block
    const fq = /^ansible\.(?:builtin|legacy|posix)\.(\w+)$/.exec(key);
    if (fq && isModule(fq[1]!)) {
      report(
        ctx,
        [...path, key],
        `write the module name \`${fq[1]}\` without its collection`,
        `replace \`${key}\` with \`${fq[1]}\``,
        'key',
      );
      modules.push(key);
    } else if (key === 'listen' && !handlers) {
      report(
        ctx,
        [...path, key],
        '`listen` belongs on handlers, not tasks',
        'move this task under `handlers:`, or notify the handler by name',
        'key',
      );
    } else {
      // With no module in the task, an unknown key is most likely a misspelt or unknown module.
      const closest = closestName(key, vocabulary);
      const looksLikeModule =
        modules.length === 0 && (closest === undefined || isModule(closest) || closest === 'meta');
      if (looksLikeModule) {
        unknownModule = true;
        report(
          ctx,
          [...path, key],
          `unknown module \`${key}\``,
          didYouMean(key, vocabulary) ?? `use one of ${listChoices(moduleNames)}`,
          'key',
        );
      } else reportUnknownKey(ctx, path, key, 'a task', Object.keys(keywords));
    }
  }
  return { modules, unknownModule };
}

function parseTask(
  ctx: LoadContext,
  node: Record<string, unknown>,
  path: YamlPath,
  handlers: boolean,
): Task | MetaTask | null {
  const keywords = handlers ? handlerKeywords : taskKeywords;
  const { modules, unknownModule } = findModules(ctx, node, path, keywords, handlers);
  checkKeywordValues(ctx, node, path, keywords);
  const common = parseCommon(ctx, node, path);
  if (modules.length > 1) {
    report(
      ctx,
      [...path, modules[1]!],
      `a task runs exactly one module; this one names ${modules.map((m) => `\`${m}\``).join(' and ')}`,
      'split it into one task per module',
      'key',
    );
    return null;
  }
  const module = modules[0];
  if (module === undefined) {
    if (!unknownModule) report(ctx, path, 'this task has no module', `add one of ${listChoices(moduleNames)}`);
    return null;
  }
  if (module === 'meta') {
    const action = node.meta;
    if (!metaActions.includes(action as MetaAction)) {
      report(
        ctx,
        [...path, 'meta'],
        `unknown meta action \`${String(action)}\``,
        didYouMean(String(action), metaActions) ?? `use one of ${listChoices(metaActions)}`,
      );
      return null;
    }
    return { kind: 'meta', ...common, action: action as MetaAction };
  }
  if (!isModule(module)) return null;
  const args = moduleArgs(ctx, module, node[module], [...path, module]);
  if (!args) return null;
  const loopControl = isMapping(node.loop_control) ? node.loop_control : {};
  if (typeof node.loop === 'string' && !node.loop.includes('{{')) {
    report(
      ctx,
      [...path, 'loop'],
      '`loop` must be a list or an expression',
      `write \`loop: "{{ ${node.loop} }}"\` or a YAML list`,
    );
  }
  checkTemplates(ctx, node.loop, [...path, 'loop']);
  const task: Task = {
    kind: 'task',
    ...common,
    module,
    args,
    argsPosition: at(ctx, [...path, module]),
    ...(typeof node.register === 'string' ? { register: node.register } : {}),
    notify: stringList(node.notify),
    ...(node.loop !== undefined && node.loop !== null ? { loop: node.loop } : {}),
    loopVar: typeof loopControl.loop_var === 'string' ? loopControl.loop_var : 'item',
    ...(typeof loopControl.label === 'string' ? { loopLabel: loopControl.label } : {}),
    ...(node.changed_when !== undefined
      ? { changedWhen: conditions(ctx, node.changed_when, [...path, 'changed_when'], 'changed_when') }
      : {}),
    ...(node.failed_when !== undefined
      ? { failedWhen: conditions(ctx, node.failed_when, [...path, 'failed_when'], 'failed_when') }
      : {}),
    ...(typeof node.timeout === 'number' ? { timeoutSeconds: node.timeout } : {}),
  };
  if (!handlers) return task;
  const handler: Handler = { ...task, listen: stringList(node.listen) };
  return handler;
}

/** Normalise and validate a module's options; null when they cannot be used. */
function moduleArgs(
  ctx: LoadContext,
  module: ModuleName,
  raw: unknown,
  path: YamlPath,
): Record<string, unknown> | null {
  let args: Record<string, unknown>;
  if (raw === null || raw === undefined) args = {};
  else if (typeof raw === 'string' && (module === 'command' || module === 'shell')) args = { cmd: raw };
  else if (isMapping(raw)) args = raw;
  else {
    const kind = Array.isArray(raw)
      ? 'a list'
      : typeof raw === 'string'
        ? `the string \`${raw}\``
        : `\`${String(raw)}\``;
    report(
      ctx,
      path,
      `the options of module \`${module}\` must be a mapping, not ${kind}`,
      `write \`${module}:\` and its options indented below it, e.g. \`${exampleOption(module)}\``,
    );
    return null;
  }
  const templated = templatedPointers(args);
  const problems = validateWithSchema(
    moduleSpecs[module].options,
    { doc: ctx.doc, path, value: args, what: `module \`${module}\`` },
    (e) =>
      e.keyword !== 'additionalProperties' &&
      templated.some((p) => e.instancePath === p || e.instancePath.startsWith(p + '/')),
  );
  ctx.problems.push(...problems);
  if (module === 'command' || module === 'shell') checkCommandLines(ctx, module, args, path, typeof raw === 'string');
  if (module === 'assert') conditions(ctx, args.that, [...path, 'that'], 'that');
  else if (module === 'debug' && typeof args.var === 'string') conditions(ctx, args.var, [...path, 'var'], 'var');
  else checkTemplates(ctx, args, path);
  return problems.length === 0 ? args : null;
}

/** In command lines rollgate quotes every `{{ }}` value as one word: `{% %}`, and any place where one quoted word is not data, are refused. */
function checkCommandLines(
  ctx: LoadContext,
  module: 'command' | 'shell',
  args: Record<string, unknown>,
  path: YamlPath,
  freeForm: boolean,
): void {
  for (const option of ['cmd', 'undo']) {
    const line = args[option];
    if (typeof line !== 'string') continue;
    const where = freeForm ? path : [...path, option]; // a free-form line has no `cmd` key
    if (/\{%/.test(line)) {
      report(
        ctx,
        where,
        `\`{% %}\` is not allowed in a \`${module}\` line`,
        'compute the value under `vars:` and use `{{ name }}` in the command',
      );
      continue;
    }
    for (const p of shellLineProblems(line, module))
      ctx.problems.push({ position: ctx.doc.positionIn(where, p.start), message: p.message, hint: p.hint });
  }
  if (Array.isArray(args.argv) && args.argv.every((a) => typeof a === 'string')) {
    for (const p of argvProblems(args.argv))
      ctx.problems.push({
        position: ctx.doc.positionIn([...path, 'argv', p.item ?? 0], p.start),
        message: p.message,
        hint: p.hint,
      });
  }
}

function exampleOption(module: ModuleName): string {
  const props = Object.keys(moduleSpecs[module].options.properties);
  return props.length > 0 ? `${props[0]}: ...` : `${module}: {}`;
}
