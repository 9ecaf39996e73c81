/**
 * Which variables a template reads, found on nunjucks' syntax tree. A name is "required" when the template
 * reads it unguarded; it is "optional" when every read sits under `| default(...)` or `is defined` /
 * `is undefined` (as Ansible allows `x.y | default('')` for an undefined `x`). Names bound inside the template
 * (`{% for %}`, `{% set %}`) are neither. The renderer resolves both kinds alike: a name no layer defines becomes
 * an Undefined value, an error only where it is used (template-undefined.ts).
 */

/** The few fields of nunjucks nodes we walk (nunjucks publishes no types for its parser). */
export interface NjNode {
  typename: string;
  value?: unknown;
  children?: NjNode[];
  fields?: string[];
  [field: string]: unknown;
}

export interface TemplateNames {
  required: Set<string>;
  optional: Set<string>;
}

const guardingFilters = new Set(['default', 'd']);
const guardingTests = new Set(['defined', 'undefined', 'none']);

function isNode(v: unknown): v is NjNode {
  return typeof v === 'object' && v !== null && typeof (v as NjNode).typename === 'string';
}

function boundNames(node: NjNode, out: Set<string>): void {
  if (node.typename === 'Symbol' && typeof node.value === 'string') out.add(node.value);
  for (const c of node.children ?? []) boundNames(c, out);
}

/** Walk the tree; `guarded` is true under a default() first argument or the left side of `is defined`. */
function walk(node: unknown, guarded: boolean, names: TemplateNames, bound: Set<string>): void {
  // Some fields hold plain arrays of nodes (Compare.ops, Set.targets).
  if (Array.isArray(node)) {
    for (const n of node) walk(n, guarded, names, bound);
    return;
  }
  if (!isNode(node)) return;
  switch (node.typename) {
    case 'Symbol': {
      const name = node.value as string;
      if (!bound.has(name)) (guarded ? names.optional : names.required).add(name);
      return;
    }
    case 'Filter': {
      const filterName = (node.name as NjNode).value as string;
      const args = (node.args as NjNode).children ?? [];
      args.forEach((a, i) => walk(a, guarded || (i === 0 && guardingFilters.has(filterName)), names, bound));
      return;
    }
    case 'Is': {
      const right = node.right as NjNode;
      const testName = (right.typename === 'FunCall' ? (right.name as NjNode).value : right.value) as string;
      walk(node.left, guarded || guardingTests.has(testName), names, bound);
      if (right.typename === 'FunCall') walk(right.args, guarded, names, bound);
      return;
    }
    case 'For':
    case 'AsyncEach':
    case 'AsyncAll': {
      walk(node.arr, guarded, names, bound);
      boundNames(node.name as NjNode, bound);
      walk(node.body, guarded, names, bound);
      walk(node.else_, guarded, names, bound);
      return;
    }
    case 'Set': {
      for (const t of (node.targets as NjNode[]) ?? []) boundNames(t, bound);
      walk(node.value, guarded, names, bound);
      walk(node.body, guarded, names, bound);
      return;
    }
    case 'KeywordArgs':
    case 'Dict': {
      for (const pair of node.children ?? []) walk(pair.typename === 'Pair' ? pair.value : pair, guarded, names, bound);
      // Dict keys written as bare words are literals in Jinja: `{a: 1}` is invalid there, so we do not read them.
      return;
    }
    default:
      break;
  }
  for (const c of node.children ?? []) walk(c, guarded, names, bound);
  for (const f of node.fields ?? []) if (f !== 'children') walk(node[f], guarded, names, bound);
}

/** The names a parsed template reads, split into required and optional. */
export function templateNames(root: NjNode): TemplateNames {
  const names: TemplateNames = { required: new Set(), optional: new Set() };
  const bound = new Set<string>();
  walk(root, false, names, bound);
  for (const b of bound) {
    names.required.delete(b);
    names.optional.delete(b);
  }
  for (const r of names.required) names.optional.delete(r);
  return names;
}
