import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/load/inventory.js';

const fixtures = new URL('../fixtures/inventories/', import.meta.url).pathname;
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Write files into a fresh temp dir and return its path. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-inv-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('loadInventory', () => {
  it('merges variables with Ansible precedence: all < parent < child, files over inventory, host last', () => {
    const inv = loadInventory(join(fixtures, 'precedence-layers/hosts.yml'));
    expect(inv.hosts.get('h1')?.vars).toEqual({
      v1: 'all-file',
      v2: 'all-file',
      v3: 'all-file',
      v4: 'parent-file',
      v5: 'host-inv',
      v6: 'host-file',
    });
    expect(inv.hosts.get('h2')?.vars.v5).toBe('child-file');
  });

  it('lets a higher ansible_group_priority win among groups of equal depth, and keeps it out of vars', () => {
    const inv = loadInventory(join(fixtures, 'group-priority/hosts.yml'));
    expect(inv.hosts.get('h1')?.vars).toEqual({ who: 'alpha' });
    expect(inv.hosts.get('h2')?.vars).toEqual({ who: 'alpha' });
    expect(inv.hosts.get('h3')?.vars).toEqual({ who: 'gamma' });
    expect(inv.groups.get('alpha')?.priority).toBe(10);
  });

  it('records where each host is declared and where each effective variable was set', () => {
    const file = join(fixtures, 'precedence-layers/hosts.yml');
    const h1 = loadInventory(file).hosts.get('h1');
    expect(h1?.origin).toEqual({ file, line: 10, column: 13 });
    expect(h1?.varOrigins.v5).toEqual({ file, line: 10, column: 18 });
    expect(h1?.varOrigins.v6).toEqual({
      file: join(fixtures, 'precedence-layers/host_vars/h1.yml'),
      line: 1,
      column: 1,
    });
    expect(h1?.varOrigins.v4).toEqual({
      file: join(fixtures, 'precedence-layers/group_vars/parent.yml'),
      line: 1,
      column: 1,
    });
  });

  it('records INI positions of hosts and key=value tokens', () => {
    const file = join(fixtures, 'ini-basic/hosts.ini');
    const inv = loadInventory(file);
    expect(inv.hosts.get('web2.example')?.origin).toEqual({ file, line: 8, column: 1 });
    expect(inv.hosts.get('web2.example')?.varOrigins.http_port).toEqual({ file, line: 8, column: 37 });
    expect(inv.hosts.get('web1.example')?.varOrigins.http_port).toEqual({ file, line: 11, column: 1 });
  });

  it('lists every group of a host through its parents, without all', () => {
    const inv = loadInventory(join(fixtures, 'nested-depth/hosts.yml'));
    expect(inv.hosts.get('hv2.fra')?.groups).toEqual(['canary', 'dc_fra', 'gpu', 'rack_fra_1', 'region_eu']);
    expect(inv.groups.get('rack_fra_1')?.depth).toBe(3);
    expect(inv.groups.get('gpu')?.depth).toBe(2);
  });

  it('reads the first of NAME, NAME.yml, NAME.yaml, NAME.json and whole directories in group_vars', () => {
    const inv = loadInventory(join(fixtures, 'vars-files/hosts.yml'));
    expect(inv.hosts.get('web1')?.vars).toMatchObject({
      a: 1,
      b: 2,
      c: 3,
      d: 4,
      nested: 'deep',
      shared: 'web-nested',
      all_file: true,
      web1_var: 'x',
    });
    expect(inv.hosts.get('web1')?.vars).not.toHaveProperty('ignored');
    expect(inv.hosts.get('db1')?.vars).toMatchObject({ from_yml: 'host', host_a: 1, host_b: 2 });
    expect(inv.hosts.get('db1')?.vars).not.toHaveProperty('from_yaml');
    expect(inv.groups.get('web')?.vars).toMatchObject({ from_inventory: 'web', a: 1, shared: 'web-nested' });
  });

  it('reads several sources in order, the later overriding', () => {
    const dir = join(fixtures, 'multi-source');
    const inv = loadInventory([join(dir, 'site-a/hosts.ini'), join(dir, 'site-b/hosts.yml')]);
    expect(inv.hosts.get('hv1')?.vars).toMatchObject({ x: 2, site: 'b', gv_hv: 'from-b', only_a: 1 });
    expect(inv.groups.get('hv')?.hosts).toEqual(['hv1', 'hv2', 'hv3']);
  });

  it('reads a directory of inventories, skipping .ini and README files as Ansible does', () => {
    const inv = loadInventory(join(fixtures, 'directory-source/inventory'));
    expect([...inv.hosts.keys()]).toEqual(['web1', 'web2', 'web3', 'db1']);
    expect(inv.hosts.get('web3')?.vars).toEqual({ dir_all: 1, dir_web: 1 });
  });

  it('reads a comma-separated host list with ports', () => {
    const inv = loadInventory('a1,a2:2222,');
    expect(inv.groups.get('ungrouped')?.hosts).toEqual(['a1', 'a2']);
    expect(inv.hosts.get('a2')?.vars).toEqual({ ansible_port: 2222 });
  });

  it('treats a file without extension as YAML when it is a YAML mapping, else as INI', () => {
    const dir = join(fixtures, 'extensionless');
    const inv = loadInventory([join(dir, 'hosts'), join(dir, 'yaml-inventory')]);
    expect(inv.hosts.get('web1')?.vars).toEqual({ ansible_host: '10.0.0.1', tier: 'front' });
    expect(inv.hosts.get('db1')?.vars).toEqual({ tier: 'back' });
  });

  it('puts hosts that are only in all into ungrouped, after those listed there', () => {
    const dir = tree({ 'h.yml': 'all:\n  hosts:\n    a:\nungrouped:\n  hosts:\n    b:\n' });
    expect(loadInventory(join(dir, 'h.yml')).groups.get('ungrouped')?.hosts).toEqual(['b', 'a']);
  });

  it('keeps a port written on a host pattern only when the host is first declared', () => {
    const dir = tree({ 'h.ini': '[a]\nh1\n[b]\nh1:2222\nh2:2200\n' });
    const inv = loadInventory(join(dir, 'h.ini'));
    expect(inv.hosts.get('h1')?.vars).toEqual({});
    expect(inv.hosts.get('h2')?.vars).toEqual({ ansible_port: 2200 });
  });

  it('lets [group:children] name a group declared further down', () => {
    const dir = tree({ 'h.ini': '[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nx1\n' });
    const inv = loadInventory(join(dir, 'h.ini'));
    expect(inv.hosts.get('x1')?.groups).toEqual(['leaf', 'mid', 'top']);
    expect(inv.groups.get('all')?.children).toEqual(['ungrouped', 'top']);
  });

  it('refuses a group_vars file that is not a mapping, and a vault-encrypted one without a password, at their position', () => {
    const dir = tree({
      'h.yml': 'all:\n  children:\n    web:\n      hosts:\n        w1:\n',
      'group_vars/web.yml': '- a\n- b\n',
      'host_vars/w1': '$ANSIBLE_VAULT;1.1;AES256\n6162\n',
    });
    expect(() => loadInventory(join(dir, 'h.yml'))).toThrow(
      `${join(dir, 'group_vars/web.yml')}:1:1: a vars file must hold a mapping of variable names to values, not a list. write one \`name: value\` per line\n` +
        `${join(dir, 'host_vars/w1')}:1:1: this file is encrypted with ansible-vault and no vault password was given. pass --vault-password-file FILE, --vault-id [label@]FILE (or label@prompt), --ask-vault-pass, or set ANSIBLE_VAULT_PASSWORD_FILE`,
    );
  });

  it('names a missing source', () => {
    expect(() => loadInventory('/nonexistent/hosts.yml')).toThrow(
      'inventory source `/nonexistent/hosts.yml` does not exist. check the path given with -i',
    );
  });
});
