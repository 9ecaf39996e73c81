/**
 * Load a playbook: YAML with positions, then every play checked (keys, values, tasks, templates, notify
 * targets) and turned into typed nodes. Every problem found is reported at once in one ConfigError, before any
 * host is touched.
 */
import { ConfigError, type ConfigProblem } from '../core/config-error.js';
import type { Handler, Play, Playbook } from './playbook-types.js';
import { loadYamlFile, parseYaml, type YamlDocument, type YamlPath } from './yaml.js';
import { playKeywords } from './playbook-keywords.js';
import {
  at,
  checkKeywordValues,
  checkTemplates,
  isMapping,
  optionalBoolean,
  report,
  reportUnknownKey,
  stringList,
  type LoadContext,
} from './playbook-context.js';
import { parseHandlers, parseTaskList } from './playbook-tasks.js';
import { expandsTooFar, MAX_EXPANDED_VALUES } from '../core/expanded-size.js';
import { closestName } from '../core/suggest.js';
import { checkNotify } from './playbook-notify.js';
import { hasSerialStepShape, parseSerial, type SerialStep } from '../strategy/serial.js';
import { parseMaxFailPercentage } from '../strategy/threshold.js';

export function loadPlaybook(file: string): Playbook {
  return parsePlaybookDocument(loadYamlFile(file, 'this playbook'));
}

export function parsePlaybook(text: string, file: string): Playbook {
  return parsePlaybookDocument(parseYaml(text, file, 'this playbook'));
}

export function parsePlaybookDocument(doc: YamlDocument): Playbook {
  const ctx: LoadContext = { doc, problems: [] };
  const plays: Play[] = [];
  if (expandsTooFar(doc.value)) {
    throw new ConfigError([
      {
        position: doc.positionOf([]),
        message: `this playbook expands to more than ${MAX_EXPANDED_VALUES} values (YAML aliases that repeat aliases?)`,
        hint: 'write the values out, or use fewer nested aliases',
      },
    ]);
  }
  if (!Array.isArray(doc.value)) {
    const what = doc.value === null ? 'empty' : isMapping(doc.value) ? 'a mapping' : 'a single value';
    report(
      ctx,
      [],
      `a playbook is a list of plays, but this file is ${what}`,
      'start each play with `- name: ...` and `  hosts: ...`',
    );
  } else if (doc.value.length === 0) {
    report(ctx, [], 'this playbook has no plays', 'add a play: `- hosts: all` with `tasks:` below it');
  } else {
    doc.value.forEach((p, i) => {
      const play = parsePlay(ctx, p, [i]);
      if (play) plays.push(play);
    });
  }
  if (ctx.problems.length > 0) throw new ConfigError(sortProblems(ctx.problems));
  return { file: doc.file, plays };
}

/** In file order, so the first line of the report is the first problem in the file. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0),
  );
}

function parsePlay(ctx: LoadContext, node: unknown, path: YamlPath): Play | null {
  if (!isMapping(node)) {
    report(ctx, path, 'a play must be a mapping', 'write `- hosts: ...` with `tasks:` below it');
    return null;
  }
  const unknown = Object.keys(node).filter((key) => !(key in playKeywords));
  for (const key of unknown) reportUnknownKey(ctx, path, key, 'a play', Object.keys(playKeywords));
  // A misspelt `hosts`/`tasks` has been reported as such; do not report it missing as well.
  const meant = new Set(unknown.map((k) => closestName(k, Object.keys(playKeywords))));
  if (!('hosts' in node) && !meant.has('hosts'))
    report(ctx, path, 'this play has no `hosts`', 'add `hosts: all` or a group or host pattern');
  if (
    !('tasks' in node) &&
    !('pre_tasks' in node) &&
    !('post_tasks' in node) &&
    !('handlers' in node) &&
    !meant.has('tasks')
  ) {
    report(ctx, path, 'this play has no `tasks`', 'add `tasks:` with a list of tasks');
  }
  checkKeywordValues(ctx, node, path, playKeywords);
  checkTemplates(ctx, node.vars, [...path, 'vars']);
  if (typeof node.name === 'string') checkTemplates(ctx, node.name, [...path, 'name']);
  const hosts = Array.isArray(node.hosts)
    ? stringList(node.hosts).join(',')
    : typeof node.hosts === 'string'
      ? node.hosts
      : '';
  if (typeof node.hosts === 'string' && node.hosts.trim() === '')
    report(ctx, [...path, 'hosts'], '`hosts` is empty', 'write `hosts: all` or a group or host pattern');
  const handlers: Handler[] = parseHandlers(ctx, node.handlers, [...path, 'handlers']);
  const lists = {
    preTasks: parseTaskList(ctx, node.pre_tasks, [...path, 'pre_tasks'], false),
    tasks: parseTaskList(ctx, node.tasks, [...path, 'tasks'], false),
    postTasks: parseTaskList(ctx, node.post_tasks, [...path, 'post_tasks'], false),
  };
  checkNotify(ctx, handlers, path);
  const serial = readSerial(ctx, node.serial, [...path, 'serial']);
  const maxFail = readMaxFailPercentage(ctx, node.max_fail_percentage, [...path, 'max_fail_percentage']);
  return {
    name: typeof node.name === 'string' ? node.name : hosts,
    position: at(ctx, path),
    hosts,
    hostsPosition: at(ctx, [...path, 'hosts']),
    vars: isMapping(node.vars) ? node.vars : {},
    become: optionalBoolean(node.become),
    gatherFacts: node.gather_facts === true,
    ...(serial ? { serial } : {}),
    ...(maxFail !== undefined ? { maxFailPercentage: maxFail } : {}),
    anyErrorsFatal: node.any_errors_fatal === true,
    noLogVars: stringList(node.no_log_vars),
    ...(isMapping(node.rollout) ? { rollout: node.rollout, rolloutPosition: at(ctx, [...path, 'rollout']) } : {}),
    tags: stringList(node.tags),
    ...lists,
    handlers,
  };
}

/**
 * `serial: 2`, `serial: "25%"` or `serial: [1, 5, "20%"]`, read by strategy/serial.ts (the reading `rollout` uses
 * too). A value of another shape has had the schema's message already.
 */
function readSerial(ctx: LoadContext, value: unknown, path: YamlPath): SerialStep[] | undefined {
  if (value === undefined || value === null) return undefined;
  const { steps, problems } = parseSerial(value);
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  for (const p of problems) {
    const item = p.path.length ? items[p.path[0] as number] : value;
    if ((p.path.length || !Array.isArray(value)) && !hasSerialStepShape(item)) continue;
    report(ctx, [...path, ...p.path], p.message, p.hint);
  }
  return problems.length ? undefined : steps;
}

/** `max_fail_percentage: 20` or `"20%"`, read by strategy/threshold.ts. */
function readMaxFailPercentage(ctx: LoadContext, value: unknown, path: YamlPath): number | undefined {
  if (value === undefined || value === null) return undefined;
  const read = parseMaxFailPercentage(value);
  if ('value' in read) return read.value;
  if (typeof value === 'number' || typeof value === 'string') report(ctx, path, read.problem, read.hint);
  return undefined;
}
