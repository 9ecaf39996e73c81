/**
 * A password from a file, as Ansible's CLI reads `--vault-password-file` and `--become-password-file`: an
 * executable file is run and what it prints is the password; any other file's text is. Surrounding whitespace
 * (the newline an editor adds) is stripped; an empty result is refused. The password never reaches a message;
 * the option and the file do. A script runs through zx, loaded on first use.
 */
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

/** What a password script prints (stdin closed, stderr kept from the terminal), or its exit code when it fails. */
async function runScript(
  file: string,
  args: readonly string[],
): Promise<{ stdout: string } | { failed: number | null }> {
  const { $ } = await import('zx');
  const out = await $({
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    nothrow: true,
    quiet: true,
  })`${file} ${args}`;
  return out.exitCode === 0 ? { stdout: out.stdout } : { failed: out.exitCode };
}

/** `option` names where the file came from in messages (`--become-password-file`); `args` go to a script. */
export async function passwordFromFile(file: string, option: string, args: readonly string[] = []): Promise<string> {
  const problem = (message: string, hint: string) =>
    new ConfigError([{ message: `${option} ${file}: ${message}`, hint }]);
  let password: string;
  if (isExecutable(file)) {
    const ran = await runScript(file, args);
    if ('failed' in ran) {
      // null: killed (the 60 s timeout or a signal); no exit code to show.
      throw problem(
        `the password script failed${ran.failed === null ? '' : ` (exit ${ran.failed})`}`,
        'run it by hand to see why; it must print the password on standard output',
      );
    }
    password = ran.stdout;
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
