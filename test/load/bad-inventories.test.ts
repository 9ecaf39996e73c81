/**
 * The bad-input corpus: every file in test/fixtures/bad-inventories/ must fail with exactly the message in its
 * NAME.expected: file:line:col, what is wrong and what to write instead. A `# limit: PATTERN` line also
 * selects hosts with that pattern; `# check: connection` also reads every host's connection variables;
 * `# check: desired` reads rollgate's desired-state variables (passthrough_devices, iommu_mode ...) as `rollgate check` does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config-error.js';
import { connectionVarsOf } from '../../src/targets/connection-vars.js';
import { desiredStatesOf } from '../../src/modules/findings/desired.js';
import { loadInventory } from '../../src/load/inventory.js';
import { selectHosts } from '../../src/load/limit.js';

const dir = new URL('../fixtures/bad-inventories/', import.meta.url).pathname;
const cases = readdirSync(dir)
  .filter((f) => !f.endsWith('.expected'))
  .sort();

/** Load the way a command would; the ConfigError message, or undefined when the input was accepted. */
function errorOf(file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  try {
    const inv = loadInventory(file);
    const limit = /^# limit: (.*)$/m.exec(text)?.[1];
    if (limit !== undefined) selectHosts(inv, limit);
    if (/^# check: connection$/m.test(text)) connectionVarsOf(inv.hosts.values());
    if (/^# check: desired$/m.test(text)) desiredStatesOf(inv.hosts.values());
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return undefined;
}

const cwd = process.cwd();
// Paths in messages are as given: relative to the corpus directory.
beforeAll(() => process.chdir(dir));
afterAll(() => process.chdir(cwd));

describe('bad inventories', () => {
  it('has at least fifteen cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)('%s fails with its expected message', (file) => {
    const expected = readFileSync(`${dir}${file}.expected`, 'utf8').trimEnd();
    expect(errorOf(file)).toBe(expected);
  });

  it.each(cases)('%s names file, line and column and says what to write', (file) => {
    for (const line of (errorOf(file) ?? '').split('\n')) expect(line).toMatch(/^[^:]+:\d+:[1-9]\d*: .+\. .+/);
  });
});
