import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory } from '../../src/load/inventory.js';
import { loadPlaybook } from '../../src/load/playbook.js';
import { setVaultSecrets, vaultPlaintexts } from '../../src/load/vault.js';
import { readVaultSecrets } from '../../src/load/vault-passwords.js';
import { runSecrets } from '../../src/executor/run-secrets.js';
import { redactText } from '../../src/journal/redact.js';
import { main } from '../../src/cli/main.js';
import { LockedVault } from '../../src/core/locked-vault.js';
import { createScope } from '../../src/template/template.js';
import { resolveTargets } from '../../src/targets/resolve-target.js';
import { tempDir } from './support/ssh-fleet.js';
import { ensureBuilt, rollgate } from './support/cli.js';

// Files made by the real ansible-vault (Debian's ansible) in the test, read back by rollgate.
let dir: string;
const noPrompt = () => Promise.reject(new Error('no prompt expected'));

function vault(args: string[]): string {
  return execFileSync('ansible-vault', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function write(path: string, text: string): string {
  const full = join(dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, text);
  return full;
}

/** `ansible-vault encrypt_string` output as a YAML value, indented for `key: !vault |`. */
function inline(secret: string, ...idArgs: string[]): string {
  const out = vault(['encrypt_string', ...idArgs, secret]);
  return out.slice(out.indexOf('!vault'));
}

async function useVault(opts: { files?: string[]; ids?: string[] }): Promise<void> {
  setVaultSecrets(await readVaultSecrets({ passwordFiles: opts.files, vaultIds: opts.ids, prompt: noPrompt, env: {} }));
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'rollgate', ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

beforeAll(() => {
  dir = tempDir('vault-ansible');
  write('pw', 'correct horse battery\n');
  write('pw-prod', 'prod-pass\n');
  write('pw-dev', 'dev-pass\n');
  write('pw-wrong', 'nope\n');
  write('pw-script.sh', '#!/bin/sh\necho "correct horse battery"\n');
  chmodSync(join(dir, 'pw-script.sh'), 0o755);

  // Whole-file 1.1 in group_vars, 1.2 with two vault ids in host_vars, inline 1.1 and 1.2 values.
  write('inv/hosts.yml', 'all:\n  hosts:\n    hv1:\n      ansible_host: 127.0.0.1\n    hv2:\n');
  write('inv/group_vars/all/vault.yml', 'vault_db_password: s3cret-from-group-vars\nplain_number: 42\n');
  vault(['encrypt', '--vault-password-file', 'pw', 'inv/group_vars/all/vault.yml']);
  write('inv/host_vars/hv1.yml', 'ipmi_password: prod-ipmi-pass\n');
  vault(['encrypt', '--vault-id', 'prod@pw-prod', 'inv/host_vars/hv1.yml']);
  write('inv/host_vars/hv2.yml', 'ipmi_password: dev-ipmi-pass\n');
  vault(['encrypt', '--vault-id', 'dev@pw-dev', 'inv/host_vars/hv2.yml']);

  const inlineInv = [
    'all:',
    '  hosts:',
    '    hv3:',
    '      api_token: ' + inline('inline-token-value', '--vault-password-file', 'pw').replace(/\n/g, '\n  '),
    '  vars:',
    '    smtp_password: ' + inline('inline-prod-1.2', '--vault-id', 'prod@pw-prod').replace(/\n/g, '\n  '),
  ].join('\n');
  write('inline/hosts.yml', inlineInv + '\n');
  // No final line break: the block scalar ends the file (PyYAML then gives it no trailing newline).
  write(
    'inline/group_vars/all.yml',
    'gv_secret: ' + inline('inline-in-group-vars', '--vault-password-file', 'pw').trimEnd(),
  );
  // A whole encrypted INI inventory: a host variable and a group variable (no secret-looking names).
  write(
    'ini/hosts',
    '[hv]\nhv4 ansible_host=127.0.0.1 bmc_login=ini-host-secret\n\n[hv:vars]\nsite_key=ini-group-secret\n',
  );
  vault(['encrypt', '--vault-password-file', 'pw', 'ini/hosts']);
  write(
    'play.yml',
    '- hosts: all\n  vars:\n    play_secret: ' +
      inline('inline-in-playbook', '--vault-password-file', 'pw').replace(/\n/g, '\n    ') +
      '\n  tasks:\n    - command: /bin/true\n',
  );
});

describe('ansible-vault data made by the real ansible-vault', () => {
  it('reads a whole encrypted group_vars file (1.1)', async () => {
    await useVault({ files: [join(dir, 'pw')], ids: [`prod@${join(dir, 'pw-prod')}`, `dev@${join(dir, 'pw-dev')}`] });
    const inv = loadInventory(join(dir, 'inv/hosts.yml'));
    expect(inv.hosts.get('hv1')?.vars).toMatchObject({
      vault_db_password: 's3cret-from-group-vars',
      plain_number: 42,
      ipmi_password: 'prod-ipmi-pass',
    });
    expect(inv.hosts.get('hv2')?.vars.ipmi_password).toBe('dev-ipmi-pass');
  });

  it('reads 1.2 files with vault ids whatever order the passwords are given in', async () => {
    await useVault({ ids: [`dev@${join(dir, 'pw-dev')}`, `prod@${join(dir, 'pw-prod')}`, join(dir, 'pw')] });
    const inv = loadInventory(join(dir, 'inv/hosts.yml'));
    expect(inv.hosts.get('hv1')?.vars.ipmi_password).toBe('prod-ipmi-pass');
    expect(inv.hosts.get('hv2')?.vars.ipmi_password).toBe('dev-ipmi-pass');
  });

  it('reads inline !vault values in a YAML inventory, its group_vars and a playbook', async () => {
    await useVault({ files: [join(dir, 'pw')], ids: [`prod@${join(dir, 'pw-prod')}`] });
    const inv = loadInventory(join(dir, 'inline/hosts.yml'));
    expect(inv.hosts.get('hv3')?.vars).toMatchObject({
      api_token: 'inline-token-value',
      smtp_password: 'inline-prod-1.2',
      gv_secret: 'inline-in-group-vars',
    });
    expect(loadPlaybook(join(dir, 'play.yml')).plays[0]?.vars.play_secret).toBe('inline-in-playbook');
  });

  it('takes the password from an executable --vault-password-file script', async () => {
    await useVault({ files: [join(dir, 'pw-script.sh')], ids: [`prod@${join(dir, 'pw-prod')}`] });
    expect(loadInventory(join(dir, 'inline/hosts.yml')).hosts.get('hv3')?.vars.api_token).toBe('inline-token-value');
  });

  it('asks for the password with --ask-vault-pass (typed on standard input), as ansible-inventory does', async () => {
    ensureBuilt();
    const ids = ['--vault-id', `prod@${join(dir, 'pw-prod')}`, '--vault-id', `dev@${join(dir, 'pw-dev')}`];
    const run = await rollgate(
      ['inventory', '-i', join(dir, 'inv/hosts.yml'), '--list', '--ask-vault-pass', ...ids],
      {},
      'correct horse battery\n',
    );
    expect(run.stderr).toBe('Vault password: \n');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"vault_db_password": "s3cret-from-group-vars"');
  });

  it('registers every decrypted value with the run secrets, so the scrubber removes them', async () => {
    await useVault({ files: [join(dir, 'pw')], ids: [`prod@${join(dir, 'pw-prod')}`, `dev@${join(dir, 'pw-dev')}`] });
    const inv = loadInventory(join(dir, 'inv/hosts.yml'));
    expect(vaultPlaintexts()).toContain('s3cret-from-group-vars');
    const secrets = runSecrets({ inventory: inv, plays: [], extraVars: {} });
    // plain_number is under no secret-looking name: only the vault makes it a secret.
    expect(redactText('got prod-ipmi-pass and dev-ipmi-pass, s3cret-from-group-vars', secrets)).not.toMatch(
      /ipmi-pass|s3cret/,
    );
  });

  it('prints inline !vault values as ansible-inventory does: the vault data, never the plaintext', async () => {
    const args = [
      '-i',
      join(dir, 'inline/hosts.yml'),
      '--list',
      '--vault-password-file',
      join(dir, 'pw'),
      '--vault-id',
      `prod@${join(dir, 'pw-prod')}`,
    ];
    const ours = await cli(['inventory', ...args]);
    expect(ours.err).toBe('');
    expect(ours.out).not.toMatch(/inline-token-value|inline-prod-1\.2|inline-in-group-vars/);
    expect(ours.out).toContain('"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256');
    const theirs = execFileSync('ansible-inventory', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(JSON.parse(ours.out)).toEqual(JSON.parse(theirs));
  });

  it('registers the values of an encrypted INI inventory too, and prints its --list as ansible-inventory does', async () => {
    await useVault({ files: [join(dir, 'pw')] });
    const inv = loadInventory(join(dir, 'ini/hosts'));
    expect(vaultPlaintexts()).toEqual(expect.arrayContaining(['ini-host-secret', 'ini-group-secret']));
    const secrets = runSecrets({ inventory: inv, plays: [], extraVars: {} });
    expect(redactText('bmc ini-host-secret key ini-group-secret', secrets)).not.toMatch(/ini-(host|group)-secret/);
    const args = ['-i', join(dir, 'ini/hosts'), '--list', '--vault-password-file', join(dir, 'pw')];
    const ours = await cli(['inventory', ...args]);
    expect(ours.err).toBe('');
    const theirs = execFileSync('ansible-inventory', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(JSON.parse(ours.out)).toEqual(JSON.parse(theirs));
  });

  it('refuses a wrong password with a ConfigError naming the file, exit 2', async () => {
    const r = await cli([
      'inventory',
      '-i',
      join(dir, 'inv/hosts.yml'),
      '--list',
      '--vault-password-file',
      join(dir, 'pw-wrong'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${join(dir, 'inv/group_vars/all/vault.yml')}:1:1: this file is encrypted with ansible-vault and none of the vault passwords given (--vault-password-file ${join(dir, 'pw-wrong')}) decrypts it`,
    );
    expect(r.err).not.toContain('nope');
  });

  it('says which option to pass when no password is given for a whole encrypted file (ansible-inventory fails too)', async () => {
    const r = await cli(['inventory', '-i', join(dir, 'inv/hosts.yml'), '--list']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${join(dir, 'inv/group_vars/all/vault.yml')}:1:1: this file is encrypted with ansible-vault and no vault password was given. pass --vault-password-file FILE`,
    );
    expect(() =>
      execFileSync('ansible-inventory', ['-i', join(dir, 'inv/hosts.yml'), '--list'], { stdio: 'pipe' }),
    ).toThrow(/no vault secrets/);
  });

  it('lists inline !vault values without a password, or with a wrong one, as ansible-inventory does', async () => {
    for (const pw of [[], ['--vault-password-file', join(dir, 'pw-wrong')]]) {
      await useVault({ files: pw.slice(1) });
      const inv = loadInventory(join(dir, 'inline/hosts.yml'));
      expect(vaultPlaintexts()).toEqual([]);
      for (const mode of [['--list'], ['--host', 'hv3']]) {
        const args = ['-i', join(dir, 'inline/hosts.yml'), ...mode, ...pw];
        const ours = await cli(['inventory', ...args]);
        expect({ code: ours.code, err: ours.err }).toEqual({ code: 0, err: '' });
        expect(ours.out).not.toMatch(/inline-token-value|inline-prod-1\.2|inline-in-group-vars/);
        const theirs = execFileSync('ansible-inventory', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        expect(JSON.parse(ours.out)).toEqual(JSON.parse(theirs));
      }
      // Loaded, not opened: the value is its vault data, and using it is the vault's error at its file:line:col.
      const token = inv.hosts.get('hv3')?.vars.api_token;
      expect(token).toBeInstanceOf(LockedVault);
      const scope = createScope([{ kind: 'inventory', vars: inv.hosts.get('hv3')?.vars ?? {} }]);
      expect(() => scope.lookup('api_token')).toThrow(
        pw.length === 0
          ? /hosts\.yml:4:\d+: this !vault value is encrypted with ansible-vault and no vault password was given: pass --vault-password-file FILE/
          : /hosts\.yml:4:\d+: this !vault value is encrypted with ansible-vault and none of the vault passwords given \(--vault-password-file .*pw-wrong\) decrypts it/,
      );
      expect(JSON.stringify(token)).toBe(JSON.stringify({ __ansible_vault: (token as LockedVault).data }));
    }
  });

  it('a vaulted connection variable in a YAML inventory: listed without a password, refused when a target needs it', async () => {
    const user = inline('ops-vaulted', '--vault-password-file', 'pw').replace(/\n/g, '\n    ');
    const key = join(dir, 'conn-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const file = write(
      'conn/hosts.yml',
      `all:\n  hosts:\n    hv5:\n      ansible_host: 127.0.0.1\n      ansible_user: ${user}\n      ansible_ssh_private_key_file: ${key}\n`,
    );
    await useVault({});
    // The inventory schema cannot check a value it cannot read: loading and listing work, as in ansible-inventory.
    const inv = loadInventory(file);
    const ours = await cli(['inventory', '-i', file, '--list']);
    expect(ours.err).toBe('');
    const theirs = execFileSync('ansible-inventory', ['-i', file, '--list'], { encoding: 'utf8', stdio: 'pipe' });
    expect(JSON.parse(ours.out)).toEqual(JSON.parse(theirs));
    const host = inv.hosts.get('hv5');
    expect(host).toBeDefined();
    expect(() => resolveTargets([host!])).toThrow(
      `${file}:5:21: host \`hv5\`: ansible_user: this !vault value is encrypted with ansible-vault and no vault password was given`,
    );
    await useVault({ files: [join(dir, 'pw')] });
    expect(resolveTargets([loadInventory(file).hosts.get('hv5')!], { sshConfig: undefined })[0]?.user).toBe(
      'ops-vaulted',
    );
  });

  it('prints the same --list as ansible-inventory for whole encrypted files', async () => {
    const ids = ['--vault-id', `prod@${join(dir, 'pw-prod')}`, '--vault-id', `dev@${join(dir, 'pw-dev')}`];
    const args = ['-i', join(dir, 'inv/hosts.yml'), '--list', '--vault-password-file', join(dir, 'pw'), ...ids];
    const ours = await cli(['inventory', ...args]);
    expect(ours.err).toBe('');
    const theirs = execFileSync('ansible-inventory', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(JSON.parse(ours.out)).toEqual(JSON.parse(theirs));
  });
});
