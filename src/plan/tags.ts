/**
 * Tag selection with Ansible's meaning. A task's tags are its own plus those of its enclosing blocks and play.
 *
 * - `--tags` defaults to `all`: every task except those tagged `never`.
 * - A task tagged `always` runs whatever `--tags` says, unless `--skip-tags` names `always` (or another of its
 *   tags).
 * - A task tagged `never` runs only when `--tags` names one of its other tags (or `never`).
 * - `tagged` selects tasks with at least one tag, `untagged` those with none; both work in `--skip-tags` too.
 * - `--skip-tags` wins over `--tags`.
 * - `meta:` tasks (flush_handlers ...) always run; handlers are not filtered (they run only when notified).
 */

export interface TagSelection {
  /** --tags; empty means `all`. */
  tags: readonly string[];
  /** --skip-tags. */
  skipTags: readonly string[];
}

/** Whether a task with these (inherited + own) tags runs: Ansible's Taggable.evaluate_tags, step for step. */
export function selectedByTags(taskTags: readonly string[], selection: TagSelection): boolean {
  // An untagged task carries the tag `untagged`, which makes `--tags untagged` work by plain intersection.
  const tags = new Set(taskTags.length > 0 ? taskTags : ['untagged']);
  const untagged = taskTags.length === 0;
  const only = selection.tags.length > 0 ? selection.tags : ['all'];
  const skip = selection.skipTags;
  const meets = (list: readonly string[]) => list.some((t) => tags.has(t));
  let run: boolean;
  if (tags.has('always')) run = true;
  else if (only.includes('all') && !tags.has('never')) run = true;
  else if (meets(only)) run = true;
  else run = only.includes('tagged') && !untagged && !tags.has('never');
  if (run && skip.length > 0) {
    if (skip.includes('all')) run = tags.has('always') && !skip.includes('always');
    else if (meets(skip)) run = false;
    else if (skip.includes('tagged') && !untagged) run = false;
  }
  return run;
}
