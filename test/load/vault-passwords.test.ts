import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVaultSecrets } from '../../src/load/vault-passwords.js';
import { ConfigError } from '../../src/core/config-error.js';

let dir: string;
const noPrompt = () => Promise.reject(new Error('no prompt expected'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rg-vaultpw-'));
  writeFileSync(join(dir, 'pw'), '  from-file \n');
  writeFileSync(join(dir, 'empty'), '\n');
  writeFileSync(join(dir, 'my-client'), '#!/bin/sh\n[ "$1" = --vault-id ] && echo "client-$2"\n');
  chmodSync(join(dir, 'my-client'), 0o755);
  writeFileSync(join(dir, 'fails.sh'), '#!/bin/sh\nexit 3\n');
  chmodSync(join(dir, 'fails.sh'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vault password sources', () => {
  it('reads --vault-id label@file, label@prompt, --ask-vault-pass and ANSIBLE_VAULT_PASSWORD_FILE, in that order', async () => {
    const asked: string[] = [];
    const secrets = await readVaultSecrets({
      vaultIds: [`prod@${join(dir, 'pw')}`, 'dev@prompt'],
      askVaultPass: true,
      env: { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'pw') },
      prompt: (q) => (asked.push(q), Promise.resolve(`typed-${asked.length}`)),
    });
    expect(secrets.map((s) => [s.id, s.password, s.source])).toEqual([
      ['prod', 'from-file', `--vault-id prod@${join(dir, 'pw')}`],
      ['dev', 'typed-1', '--vault-id dev@prompt'],
      ['default', 'from-file', `ANSIBLE_VAULT_PASSWORD_FILE ${join(dir, 'pw')}`],
      ['default', 'typed-2', '--ask-vault-pass'],
    ]);
    expect(asked).toEqual(['Vault password (dev): ', 'Vault password: ']);
  });

  it('asks a *-client script for the vault id it wants', async () => {
    const [s] = await readVaultSecrets({ vaultIds: [`prod@${join(dir, 'my-client')}`], prompt: noPrompt, env: {} });
    expect(s?.password).toBe('client-prod');
  });

  it.each([
    ['empty', /--vault-password-file .*empty: it holds no password/],
    ['fails.sh', /--vault-password-file .*fails\.sh: the password script failed \(exit 3\)/],
    ['missing', /--vault-password-file .*missing: cannot read it: ENOENT/],
  ])('refuses the password file %s with what went wrong', async (name, message) => {
    const err = await readVaultSecrets({ passwordFiles: [join(dir, name)], prompt: noPrompt, env: {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });
});
