/**
 * One `-i` source: a YAML or INI file, a directory of them (read in sorted order, as Ansible does, skipping
 * group_vars/, host_vars/, hidden files and non-inventory extensions), or a comma-separated host list.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { ConfigError } from '../core/config-error.js';
import { addHost, type InventoryDraft } from './inventory-data.js';
import { readIniInventory } from './inventory-ini.js';
import { readYamlInventory } from './inventory-yaml.js';
import { parseAddress } from './host-range.js';
import { parseYaml, type YamlDocument } from './yaml.js';
import { readInputFile } from './input-file.js';
import { rememberVaultValues, wasVaulted } from './vault.js';
import { walkDirectory } from './directory-walk.js';

const yamlExtensions = ['.yml', '.yaml', '.json'];
// Ansible's INVENTORY_IGNORE_EXTS and the names it always skips in an inventory directory.
const ignoredExtensions = [
  '.pyc',
  '.pyo',
  '.swp',
  '.bak',
  '~',
  '.rpm',
  '.md',
  '.txt',
  '.rst',
  '.orig',
  '.ini',
  '.cfg',
  '.retry',
];
const ignoredNames = /^(?:\..*|host_vars|group_vars|vars_plugins)$/;

/** The directory whose group_vars/ and host_vars/ apply to a source; undefined for a host list. */
export function varsDirOf(source: string): string | undefined {
  if (source.includes(',') && !existsSync(source)) return undefined;
  return existsSync(source) && statSync(source).isDirectory() ? source : dirname(source);
}

function readHostList(draft: InventoryDraft, source: string): void {
  let offset = 0;
  for (const part of source.split(',')) {
    const name = part.trim();
    const at = { file: `-i ${source}`, line: 1, column: offset + part.indexOf(name) + 1 };
    offset += part.length + 1;
    if (name === '') continue;
    const parsed = parseAddress(name);
    const host = parsed && !parsed.host.includes('[') ? parsed.host : name;
    addHost(draft, host, 'ungrouped', parsed?.port, at);
  }
}

function tryYaml(text: string, file: string): YamlDocument | undefined {
  try {
    return parseYaml(text, file, 'this inventory');
  } catch (err) {
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
}

function readFile(draft: InventoryDraft, file: string): void {
  let text: string;
  try {
    text = readInputFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    draft.problems.push(...err.problems.map((p) => ({ position: { file, line: 1, column: 1 }, ...p })));
    return;
  }
  const ext = extname(file);
  if (text.startsWith('#!') && (statSync(file).mode & 0o111) !== 0) {
    draft.problems.push({
      position: { file, line: 1, column: 1 },
      message: 'this is an executable inventory script; rollgate reads only static inventories',
      hint: 'run it once and save its output as a YAML inventory, or list the hosts in YAML or INI',
    });
    return;
  }
  if (yamlExtensions.includes(ext)) {
    try {
      readYamlInventory(draft, parseYaml(text, file, 'this inventory'));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      draft.problems.push(...err.problems);
    }
    return;
  }
  if (ext === '') {
    // Like Ansible: a file without extension is YAML when it reads as a YAML mapping, else INI.
    const doc = tryYaml(text, file);
    if (doc && doc.value !== null && typeof doc.value === 'object' && !Array.isArray(doc.value))
      return readYamlInventory(draft, doc);
  }
  readIniInventory(draft, text, file);
  // An encrypted INI inventory: every value it set is a secret of the run (parseYaml does this for YAML).
  if (wasVaulted(file))
    for (const owner of [...draft.groups.values(), ...draft.hosts.values()])
      for (const [k, v] of Object.entries(owner.vars)) if (owner.varOrigins[k]?.file === file) rememberVaultValues(v);
}

function readDirectory(draft: InventoryDraft, dir: string): void {
  const skip = (name: string) => ignoredNames.test(name) || ignoredExtensions.some((e) => name.endsWith(e));
  for (const entry of walkDirectory(dir, skip)) {
    if ('problem' in entry) draft.problems.push(entry.problem);
    else readFile(draft, entry.file);
  }
}

/** Read one source into the draft. */
export function readSource(draft: InventoryDraft, source: string): void {
  if (!existsSync(source)) {
    if (source.includes(',')) return readHostList(draft, source);
    draft.problems.push({
      message: `inventory source \`${source}\` does not exist`,
      hint: 'check the path given with -i (a list of hosts needs a comma: `-i host1,`)',
    });
    return;
  }
  if (statSync(source).isDirectory()) readDirectory(draft, source);
  else readFile(draft, source);
}
