/**
 * A recorded host: one file per collection-script section (`NAME.txt` stdout, optional `NAME.err`, `NAME.rc`).
 * Tests load it, change a section to make one thing wrong, and assemble a snapshot from it.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SectionResult } from '../../../src/modules/facts/script.js';
import { assembleSnapshot, type AssembleMeta } from '../../../src/modules/facts/assemble.js';
import type { HostSnapshot } from '../../../src/modules/facts/snapshot.js';

export function loadSections(dir: string): Map<string, SectionResult> {
  const out = new Map<string, SectionResult>();
  for (const f of readdirSync(dir).sort()) {
    const m = /^(\w+)\.txt$/.exec(f);
    if (!m) continue;
    const name = m[1]!;
    const err = join(dir, `${name}.err`);
    const rc = join(dir, `${name}.rc`);
    out.set(name, {
      stdout: readFileSync(join(dir, f), 'utf8'),
      stderr: existsSync(err) ? readFileSync(err, 'utf8') : '',
      exitCode: existsSync(rc) ? Number(readFileSync(rc, 'utf8').trim()) : 0,
    });
  }
  return out;
}

export const fixedMeta = (over: Partial<AssembleMeta> = {}): AssembleMeta => ({
  host: 'hv01',
  collectedAt: '2026-02-04T10:30:00.000Z',
  durationMs: 812,
  sectionTimeoutSec: 30,
  profileSeconds: 0,
  passthroughIds: ['8086:10d3'],
  ...over,
});

/** Assemble a recorded host, with some sections replaced: a string is new stdout, an object a whole result. */
export function hostSnapshot(
  dir: string,
  changes: Record<string, string | Partial<SectionResult> | null> = {},
  meta: Partial<AssembleMeta> = {},
): HostSnapshot {
  const sections = loadSections(dir);
  for (const [name, change] of Object.entries(changes)) {
    if (change === null) sections.delete(name);
    else if (typeof change === 'string') sections.set(name, { stdout: change, stderr: '', exitCode: 0 });
    else sections.set(name, { stdout: '', stderr: '', exitCode: 0, ...change });
  }
  return assembleSnapshot(sections, fixedMeta(meta));
}

export const HEALTHY = 'test/fixtures/hosts/healthy-intel';
