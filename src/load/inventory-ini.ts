/**
 * INI inventories, read as Ansible 2.14's ini plugin reads them: hosts before any section are in `ungrouped`;
 * `[group]` lists hosts with inline `key=value` vars (split like Python's shlex, typed like Python literals);
 * `[group:vars]` sets group vars (`key = value`, typed the same); `[group:children]` names child groups, which
 * may be declared further down. `;` and `#` start comment lines. Problems carry file:line:col.
 */
import type { SourcePosition } from '../core/config-error.js';
import { addChild, addGroup, addHost, setGroupVar, setHostVar, type InventoryDraft } from './inventory-data.js';
import { expandHostPattern } from './host-range.js';
import { iniValue } from './python-literal.js';
import { shlexSplit } from './python-shlex.js';

const sectionRe = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/u;
const groupNameRe = /^([^:\]\s]+)\s*(?:#.*)?$/u;
// Python's str.splitlines() boundaries.
const lineBreak = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

interface Pending {
  state: 'vars' | 'children';
  at: SourcePosition;
  parents: string[];
}

/** Read INI inventory text into the draft; every problem found is appended to draft.problems. */
export function readIniInventory(draft: InventoryDraft, text: string, file: string): void {
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  const lines = text.split(lineBreak);
  const problem = (at: SourcePosition, message: string, hint: string) =>
    draft.problems.push({ position: at, message, hint });
  lines.forEach((raw, index) => {
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    const at = (offset = 0): SourcePosition => ({ file, line: index + 1, column: indent + offset + 1 });
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    const section = sectionRe.exec(line);
    if (section) {
      group = section[1] ?? '';
      state = section[2] ?? 'hosts';
      if (state !== 'hosts' && state !== 'children' && state !== 'vars') {
        problem(
          at(),
          `section [${group}:${state}] has unknown type \`${state}\``,
          `write [${group}], [${group}:vars] or [${group}:children]`,
        );
        state = 'skip';
        return;
      }
      if (!draft.groups.has(group)) {
        if (state === 'vars' && !pending.has(group)) pending.set(group, { state: 'vars', at: at(), parents: [] });
        addGroup(draft, group, at());
      }
      const waiting = pending.get(group);
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') resolvePending(draft, group, pending);
        else pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      problem(
        at(),
        `invalid section header ${line}`,
        'write [group], [group:vars] or [group:children], with no spaces inside the brackets',
      );
      state = 'skip';
      return;
    }
    if (state === 'hosts') readHostLine(draft, line, group, at);
    else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0)
        return void problem(
          at(),
          `expected \`key=value\` in [${group}:vars], got \`${line}\``,
          'write one `name = value` per line',
        );
      const key = line.slice(0, eq).trim();
      if (key === '') return void problem(at(), `a variable in [${group}:vars] has no name`, 'write `name = value`');
      setGroupVar(draft, group, key, iniValue(line.slice(eq + 1).trim()), at());
    } else if (state === 'children') {
      const child = groupNameRe.exec(line)?.[1];
      if (child === undefined)
        return void problem(
          at(),
          `expected a group name in [${group}:children], got \`${line}\``,
          'write one group name per line',
        );
      if (draft.groups.has(child)) addChild(draft, group, child, at());
      else {
        const waiting = pending.get(child);
        if (waiting) waiting.parents.push(group);
        else pending.set(child, { state: 'children', at: at(), parents: [group] });
      }
    }
  });
  for (const [name, decl] of pending) {
    if (decl.state === 'vars') {
      problem(
        decl.at,
        `[${name}:vars] sets variables for \`${name}\`, a group that is never declared`,
        `declare it with a [${name}] or [${name}:children] section, or fix the name`,
      );
    } else {
      problem(
        decl.at,
        `[${decl.parents[decl.parents.length - 1]}:children] names \`${name}\`, a group that is never declared`,
        `declare it with a [${name}] section listing its hosts, or fix the name`,
      );
    }
  }
}

function resolvePending(draft: InventoryDraft, group: string, pending: Map<string, Pending>): void {
  const decl = pending.get(group);
  if (!decl) return;
  pending.delete(group);
  for (const parent of decl.parents) {
    addChild(draft, parent, group, decl.at);
    if (pending.get(parent)?.state === 'children') resolvePending(draft, parent, pending);
  }
}

function readHostLine(
  draft: InventoryDraft,
  line: string,
  group: string,
  at: (offset?: number) => SourcePosition,
): void {
  const problem = (pos: SourcePosition, message: string, hint: string): void =>
    void draft.problems.push({ position: pos, message, hint });
  const split = shlexSplit(line);
  if ('error' in split)
    return problem(
      at(),
      `cannot split host line \`${line}\`: ${split.error}`,
      'close the quote, or quote a value that contains spaces: key="a b"',
    );
  const [first, ...rest] = split.tokens;
  if (!first) return;
  const pattern = first.text;
  const expanded = expandHostPattern(pattern);
  if ('error' in expanded) return problem(at(first.start), expanded.error, expanded.hint);
  if (pattern.trim().endsWith(':') && expanded.port === undefined) {
    return problem(
      at(first.start),
      `host \`${pattern}\` ends in \`:\``,
      'a colon after a host name introduces its port: write `host:2222`, or remove the colon',
    );
  }
  if (expanded.names.some((n) => n.trim() === '---'))
    return problem(at(first.start), 'a line `---` in an INI inventory', 'this looks like YAML: name the file .yml');
  const vars: [string, unknown, SourcePosition][] = [];
  for (const t of rest) {
    const eq = t.text.indexOf('=');
    if (eq < 0)
      return problem(
        at(t.start),
        `expected \`key=value\` after host \`${pattern}\`, got \`${t.text}\``,
        'write host variables as key=value, quoting values with spaces: key="a b"; comments start with #',
      );
    vars.push([t.text.slice(0, eq), iniValue(t.text.slice(eq + 1)), at(t.start)]);
  }
  if (expanded.names.length === 0) return;
  for (const name of expanded.names) {
    addHost(draft, name, group, expanded.port, at(first.start));
    for (const [k, v, pos] of vars) setHostVar(draft, name, k, v, pos);
  }
}
