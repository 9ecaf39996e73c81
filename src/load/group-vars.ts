/**
 * `group_vars/` and `host_vars/` beside an inventory source, found as Ansible's host_group_vars plugin finds
 * them: for NAME the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists; when that is a
 * directory, every file in it (recursively, sorted, skipping hidden files, `~` backups and other extensions),
 * merged in that order.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { ConfigError, type ConfigProblem, type SourcePosition } from '../core/config-error.js';
import { parseYaml } from './yaml.js';
import { byCodePoint, walkDirectory } from './directory-walk.js';
import { readInputFile } from './input-file.js';
import { kindOf } from './schema-errors.js';

/** Variables from one or more files, with where each was set. */
export interface VarsLayer {
  vars: Record<string, unknown>;
  origins: Record<string, SourcePosition>;
}

const extensions = ['.yml', '.yaml', '.json'];

export { byCodePoint };

/** The vars files of a directory (recursively; hidden files, `~` backups, other extensions and dotted directories left out). */
function filesInDir(dir: string, problems: ConfigProblem[]): string[] {
  const skip = (name: string, isDirectory: boolean) =>
    name.startsWith('.') ||
    name.endsWith('~') ||
    (isDirectory ? extname(name) !== '' : !['', ...extensions].includes(extname(name)));
  const found: string[] = [];
  for (const entry of walkDirectory(dir, skip)) {
    if ('problem' in entry) problems.push(entry.problem);
    else found.push(entry.file);
  }
  return found;
}

/** Names in a directory, or undefined when it is not a directory (cached: one readdir per directory per load). */
export type DirListing = (dir: string) => Set<string> | undefined;

export function createDirListing(): DirListing {
  const cache = new Map<string, Set<string> | undefined>();
  return (dir) => {
    if (!cache.has(dir)) {
      let names: Set<string> | undefined;
      try {
        names = statSync(dir).isDirectory() ? new Set(readdirSync(dir)) : undefined;
      } catch {
        names = undefined;
      }
      cache.set(dir, names);
    }
    return cache.get(dir);
  };
}

/** The files holding `name`'s variables under `dir` (e.g. inventory/group_vars), in merge order. */
export function varsFilesFor(
  dir: string,
  name: string,
  list: DirListing = createDirListing(),
  problems: ConfigProblem[] = [],
): string[] {
  const names = list(dir);
  if (name.startsWith('/') || !names) return [];
  for (const ext of ['', ...extensions]) {
    if (!names.has(name + ext)) continue;
    const candidate = join(dir, name + ext);
    return statSync(candidate).isDirectory() ? filesInDir(candidate, problems) : [candidate];
  }
  return [];
}

/** Read one vars file: a mapping (or empty). Problems are added to `problems`. */
export function readVarsFile(file: string, problems: ConfigProblem[]): VarsLayer {
  const layer: VarsLayer = { vars: Object.create(null), origins: Object.create(null) };
  let text: string;
  try {
    text = readInputFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems.map((p) => ({ position: { file, line: 1, column: 1 }, ...p })));
    return layer;
  }
  try {
    const doc = parseYaml(text, file, 'this vars file');
    if (doc.value === null || doc.value === undefined) return layer;
    if (typeof doc.value !== 'object' || Array.isArray(doc.value) || doc.value instanceof Date) {
      problems.push({
        position: doc.positionOf([]),
        message: `a vars file must hold a mapping of variable names to values, not ${kindOf(doc.value)}`,
        hint: 'write one `name: value` per line',
      });
      return layer;
    }
    for (const [key, value] of Object.entries(doc.value as Record<string, unknown>)) {
      layer.vars[key] = value;
      layer.origins[key] = doc.positionOf([key], 'key');
    }
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  return layer;
}

/** Merge layers in order: a later layer's variable replaces an earlier one (Ansible's hash_behaviour=replace). */
export function mergeLayers(layers: Iterable<VarsLayer>): VarsLayer {
  const vars = new Map<string, unknown>();
  const origins = new Map<string, SourcePosition>();
  for (const layer of layers) {
    for (const key of Object.keys(layer.vars)) {
      vars.set(key, layer.vars[key]);
      const origin = layer.origins[key];
      if (origin) origins.set(key, origin);
    }
  }
  // Plain objects (so callers may use them as any other), built safely even for a key named __proto__.
  return { vars: Object.fromEntries(vars), origins: Object.fromEntries(origins) };
}

/** Reads and caches vars files for one load (each file is read once, however many hosts use it). */
export function createVarsReader(
  problems: ConfigProblem[],
): (dir: string, kind: 'group_vars' | 'host_vars', name: string) => VarsLayer {
  const cache = new Map<string, VarsLayer>();
  const list = createDirListing();
  const found = new Map<string, VarsLayer>();
  return (dir, kind, name) => {
    const key = JSON.stringify([dir, kind, name]);
    const known = found.get(key);
    if (known) return known;
    const files = varsFilesFor(join(dir, kind), name, list, problems);
    const merged = mergeLayers(
      files.map((f) => {
        let layer = cache.get(f);
        if (!layer) cache.set(f, (layer = readVarsFile(f, problems)));
        return layer;
      }),
    );
    found.set(key, merged);
    return merged;
  };
}
