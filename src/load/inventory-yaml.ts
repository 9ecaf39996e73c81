/**
 * YAML inventories, read as Ansible 2.14's yaml plugin reads them: top-level keys are groups; a group has
 * `hosts` (host pattern -> vars), `children` (group name -> group) and `vars`. The document is first checked
 * against schemas/inventory.schema.json, so a misspelt key or a list where a mapping belongs is reported at
 * its file:line:col with a fix instead of being skipped with a warning as Ansible does.
 */
import type { ValidateFunction } from 'ajv';
import type { SourcePosition } from '../core/config-error.js';
import { addChild, addGroup, addHost, setGroupVar, setHostVar, type InventoryDraft } from './inventory-data.js';
import { expandHostPattern } from './host-range.js';
import { validateDocument } from './schema-errors.js';
import { schemaValidator } from './schema-validator.js';
import type { YamlDocument, YamlPath } from './yaml.js';

let validator: ValidateFunction | undefined;

/** The published inventory schema (schemas/inventory.schema.json), compiled once. */
export function inventoryValidator(): ValidateFunction {
  if (!validator) {
    validator = schemaValidator('inventory');
  }
  return validator;
}

type Mapping = Record<string, unknown>;

const isMapping = (v: unknown): v is Mapping =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);

/** Ansible lets `hosts: h1` and `children: g` stand for a mapping with that one key. */
function asMapping(v: unknown): Mapping {
  if (typeof v === 'string') return { [v]: null };
  return isMapping(v) ? v : {};
}

/** Read a parsed YAML inventory into the draft; problems are appended to draft.problems. */
export function readYamlInventory(draft: InventoryDraft, doc: YamlDocument): void {
  const at = (path: YamlPath, of: 'key' | 'value' = 'key'): SourcePosition => doc.positionOf(path, of);
  if (doc.value === null || doc.value === undefined) {
    draft.problems.push({
      position: at([]),
      message: 'the inventory is empty',
      hint: 'write at least `all:` with `hosts:` under it',
    });
    return;
  }
  const problems = validateDocument(inventoryValidator(), doc);
  if (isMapping(doc.value) && 'plugin' in doc.value) {
    draft.problems.push({
      position: at(['plugin']),
      message: 'this is an inventory plugin configuration, which rollgate does not run',
      hint: 'list the hosts in a static YAML or INI inventory',
    });
    return;
  }
  if (problems.length > 0) {
    draft.problems.push(...problems);
    return;
  }
  for (const [name, data] of Object.entries(doc.value as Mapping)) readGroup(draft, name, data, [name], at);
}

function readGroup(
  draft: InventoryDraft,
  name: string,
  data: unknown,
  path: YamlPath,
  at: (p: YamlPath, of?: 'key' | 'value') => SourcePosition,
): string {
  if (name === '') {
    draft.problems.push({ position: at(path), message: 'a group has an empty name', hint: 'give the group a name' });
    return name;
  }
  addGroup(draft, name, at(path));
  if (!isMapping(data)) return name;
  // Ansible processes a group's keys in the order they are written.
  for (const [key, section] of Object.entries(data)) {
    if (section === null || section === undefined) continue;
    if (key === 'vars') {
      for (const [k, v] of Object.entries(section as Mapping)) setGroupVar(draft, name, k, v, at([...path, 'vars', k]));
    } else if (key === 'children') {
      for (const [child, childData] of Object.entries(asMapping(section))) {
        readGroup(draft, child, childData, [...path, 'children', child], at);
        if (child !== '') addChild(draft, name, child, at([...path, 'children', child]));
      }
    } else if (key === 'hosts') {
      for (const [pattern, hostVars] of Object.entries(asMapping(section)))
        readHost(draft, name, pattern, hostVars, [...path, 'hosts', pattern], at);
    }
  }
  return name;
}

function readHost(
  draft: InventoryDraft,
  group: string,
  pattern: string,
  hostVars: unknown,
  path: YamlPath,
  at: (p: YamlPath, of?: 'key' | 'value') => SourcePosition,
): void {
  const where = at(path);
  if (pattern.trim() === '') {
    draft.problems.push({
      position: where,
      message: `group \`${group}\` has a host with an empty name`,
      hint: 'write the host name before the colon, e.g. `hv01.example:`',
    });
    return;
  }
  const expanded = expandHostPattern(pattern);
  if ('error' in expanded) {
    draft.problems.push({ position: where, message: expanded.error, hint: expanded.hint });
    return;
  }
  for (const host of expanded.names) {
    addHost(draft, host, group, expanded.port, where);
    for (const [k, v] of Object.entries(isMapping(hostVars) ? hostVars : {}))
      setHostVar(draft, host, k, v, at([...path, k]));
  }
}
