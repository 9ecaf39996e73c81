import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('schemas/snapshot.schema.json', () => {
  it('is in step with the HostSnapshot type (npm run schema regenerates it)', () => {
    expect(() => execFileSync('node', ['scripts/gen-snapshot-schema.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  }, 60_000);
});
