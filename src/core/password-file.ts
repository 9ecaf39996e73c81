/**
 * A password from a file, as Ansible's CLI reads `--vault-password-file` and `--become-password-file`: an
 * executable file is run and what it prints is the password; any other file's text is. Surrounding whitespace
 * (the newline an editor adds) is stripped; an empty result is refused. The password never reaches a message;
 * the option and the file do.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { ConfigError } from './config-error.js';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `option` names where the file came from in messages (`--become-password-file`); `args` go to a script. */
export function passwordFromFile(file: string, option: string, args: readonly string[] = []): string {
  const problem = (message: string, hint: string) =>
    new ConfigError([{ message: `${option} ${file}: ${message}`, hint }]);
  let password: string;
  if (isExecutable(file)) {
    try {
      password = execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (err) {
      const status = (err as { status?: number }).status;
      throw problem(
        `the password script failed${status === undefined ? '' : ` (exit ${status})`}`,
        'run it by hand to see why; it must print the password on standard output',
      );
    }
  } else {
    try {
      password = readFileSync(file, 'utf8');
    } catch (err) {
      throw problem(`cannot read it: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'check the path');
    }
  }
  password = password.trim();
  if (!password) throw problem('it holds no password', 'write the password on the first line');
  return password;
}
