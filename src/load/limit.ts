/**
 * Ansible host patterns (`--limit`, a play's `hosts:`), evaluated as ansible-core 2.14's InventoryManager does:
 * terms separated by `,` (or `:` when the whole is not one address); `all`/`*`; group or host names; shell
 * globs (`hv*`, fnmatch rules); `~regex`; `!term` excludes and `&term` intersects (applied after the plain
 * terms, whatever their order); `group[0]`, `group[-1]`, `group[1:3]` (inclusive) subscripts.
 * Unlike Ansible, which warns and carries on, a term that matches nothing is a ConfigError with a did-you-mean.
 */
import { RE2JS } from 're2js';
import { ConfigError, type ConfigProblem, type SourcePosition } from '../core/config-error.js';
import type { Inventory } from './inventory.js';
import { parseAddress } from './host-range.js';
import { closestName } from '../core/suggest.js';

interface Term {
  text: string;
  /** 0-based offset of the term in the pattern text. */
  offset: number;
}

/** Ansible's split_host_pattern, keeping where each term starts. */
export function splitPattern(pattern: string): Term[] {
  const raw: Term[] = [];
  if (pattern.includes(',')) {
    let offset = 0;
    for (const part of pattern.split(',')) {
      raw.push({ text: part, offset });
      offset += part.length + 1;
    }
  } else if (parseAddress(pattern)) raw.push({ text: pattern, offset: 0 });
  else for (const m of pattern.matchAll(/(?:[^\s:[\]]|\[[^\]]*\])+/gu)) raw.push({ text: m[0], offset: m.index ?? 0 });
  return raw
    .map((t) => ({ text: t.text.trim(), offset: t.offset + (t.text.length - t.text.trimStart().length) }))
    .filter((t) => t.text !== '');
}

/** Python's fnmatch.translate as a JavaScript RegExp (whole-name match). */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^(?:${globSource(glob)})$`, 'su');
}

/** The regular expression (without anchors) a glob stands for. */
function globSource(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', glob[i + 1] === '!' || glob[i + 1] === ']' ? i + 2 : i + 1);
      if (close < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return re;
}

const subscriptRe = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/su;

/** All hosts of a group: its own, then its children's, level by level (Ansible's Group.get_hosts). */
export function groupHosts(inv: Inventory, name: string): string[] {
  const order = [name];
  const seen = new Set(order);
  for (let i = 0; i < order.length; i++) {
    for (const child of inv.groups.get(order[i] ?? '')?.children ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        order.push(child);
      }
    }
  }
  return [...new Set(order.flatMap((g) => inv.groups.get(g)?.hosts ?? []))];
}

/** RE2 (linear time): a pattern such as `~(a+)+$` cannot make matching host names take exponential time. */
function matcher(expr: string): (name: string) => boolean {
  if (expr.startsWith('~')) {
    const re = RE2JS.compile(expr.slice(1));
    return (name) => re.matcher(name).lookingAt();
  }
  const re = RE2JS.compile(`^(?:${globSource(expr)})$`, RE2JS.DOTALL);
  return (name) => re.matches(name);
}

type Matched = { hosts: string[] } | { problem: Omit<ConfigProblem, 'position'> };

/** The hosts one term (without its ! or &) stands for (Ansible's _match_one_pattern). */
function matchTerm(inv: Inventory, term: string): Matched {
  if (inv.hosts.has(term)) return { hosts: [term] };
  let expr = term;
  let subscript: [number, number | undefined] | undefined;
  const m = term.startsWith('~') ? null : subscriptRe.exec(term);
  if (m) {
    expr = m[1] ?? term;
    subscript = m[2] !== undefined ? [Number(m[2]), undefined] : [Number(m[3]), m[5] ? Number(m[5]) : -1];
  }
  let test: (name: string) => boolean;
  try {
    test = matcher(expr);
  } catch (err) {
    return {
      problem: {
        message: `\`${expr}\` is not a valid regular expression: ${(err as Error).message}`,
        hint: 'fix the expression after `~` (RE2 syntax: no backreferences or lookaround)',
      },
    };
  }
  const groups = [...inv.groups.keys()].filter(test);
  let hosts = groups.flatMap((g) => groupHosts(inv, g));
  if (groups.length === 0 || expr.startsWith('~') || /[.?*[]/.test(expr))
    hosts.push(...[...inv.hosts.keys()].filter(test));
  hosts = [...new Set(hosts)];
  if (hosts.length === 0 && groups.length === 0) {
    const guess = /[?*[~]/.test(expr) ? undefined : closestName(expr, [...inv.groups.keys(), ...inv.hosts.keys()]);
    return {
      problem: {
        message: `no host or group matches \`${expr}\``,
        hint: guess ? `did you mean \`${guess}\`?` : 'see the names with `rollgate inventory -i INV --graph`',
      },
    };
  }
  if (!subscript || hosts.length === 0) return { hosts };
  const [start, end] = subscript;
  const from = start < 0 ? hosts.length + start : start;
  if (end) return { hosts: hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1) };
  const one = hosts[from];
  if (one === undefined)
    return {
      problem: {
        message: `\`${term}\` asks for host ${start}, but \`${expr}\` has ${hosts.length}`,
        hint: `subscripts count from 0: use [0] to [${hosts.length - 1}]`,
      },
    };
  return { hosts: [one] };
}

/**
 * Host names a pattern selects, in Ansible's order; all hosts when the pattern is empty or undefined.
 * `where` is where the pattern is written (default: the --limit option), for error positions.
 */
export function selectHosts(
  inv: Inventory,
  pattern?: string,
  where: SourcePosition = { file: '--limit', line: 1, column: 1 },
): string[] {
  const terms = splitPattern(pattern ?? '');
  const regular = terms.filter((t) => !t.text.startsWith('!') && !t.text.startsWith('&'));
  const ordered = [
    ...(regular.length > 0 ? regular : [{ text: 'all', offset: 0 }]),
    ...terms.filter((t) => t.text.startsWith('&')),
    ...terms.filter((t) => t.text.startsWith('!')),
  ];
  const problems: ConfigProblem[] = [];
  let selected: string[] = [];
  for (const t of ordered) {
    const op = t.text[0] === '!' || t.text[0] === '&' ? t.text[0] : '';
    const body = t.text.slice(op.length);
    const matched =
      body === ''
        ? { problem: { message: `\`${op}\` must be followed by a group or host`, hint: `write e.g. \`${op}web\`` } }
        : matchTerm(inv, body);
    if ('problem' in matched) {
      problems.push({ ...matched.problem, position: { ...where, column: where.column + t.offset + op.length } });
      continue;
    }
    const those = new Set(matched.hosts);
    if (op === '!') selected = selected.filter((h) => !those.has(h));
    else if (op === '&') selected = selected.filter((h) => those.has(h));
    else selected.push(...matched.hosts.filter((h) => !selected.includes(h)));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return selected;
}
