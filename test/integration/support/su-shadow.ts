/**
 * A test's own /etc/shadow, for a fleet whose sshd runs in a private mount namespace with it laid over /etc
 * (`startSshdFleet({ etcFiles: { shadow } })`): a copy of the machine's file in which given users have known passwords
 * (SHA-512 crypt made by `openssl passwd -6`), so that a real su asks for a real root password without the
 * machine's /etc/shadow changing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `dir`/shadow: /etc/shadow with `passwords` (user -> password) set; returns its path. */
export function shadowWithPasswords(dir: string, passwords: Record<string, string>): string {
  const hash = (pw: string) =>
    execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: pw, encoding: 'utf8' }).trim();
  const lines = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .map((line) => {
      const fields = line.split(':');
      const pw = fields[0] === undefined ? undefined : passwords[fields[0]];
      if (pw === undefined || fields.length < 3) return line;
      fields[1] = hash(pw);
      return fields.join(':');
    });
  const source = join(dir, 'shadow');
  writeFileSync(source, lines.join('\n'), { mode: 0o600 });
  return source;
}
