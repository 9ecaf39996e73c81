/**
 * The ansible-vault options, on the program so that every command that reads inventories, vars files or
 * playbooks takes them (before or after the command name): --vault-password-file, --vault-id, --ask-vault-pass,
 * and ANSIBLE_VAULT_PASSWORD_FILE. The passwords are read before the command's action runs.
 */
import { Option, type Command } from 'commander';
import { setVaultSecrets } from '../load/vault.js';
import { readVaultSecrets } from '../load/vault-passwords.js';
import { promptHidden } from './prompt.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addVaultOptions(program: Command): void {
  program
    .addOption(
      new Option('--vault-password-file <file>', 'ansible-vault password file, or a script printing it (repeatable)')
        .argParser(collect)
        .default(undefined),
    )
    .addOption(
      new Option('--vault-id <[id@]source>', 'vault id and its password file, or id@prompt (repeatable)').argParser(
        collect,
      ),
    )
    .option('-J, --ask-vault-pass', 'ask for the vault password')
    .hook('preAction', async (root) => {
      const o = root.opts<{ vaultPasswordFile?: string[]; vaultId?: string[]; askVaultPass?: boolean }>();
      setVaultSecrets(
        await readVaultSecrets({
          passwordFiles: o.vaultPasswordFile ?? [],
          vaultIds: o.vaultId ?? [],
          askVaultPass: o.askVaultPass === true,
          prompt: promptHidden,
        }),
      );
    });
}
