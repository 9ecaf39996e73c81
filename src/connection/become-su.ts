/**
 * Become through su (`ansible_become_method: su`). su reads its password from a terminal only, and a terminal
 * would mangle the command's bytes, so the terminal is given to su's password prompt alone:
 * - the login user's shell reads the command's text and then its input from the channel with `head -c N` into a
 *   private directory (`mktemp -d`, 0700), checking the counts;
 * - `script -qec` (util-linux) gives `su USER -c …` a terminal; its chatter (the prompt, "su: Authentication
 *   failure") goes to the channel's stderr, where the dialog answers the first prompt with the password (again,
 *   once, if the terminal echoed it: PAM then threw it away); the password never reaches a command line;
 * - the command runs as USER from open descriptors (`sh /dev/fd/3 <&4 >&5 2>&6`, so USER need not reach the
 *   directory), its exit status written to a fourth; afterwards the wrapper prints its output, its error output and
 *   exits with its status, and the directory is removed on every exit (a trap).
 * Markers with a per-command token on stderr say what happened: `ran`, or why not (no `script`, no su, no such
 * user, su refused). Wrong password, missing su or user and a refusal are distinct ConnectionError('become').
 */
import { randomBytes } from 'node:crypto';
import { ConnectionError } from './connection.js';
import { dialogToken, execResult, type BecomeDialog, type DialogIo } from './become-dialog.js';
import { quote } from './shell-quote.js';
import type { SshTarget } from './target.js';

/** How long after seeing the password echoed to send it again (PAM's flush is microseconds after its prompt). */
const RESEND_MS = 250;

/** What the command run as the become user does with the descriptors the wrapper opened for it. */
const INNER = `/bin/sh -c ${quote('sh /dev/fd/3 <&4 >&5 2>&6 4<&- 5>&- 6>&- 7>&-; echo $? >&7')}`;

/** The wrapper script run as the login user (as `sh -c`); `mark` is the per-command marker word. */
export function suWrapper(o: {
  mark: string;
  exe: string;
  flags: readonly string[];
  user: string;
  textBytes: number;
  stdinBytes: number;
}): string {
  const su = [o.exe, ...o.flags, o.user].map(quote).join(' ') + ` -c ${quote(INNER)}`;
  const fail = (why: string) => `{ say ${why}; exit 1; }`;
  const files = [
    `head -c ${o.textBytes} >"$d/p"`,
    `head -c ${o.stdinBytes} >"$d/i"`,
    `[ "$(wc -c <"$d/p")" -eq ${o.textBytes} ]`,
    `[ "$(wc -c <"$d/i")" -eq ${o.stdinBytes} ]`,
    `chmod 644 "$d/p"`,
    `: >"$d/o"`,
    `: >"$d/e"`,
    `: >"$d/r"`,
  ];
  return [
    'umask 077',
    `say() { printf '\\n%s %s\\n' ${quote(o.mark)} "$*" >&2; }`,
    `command -v script >/dev/null 2>&1 || ${fail('no-script')}`,
    `command -v ${quote(o.exe)} >/dev/null 2>&1 || ${fail('no-su')}`,
    `id -u ${quote(o.user)} >/dev/null 2>&1 || ${fail('no-user')}`,
    `d=$(mktemp -d 2>/dev/null) || ${fail('no-dir')}`,
    `trap 'rm -rf "$d"' EXIT`,
    // Caught (not ignored, which the command would inherit), so that the EXIT trap runs when the channel is gone.
    `trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM`,
    `${files.join(' && ')} || ${fail('no-input')}`,
    'say ask',
    `SHELL=/bin/sh script -qec ${quote(su)} /dev/null 3<"$d/p" 4<"$d/i" 5>"$d/o" 6>"$d/e" 7>"$d/r" >&2`,
    's=$?',
    `if [ -s "$d/r" ]; then say ran; cat "$d/o"; cat "$d/e" >&2; exit "$(cat "$d/r")"; fi`,
    'say refused "$s"; exit 1',
  ].join('\n');
}

/** The wrapper's markers in its stderr, in order, up to `ran` (after which the bytes are the command's). */
function markers(text: string, mark: string): Array<{ what: string; at: number; end: number }> {
  const found: Array<{ what: string; at: number; end: number }> = [];
  const re = new RegExp(`\\n${mark} ([a-z-]+)[^\\n]*\\n`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    found.push({ what: m[1] ?? '', at: m.index, end: m.index + m[0].length });
    if (m[1] === 'ran') break;
  }
  return found;
}

/** su's own words between the `ask` and `refused` markers: its message line, without the prompts. */
function suWords(chatter: string, exeName: string): string {
  const lines = chatter
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/[:：]$/.test(l));
  return lines.find((l) => l.startsWith(`${exeName}:`) || l.startsWith('su:')) ?? lines.at(-1) ?? 'no message';
}

/** `text` run as the become user through su; `host` names the host in messages. */
export function suDialog(
  host: string,
  text: string,
  target: SshTarget,
  stdin: string | Buffer | undefined,
): BecomeDialog {
  const user = target.becomeUser ?? 'root';
  const exe = target.becomeExe ?? 'su';
  const exeName = exe.split('/').at(-1) ?? exe;
  const mark = `rollgate-su-${dialogToken(randomBytes(9))}`;
  const input = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(stdin ?? '')]);
  const command = `sh -c ${quote(
    suWrapper({
      mark,
      exe,
      flags: target.becomeFlags ?? [],
      user,
      textBytes: Buffer.byteLength(text, 'utf8'),
      stdinBytes: input.length - Buffer.byteLength(text, 'utf8'),
    }),
  )}`;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let answered = -1; // length of stderr when the prompt was answered
  let echoed = 0; // copies of the password the terminal echoed back
  let over = false; // su is done (the wrapper said so, or the channel closed)
  const as = `${user} for user ${target.user}`;
  const becomeError = (why: string) => new ConnectionError('become', `${host}: ${why}`);

  /** su is talking (after `ask`, before `ran`): answer its first prompt, refuse a second. */
  const converse = (all: string, io: DialogIo) => {
    const found = markers(all, mark);
    const ask = found.find((f) => f.what === 'ask');
    over = found.length > 1;
    if (!ask || over) return;
    // PAM prints the prompt, then turns echo off and flushes the terminal's input (TCSAFLUSH): a copy of the
    // password that arrived in between was echoed (so it shows here) and thrown away. Send it again a moment later
    // (at most 3 times); the input stays open, since an EOF would reach su as an empty password.
    const pw = target.becomePassword?.reveal();
    const copies = pw && answered >= 0 ? all.slice(answered).split(pw).length - 1 : 0;
    if (copies > echoed && echoed < 3) {
      echoed = copies;
      setTimeout(() => over || io.write(`${pw}\n`), RESEND_MS).unref();
      return;
    }
    const since = all.slice(Math.max(ask.end, answered));
    const partial = (since.split('\n').at(-1) ?? '').replace(/\r/g, '');
    if (!/[:：]\s*$/.test(partial) || partial.trim().startsWith(`${exeName}:`)) return;
    if (answered >= 0 && !since.includes('\n')) return; // the prompt already answered, arriving in pieces
    if (!target.becomePassword)
      return io.fail(
        becomeError(
          `su asks for ${user}'s password and no become password was given. Give it (--ask-become-pass, ` +
            `--become-password-file, ansible_become_password) or connect as ${user}`,
        ),
      );
    if (answered >= 0)
      return io.fail(becomeError(`su asked a second time after the password was given (a new password?), as ${as}`));
    answered = all.length;
    io.write(`${target.becomePassword.reveal()}\n`);
  };

  return {
    command,
    sudoNonInteractive: false,
    start: (io) => io.write(input), // the wrapper reads exactly this many bytes; the password comes when asked
    stdout: (chunk) => void out.push(chunk),
    stderr(chunk, io) {
      err.push(chunk);
      converse(Buffer.concat(err).toString('utf8'), io);
    },
    finish(exit, ms) {
      over = true;
      const pw = target.becomePassword?.reveal();
      let all = Buffer.concat(err).toString('utf8');
      if (pw) all = all.split(pw).join(String(target.becomePassword)); // an echo of it, before su turned echo off
      const found = markers(all, mark);
      const last = found.at(-1);
      const ask = found.find((f) => f.what === 'ask');
      if (last?.what === 'ran') return execResult(Buffer.concat(out), all.slice(last.end), exit, ms);
      const words = ask && last ? suWords(all.slice(ask.end, last.at), exeName) : '';
      const source = target.becomePassword?.source ?? 'become password';
      switch (last?.what) {
        case 'no-script':
          return becomeError(
            `cannot become ${user} through su: no \`script\` (util-linux) on the host to give su a terminal for ` +
              `its password. Install util-linux (bsdutils on Debian) or use ansible_become_method: sudo`,
          );
        case 'no-su':
          return becomeError(`cannot become ${user} through su: no ${exe} on the host (ansible_become_exe)`);
        case 'no-user':
          return becomeError(`cannot become ${user} through su: there is no user ${user} on the host`);
        case 'no-dir':
        case 'no-input':
          return becomeError(
            `cannot become ${user} through su: the command could not be staged in a private directory ` +
              `(mktemp -d under $TMPDIR or /tmp, then head -c)`,
          );
        case 'refused':
          if (answered >= 0 && /authentication failure|incorrect password|sorry/i.test(words))
            return becomeError(
              `su did not accept the become password for ${user} (${source}): it is wrong for this host (${words})`,
            );
          return becomeError(
            answered >= 0
              ? `su refused to run the command as ${as} after the password was given (${words})`
              : `su refused to run the command as ${as} without asking for a password (${words})`,
          );
        default:
          return becomeError(
            `the su wrapper did not run as ${target.user} (${all.trim().split('\n')[0] || `exit ${exit.code}`})`,
          );
      }
    },
  };
}
