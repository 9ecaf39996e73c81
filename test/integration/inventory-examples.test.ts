/**
 * The example fleet in inventory/ is what a newcomer copies first, and what the README's commands name. It must
 * load in Ansible and in rollgate alike (YAML and INI forms, with group_vars/ and host_vars/), both forms must be
 * the same fleet, and every README command that names a file under inventory/ must run as written: `inventory`
 * commands as they are, `run` commands up to the point before any host is contacted (--list-hosts, since the
 * example's addresses are documentation addresses nobody may send traffic to).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rollgate } from './support/cli.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'rg-examples-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function ansibleInventory(source: string, mode: '--list' | '--graph'): Promise<string> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ANSIBLE_HOME: home,
    ANSIBLE_CONFIG: join(home, 'none.cfg'),
    LANG: 'C.UTF-8',
  };
  const { stdout, stderr } = await run('/usr/bin/ansible-inventory', ['-i', source, mode], {
    cwd: root,
    env,
    timeout: 60_000,
  });
  expect(stderr).not.toMatch(/Failed to parse|Unable to parse|No inventory was parsed|WARNING/);
  return stdout;
}

/** The shell lines of the README's ```sh blocks, comments cut, `npx ` dropped. */
function readmeCommands(): string[] {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const lines: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of (block[1] ?? '').split('\n')) {
      const line = raw
        .replace(/\s+#.*$/, '')
        .replace(/^npx\s+/, '')
        .trim();
      if (line !== '' && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}

describe('the example inventory', () => {
  for (const source of ['inventory/hosts.yml', 'inventory/hosts.ini']) {
    it(`${source}: rollgate inventory --list and --graph print what ansible-inventory prints`, async () => {
      ensureBuilt();
      const list = await rollgate(['inventory', '-i', source, '--list']);
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual(JSON.parse(await ansibleInventory(source, '--list')));
      const graph = await rollgate(['inventory', '-i', source, '--graph']);
      expect(graph.code).toBe(0);
      expect(graph.stdout).toBe(await ansibleInventory(source, '--graph'));
    }, 120_000);
  }

  it('the YAML and INI forms are the same fleet, with clusters, kinds and power drivers', async () => {
    ensureBuilt();
    const yml = JSON.parse((await rollgate(['inventory', '-i', 'inventory/hosts.yml', '--list'])).stdout);
    const ini = JSON.parse((await rollgate(['inventory', '-i', 'inventory/hosts.ini', '--list'])).stdout);
    expect(ini).toEqual(yml);
    const vars = yml._meta.hostvars as Record<string, Record<string, unknown>>;
    expect(Object.keys(vars).sort()).toEqual(['hv-01', 'hv-02', 'hv-03', 'hv-04', 'hv-05', 'hv-06', 'hv-07', 'hv-08']);
    expect(vars['hv-01']).toMatchObject({ rollgate_cluster: 'fra-a', rollgate_max_down: 1 });
    expect(vars['hv-01']?.rollgate_power).toMatchObject({ driver: 'ipmi', password_env: 'FRA_BMC_PASSWORD' });
    expect(vars['hv-07']?.rollgate_power).toMatchObject({ driver: 'redfish', password_env: 'FRA_BMC_PASSWORD' });
    expect(vars['hv-07']?.passthrough_devices).toEqual(['8086:1572']);
    expect(vars['hv-05']?.passthrough_devices).toEqual(['10de:1e87', '10de:10f8']);
    // Passwords are named, never written.
    expect(JSON.stringify(yml)).not.toMatch(/"password"\s*:/);
  });

  it('every file under inventory/ that the README names exists', () => {
    const text = readFileSync(join(root, 'README.md'), 'utf8');
    const named = [...new Set([...text.matchAll(/\binventory\/[\w./-]*[\w]/g)].map((m) => m[0]))];
    expect(named.length).toBeGreaterThan(0);
    // The lab's own inventory is lab/inventory.yml (written by `rollgate lab up`), outside inventory/: the example
    // fleet's group_vars there would apply to it (Ansible's adjacent group_vars) and point it at the wrong key.
    for (const path of named) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('every README command on inventory/hosts.yml runs as written (run: up to --list-hosts)', async () => {
    ensureBuilt();
    const commands = readmeCommands().filter((l) => /\binventory\/hosts\.(yml|ini)\b/.test(l));
    const runnable = commands.filter((l) => /^rollgate (inventory|run) /.test(l));
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    for (const line of runnable) {
      const args = line.split(/\s+/).slice(1);
      if (args[0] === 'run') args.push('--list-hosts');
      const r = await rollgate(args);
      expect({ line, code: r.code, stderr: r.stderr }).toEqual({ line, code: 0, stderr: '' });
      expect(r.stdout).toMatch(/hv-0[1-8]/);
    }
  }, 120_000);
});
