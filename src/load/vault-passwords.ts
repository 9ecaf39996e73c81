/**
 * Where vault passwords come from, as ansible-playbook takes them: `--vault-password-file FILE` (the file's text,
 * stripped; or, when the file is executable, what it prints, and a `*-client` script is asked `--vault-id ID`),
 * `--vault-id [ID@]FILE|prompt`, `--ask-vault-pass`, and ANSIBLE_VAULT_PASSWORD_FILE. A password never reaches a
 * message; the source does.
 */
import { basename } from 'node:path';
import { ConfigError } from '../core/config-error.js';
import { passwordFromFile } from '../core/password-file.js';
import type { VaultSecret } from './vault.js';

export interface VaultPasswordOptions {
  passwordFiles?: readonly string[];
  /** `--vault-id` values: `prod@file`, `prod@prompt`, `file`. */
  vaultIds?: readonly string[];
  askVaultPass?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Reads a password typed by the operator (no echo). */
  prompt: (question: string) => Promise<string>;
}

/** A vault password file (or script: a `*-client` one is asked `--vault-id ID`). */
function fromFile(file: string, id: string, option: string): Promise<string> {
  return passwordFromFile(file, option, /-client(\.[^/]*)?$/.test(basename(file)) ? ['--vault-id', id] : []);
}

export async function readVaultSecrets(o: VaultPasswordOptions): Promise<VaultSecret[]> {
  const out: VaultSecret[] = [];
  const env = o.env ?? process.env;
  for (const spec of o.vaultIds ?? []) {
    const at = spec.indexOf('@');
    const id = at > 0 ? spec.slice(0, at) : 'default';
    const source = at > 0 ? spec.slice(at + 1) : spec;
    if (source === 'prompt') {
      const password = await o.prompt(`Vault password (${id}): `);
      if (!password) throw new ConfigError([{ message: `no vault password typed for --vault-id ${spec}` }]);
      out.push({ id, password, source: `--vault-id ${id}@prompt` });
    } else out.push({ id, password: await fromFile(source, id, '--vault-id'), source: `--vault-id ${spec}` });
  }
  const files = [...(o.passwordFiles ?? [])];
  const envFile = env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (envFile && !files.includes(envFile)) files.push(envFile);
  for (const file of files) {
    const option =
      file === envFile && !(o.passwordFiles ?? []).includes(file)
        ? 'ANSIBLE_VAULT_PASSWORD_FILE'
        : '--vault-password-file';
    out.push({ id: 'default', password: await fromFile(file, 'default', option), source: `${option} ${file}` });
  }
  if (o.askVaultPass) {
    const password = await o.prompt('Vault password: ');
    if (!password) throw new ConfigError([{ message: 'no vault password typed for --ask-vault-pass' }]);
    out.push({ id: 'default', password, source: '--ask-vault-pass' });
  }
  return out;
}
