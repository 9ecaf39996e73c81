import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';

const run = promisify(execFile);

describe('schemas/snapshot.schema.json', () => {
  // Asynchronous, so a slow generator on a loaded machine never blocks the worker past vitest's RPC timeout.
  it('is in step with the HostSnapshot type, and the run schemas with theirs (npm run schema regenerates them)', async () => {
    await expect(run('node', ['scripts/gen-snapshot-schema.mjs', '--check'])).resolves.toBeDefined();
  }, 300_000);

  it('names no definition after where its type sits in the source, so reformatting src/ leaves it unchanged', () => {
    const schema = JSON.parse(readFileSync('schemas/snapshot.schema.json', 'utf8')) as {
      definitions: Record<string, unknown>;
    };
    expect(Object.keys(schema.definitions).filter((name) => /[0-9]{5,}/.test(name))).toEqual([]);
    expect(Object.keys(schema.definitions)).toContain('Known<PciDevice[]>');
  });
});
