/**
 * Every `notify:` must name a handler of the same play, by its name or a `listen` topic; a misspelt handler
 * would otherwise silently never run.
 */
import type { Handler } from './playbook-types.js';
import type { YamlPath } from './yaml.js';
import { isMapping, report, stringList, type LoadContext } from './playbook-context.js';
import { didYouMean } from '../core/suggest.js';

/** The YAML path of each task that has a `notify`, found by walking the raw document (positions stay exact). */
function* notifyPaths(ctx: LoadContext, playPath: YamlPath): Generator<{ path: YamlPath; names: string[] }> {
  const play = lookup(ctx.doc.value, playPath);
  if (!isMapping(play)) return;
  const lists: Array<[unknown, YamlPath]> = ['pre_tasks', 'tasks', 'post_tasks', 'handlers'].map((k) => [
    play[k],
    [...playPath, k],
  ]);
  while (lists.length > 0) {
    const [list, path] = lists.shift()!;
    if (!Array.isArray(list)) continue;
    for (const [i, task] of list.entries()) {
      if (!isMapping(task)) continue;
      for (const k of ['block', 'rescue', 'always']) if (k in task) lists.push([task[k], [...path, i, k]]);
      if (task.notify !== undefined)
        yield {
          path: [...path, i, 'notify'],
          names: Array.isArray(task.notify) ? (task.notify as unknown[]).map(String) : stringList(task.notify),
        };
    }
  }
}

function lookup(value: unknown, path: YamlPath): unknown {
  let cur = value;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur;
}

export function checkNotify(ctx: LoadContext, handlers: Handler[], playPath: YamlPath): void {
  const known = new Set<string>();
  for (const h of handlers) {
    if (h.name) known.add(h.name);
    for (const topic of h.listen) known.add(topic);
  }
  for (const { path, names } of notifyPaths(ctx, playPath)) {
    names.forEach((name, i) => {
      if (known.has(name)) return;
      const where = Array.isArray(lookup(ctx.doc.value, path)) ? [...path, i] : path;
      const hint =
        didYouMean(name, known) ??
        (known.size > 0
          ? `handlers of this play: ${[...known].map((k) => `\`${k}\``).join(', ')}`
          : 'add it under `handlers:` of this play');
      report(ctx, where, `no handler named \`${name}\` in this play`, hint);
    });
  }
}
