/**
 * Parity with Ansible: for every inventory under test/fixtures/inventories/NAME/ (sources listed in
 * sources.txt, one -i per line), `rollgate inventory --list` must equal `ansible-inventory --list` from Debian's
 * ansible-core, and `--graph` must print the same lines. Needs /usr/bin/ansible-inventory (scripts/setup.sh).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/load/inventory.js';
import { ansibleJson, inventoryGraph, inventoryList } from '../../src/render/inventory-list.js';

const run = promisify(execFile);
const fixtures = new URL('../fixtures/inventories/', import.meta.url).pathname;
const names = readdirSync(fixtures).sort();
const home = mkdtempSync(join(tmpdir(), 'rg-parity-'));

function sourcesOf(name: string): string[] {
  return readFileSync(join(fixtures, name, 'sources.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

async function ansibleInventory(name: string, mode: '--list' | '--graph'): Promise<string> {
  const args = [...sourcesOf(name).flatMap((s) => ['-i', s]), mode];
  // A clean HOME and no config file, so nothing of the user's Ansible set-up leaks in.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ANSIBLE_HOME: home,
    ANSIBLE_CONFIG: join(home, 'none.cfg'),
    LANG: 'C.UTF-8',
  };
  const { stdout, stderr } = await run('/usr/bin/ansible-inventory', args, {
    cwd: join(fixtures, name),
    env,
    timeout: 60_000,
  });
  // A fixture Ansible cannot read would make the comparison meaningless.
  expect(stderr).not.toMatch(/Failed to parse|Unable to parse|No inventory was parsed/);
  return stdout;
}

function ours(name: string) {
  const cwd = process.cwd();
  process.chdir(join(fixtures, name));
  try {
    const inv = loadInventory(sourcesOf(name));
    return { list: ansibleJson(inventoryList(inv)), graph: inventoryGraph(inv).join('\n') + '\n' };
  } finally {
    process.chdir(cwd);
  }
}

const expected = new Map<string, { list: string; graph: string }>();

beforeAll(async () => {
  // Two at a time: each ansible-inventory run takes about a second of CPU on a shared machine.
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      expected.set(name, {
        list: await ansibleInventory(name, '--list'),
        graph: await ansibleInventory(name, '--graph'),
      });
    }
  };
  await Promise.all([worker(), worker()]);
}, 300_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('rollgate inventory matches ansible-inventory', () => {
  it('has at least ten fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(10);
  });

  it.each(names)('prints the same --list JSON for %s', (name) => {
    const theirs = expected.get(name);
    expect(theirs).toBeDefined();
    expect(JSON.parse(ours(name).list)).toEqual(JSON.parse(theirs?.list ?? 'null'));
  });

  it.each(names)('prints the same --graph for %s', (name) => {
    expect(ours(name).graph).toBe(expected.get(name)?.graph);
  });
});
