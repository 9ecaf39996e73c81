import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

describe('schemas/snapshot.schema.json', () => {
  it('is in step with the HostSnapshot type (npm run schema regenerates it)', () => {
    expect(() => execFileSync('node', ['scripts/gen-snapshot-schema.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  }, 60_000);

  it('names no definition after where its type sits in the source, so reformatting src/ leaves it unchanged', () => {
    const schema = JSON.parse(readFileSync('schemas/snapshot.schema.json', 'utf8')) as {
      definitions: Record<string, unknown>;
    };
    expect(Object.keys(schema.definitions).filter((name) => /[0-9]{5,}/.test(name))).toEqual([]);
    expect(Object.keys(schema.definitions)).toContain('Known<PciDevice[]>');
  });
});
