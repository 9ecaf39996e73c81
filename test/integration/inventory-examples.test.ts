/**
 * The example fleet in inventory/ is what a newcomer copies first, and what the README's commands name. It must
 * load in Ansible and in rollgate alike (YAML and INI forms, with group_vars/ and host_vars/), both forms must be
 * the same fleet, and every README command that names a file under inventory/ must run as written: `inventory`
 * commands as they are, `run` commands up to the point before any host is contacted (--list-hosts, since the
 * example's addresses are documentation addresses nobody may send traffic to). Its vault-encrypted secret
 * (group_vars/cluster_fra_b.yml) lists as ansible-inventory lists it, with the example vault password and
 * without: its vault data, never the plaintext.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rollgate } from './support/cli.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'rg-examples-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const vaultPw = ['--vault-password-file', 'inventory/vault-password.example.txt'];

async function ansibleInventory(source: string, mode: string[]): Promise<string> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ANSIBLE_HOME: home,
    ANSIBLE_CONFIG: join(home, 'none.cfg'),
    LANG: 'C.UTF-8',
  };
  const { stdout, stderr } = await run('/usr/bin/ansible-inventory', ['-i', source, ...mode], {
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

/** The vaulted secret of the example, as the real ansible-vault decrypts it with the example password. */
function vaultedPlaintext(): string {
  const text = readFileSync(join(root, 'inventory/group_vars/cluster_fra_b.yml'), 'utf8');
  const data = /^ansible_become_password: !vault \|\n((?: +.*\n?)+)/m.exec(text)?.[1];
  expect(data, 'the !vault value of group_vars/cluster_fra_b.yml').toBeDefined();
  const file = join(home, 'vaulted');
  writeFileSync(file, (data ?? '').replace(/^ +/gm, ''));
  return execFileSync('ansible-vault', ['decrypt', ...vaultPw, '--output', '-', file], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('the example inventory', () => {
  // The directory as one source too: Ansible skips the .ini and .txt files in it, and so must rollgate.
  for (const source of ['inventory/hosts.yml', 'inventory/hosts.ini', 'inventory/']) {
    it(`${source}: rollgate inventory --list, --host and --graph print what ansible-inventory prints, with the vault password and without`, async () => {
      ensureBuilt();
      const secret = vaultedPlaintext();
      expect(secret.length).toBeGreaterThan(8);
      for (const pw of [[], vaultPw]) {
        for (const mode of [['--list'], ['--host', 'hv-05'], ['--graph']]) {
          const ours = await rollgate(['inventory', '-i', source, ...mode, ...pw]);
          const what = [source, ...mode, ...pw].join(' ');
          expect({ what, code: ours.code, stderr: ours.stderr }).toEqual({ what, code: 0, stderr: '' });
          const theirs = await ansibleInventory(source, [...mode, ...pw]);
          if (mode[0] === '--graph') expect(ours.stdout, what).toBe(theirs);
          else expect(JSON.parse(ours.stdout), what).toEqual(JSON.parse(theirs));
          // Neither prints the plaintext: the vaulted value is its vault data, password or not.
          expect(ours.stdout.includes(secret), what).toBe(false);
          expect(theirs.includes(secret), what).toBe(false);
          if (mode[0] !== '--graph') expect(ours.stdout).toContain('"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\\n');
        }
      }
    }, 300_000);
  }

  it('every file under inventory/ is one the forms read (or the example vault password), each used', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
      );
    const all = files('inventory').sort();
    expect(all).toContain('inventory/group_vars/cluster_fra_b.yml');
    const top = all.filter((f) => !f.includes('_vars/'));
    expect(top).toEqual(['inventory/hosts.ini', 'inventory/hosts.yml', 'inventory/vault-password.example.txt']);
    const yml = readFileSync(join(root, 'inventory/hosts.yml'), 'utf8');
    // Every group_vars/host_vars file is named for a group or host of the fleet (a misspelt one is silently unread).
    for (const f of all.filter((p) => p.includes('_vars/'))) {
      const name = f.replace(/^.*\/|\.yml$/g, '');
      expect(name === 'all' || new RegExp(`^ +${name}:`, 'm').test(yml), f).toBe(true);
    }
  });

  it('the YAML and INI forms are the same fleet, with clusters, kinds and power drivers', async () => {
    ensureBuilt();
    const yml = JSON.parse((await rollgate(['inventory', '-i', 'inventory/hosts.yml', '--list'])).stdout);
    const ini = JSON.parse((await rollgate(['inventory', '-i', 'inventory/hosts.ini', '--list'])).stdout);
    expect(ini).toEqual(yml);
    const vars = yml._meta.hostvars as Record<string, Record<string, unknown>>;
    // Cluster B's sudo password is vaulted (its vault data, the same in both forms); cluster A has none.
    for (const h of ['hv-05', 'hv-06', 'hv-07', 'hv-08'])
      expect(vars[h]?.ansible_become_password, h).toEqual({
        __ansible_vault: expect.stringMatching(/^\$ANSIBLE_VAULT;1\.1;AES256\n/),
      });
    expect(vars['hv-01']).not.toHaveProperty('ansible_become_password');
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
    // The runs log in to cluster B, whose sudo password is vaulted: they name the example vault password file.
    for (const line of runnable.filter((l) => l.startsWith('rollgate run ')))
      expect(line).toContain('--vault-password-file inventory/vault-password.example.txt');
    for (const line of runnable) {
      const args = line.split(/\s+/).slice(1);
      if (args[0] === 'run') args.push('--list-hosts');
      const r = await rollgate(args);
      expect({ line, code: r.code, stderr: r.stderr }).toEqual({ line, code: 0, stderr: '' });
      expect(r.stdout).toMatch(/hv-0[1-8]/);
    }
  }, 120_000);
});
