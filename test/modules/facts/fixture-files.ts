/**
 * Parser fixtures: `NAME.KIND.txt` (real output, as the guides or lab VMs show it) next to `NAME.KIND.json`
 * (the facts expected from it). `UPDATE_FIXTURES=1` writes missing .json files for review; it never
 * overwrites one that exists.
 */
import { readdirSync, readFileSync, existsSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Fixture {
  name: string;
  kind: string;
  textPath: string;
  jsonPath: string;
}

export function listFixtures(dir: string): Fixture[] {
  if (!existsSync(dir)) return [];
  const out: Fixture[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      out.push(...listFixtures(full));
      continue;
    }
    const m = /^(.+)\.([a-z-]+)\.txt$/.exec(entry);
    if (!m) continue;
    out.push({ name: m[1]!, kind: m[2]!, textPath: full, jsonPath: full.replace(/\.txt$/, '.json') });
  }
  return out;
}

export function expectedFor(f: Fixture, actual: unknown): unknown {
  if (!existsSync(f.jsonPath)) {
    if (process.env.UPDATE_FIXTURES === '1') writeFileSync(f.jsonPath, JSON.stringify(actual, null, 2) + '\n');
    return undefined;
  }
  return JSON.parse(readFileSync(f.jsonPath, 'utf8'));
}
