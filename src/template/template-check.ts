/**
 * Load-time checks of templates and `when:` expressions, before any host is touched: syntax, unknown filters
 * and tests (with did-you-mean), and `{{ }}` where a bare expression belongs.
 */
import { knownFilters, knownTests, parseTemplate } from './template-env.js';
import type { NjNode } from './template-names.js';
import { didYouMean } from '../core/suggest.js';
import { blockedMembers } from './template-sandbox.js';

export interface TemplateProblem {
  message: string;
  hint?: string;
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/^\(unknown path\)(?: \[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^Error: /, '')
    .trim();
}

function* nodes(node: unknown): Generator<NjNode> {
  if (Array.isArray(node)) {
    for (const n of node) yield* nodes(n);
    return;
  }
  if (typeof node !== 'object' || node === null || typeof (node as NjNode).typename !== 'string') return;
  const n = node as NjNode;
  yield n;
  for (const c of n.children ?? []) yield* nodes(c);
  for (const f of n.fields ?? []) if (f !== 'children') yield* nodes(n[f]);
}

/** Unknown filter or test names used in a parsed template, or a member that leads out of the data. */
function unknownNames(root: NjNode): TemplateProblem | null {
  const filters = knownFilters();
  const tests = knownTests();
  for (const n of nodes(root)) {
    const member =
      n.typename === 'LookupVal' && (n.val as NjNode | undefined)?.typename === 'Literal'
        ? String((n.val as NjNode).value)
        : undefined;
    if (member !== undefined && blockedMembers.has(member)) {
      return {
        message: `templates cannot read \`${member}\``,
        hint: 'rollgate templates read data (keys of mappings, items of lists), not JavaScript objects',
      };
    }
    if (n.typename === 'Filter') {
      const name = (n.name as NjNode).value as string;
      if (!filters.includes(name))
        return {
          message: `unknown filter \`${name}\``,
          hint: didYouMean(name, filters) ?? 'see the filters listed in the README',
        };
    }
    if (n.typename === 'Is') {
      const right = n.right as NjNode;
      const name = (right.typename === 'FunCall' ? (right.name as NjNode).value : right.value) as string;
      if (!tests.includes(name))
        return {
          message: `unknown test \`${name}\``,
          hint: didYouMean(name, tests) ?? 'see the tests listed in the README',
        };
    }
  }
  return null;
}

function parse(text: string): { root: NjNode } | { problem: TemplateProblem } {
  try {
    const root = parseTemplate(text);
    return { root };
  } catch (err) {
    return { problem: { message: reason(err) } };
  }
}

/** Check a string that may hold `{{ }}` / `{% %}`; null when it is fine. */
export function checkTemplate(source: string): TemplateProblem | null {
  if (!/\{\{|\{%|\{#/.test(source)) return null;
  const parsed = parse(source);
  if ('problem' in parsed)
    return {
      message: `bad template \`${source}\`: ${parsed.problem.message}`,
      hint: 'close every `{{` with `}}` and check the expression inside',
    };
  return unknownNames(parsed.root);
}

/** Check a bare expression (`when:`, `changed_when:`, `assert.that`); `what` names the keyword in messages. */
export function checkExpression(source: string, what: string): TemplateProblem | null {
  if (/\{\{|\}\}|\{%|%\}/.test(source)) {
    const wrapped = /^\s*\{\{((?:(?!\{\{|\}\}|\{%|%\}).)*)\}\}\s*$/s.exec(source);
    const hint = wrapped
      ? `write \`${what}: ${wrapped[1]!.trim()}\` without {{ }}`
      : `write one expression without {{ }} or {% %}, e.g. \`${what}: x == "a"\``;
    return { message: `\`${what}\` takes a bare expression, not a template`, hint };
  }
  const parsed = parse(`{{ ${source} }}`);
  // The expression is parsed inside `{{ }}`: "unexpected token: }}" means it stops too early.
  if ('problem' in parsed)
    return {
      message: `bad \`${what}\` expression \`${source}\`: ${parsed.problem.message.replace(/^unexpected token: \}\}$/, 'it ends too early')}`,
      hint: 'write a Jinja expression such as `x == "a" and y | length > 0`',
    };
  const outputs = parsed.root.children ?? [];
  if (outputs.length !== 1 || (outputs[0]?.children ?? []).length !== 1) {
    return {
      message: `bad \`${what}\` expression \`${source}\`: it must be one expression`,
      hint: 'join conditions with `and` / `or`, or list them',
    };
  }
  return unknownNames(parsed.root);
}
