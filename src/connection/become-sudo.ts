/**
 * Become through sudo: `sudo -n` without a become password (a plain dialog: sudo never asks); with one,
 * `sudo -S -k` with a prompt unique to the command, the password written to its standard input only when that
 * prompt appears (never when sudo does not ask), and the command's own input held back until the command has
 * printed its start marker. A second prompt means a wrong password; no marker and a failure mean sudo refused (no
 * rights, requiretty): both are ConnectionError('become'), told apart by their messages.
 */
import { randomBytes } from 'node:crypto';
import { ConnectionError } from './connection.js';
import { dialogToken, execResult, plainDialog, type BecomeDialog } from './become-dialog.js';
import { quote } from './shell-quote.js';
import type { SshTarget } from './target.js';

/** Why sudo did not run the command, from its own words (its prompts taken out). */
function sudoRefusal(stderr: string, prompt: string): string {
  const line = stderr
    .split(prompt)
    .join('\n')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^sudo:|sudoers|not allowed|may not run/i.test(l));
  return line ?? (stderr.trim().split('\n')[0] || 'no message');
}

/** `text` run as the become user through sudo; `host` names the host in messages. */
export function sudoDialog(
  host: string,
  text: string,
  target: SshTarget,
  stdin: string | Buffer | undefined,
): BecomeDialog {
  const becomeUser = target.becomeUser ?? 'root';
  const asUser = becomeUser === 'root' ? '' : `-u ${quote(becomeUser)} `;
  const password = target.becomePassword;
  if (!password) return plainDialog(`sudo -n ${asUser}-- sh -c ${quote(text)}`, stdin, true);
  const token = dialogToken(randomBytes(9));
  const prompt = `[rollgate-sudo ${token}] `;
  const marker = Buffer.from(`rollgate-become-ok-${token}\n`);
  // -k: never a cached credential, so sudo asks every time the policy wants a password (and the password is sent
  // only then); NOPASSWD rules still run without asking.
  const command = `sudo -S -k -p ${quote(prompt)} ${asUser}-- sh -c ${quote(`echo rollgate-become-ok-${token}\n${text}`)}`;
  let out: Buffer[] = [];
  const err: Buffer[] = [];
  let started = false;
  let prompts = 0;
  return {
    command,
    sudoNonInteractive: false,
    start: () => undefined, // input waits for the start marker
    stdout(chunk, io) {
      out.push(chunk);
      if (started) return;
      const all = Buffer.concat(out);
      const at = all.indexOf(marker);
      if (at < 0) return;
      started = true;
      const rest = all.subarray(at + marker.length);
      out = rest.length ? [rest] : [];
      io.end(stdin);
    },
    stderr(chunk, io) {
      err.push(chunk);
      if (started) return;
      const seen = Buffer.concat(err).toString('utf8').split(prompt).length - 1;
      if (seen <= prompts) return;
      prompts = seen;
      if (prompts > 1)
        return io.fail(
          new ConnectionError(
            'become',
            `${host}: sudo did not accept the become password for user ${target.user} ` +
              `(${password.source}): it is wrong for this host`,
          ),
        );
      io.write(`${password.reveal()}\n`);
    },
    finish(exit, ms) {
      const stderr = Buffer.concat(err).toString('utf8');
      if (!started)
        return new ConnectionError(
          'become',
          `${host}: sudo refused to run the command as ${becomeUser} for user ${target.user} ` +
            `(${sudoRefusal(stderr, prompt)})`,
        );
      return execResult(Buffer.concat(out), stderr.split(prompt).join(''), exit, ms);
    },
  };
}
