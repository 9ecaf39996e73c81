/**
 * A command's time limit on the host itself, so it does not outlive its task. The command runs under coreutils
 * `timeout`, a second longer than the controller's limit: that kills its whole process group even when the
 * controller is gone. `timeout` makes that group its own, which a signal sent through the SSH channel does not
 * reach (sshd signals the session's group; sudo does not relay what that group's members sent). So the wrapper
 * also writes the group's id to a file named by a random token, and on a timeout the controller kills that group
 * through a second channel (killGroupCommand), as the same user.
 */
import { randomBytes } from 'node:crypto';
import { quote } from './shell-quote.js';

/** A fresh token naming one command's group file. */
export function newTimeoutToken(): string {
  return randomBytes(12).toString('hex');
}

// Unpredictable name (the token), so root writing it in /tmp follows no planted link.
const groupFile = (token: string) => quote(`/tmp/.rollgate-${token}.pgid`);

/**
 * `text` under `timeout -k 2 (limit + 1)`. With a token: started in the background with the original stdin,
 * its process group written to the token's file, and its exit status passed on (a command killed by signal N
 * shows as exit 128+N: a shell cannot tell that from a program exiting so).
 */
export function wrapTimeout(text: string, timeoutMs: number | undefined, token?: string): string {
  if (!timeoutMs) return text;
  const limited = `timeout -k 2 ${Math.ceil(timeoutMs / 1000) + 1} sh -c ${quote(text)}`;
  if (!token) return limited;
  const f = groupFile(token);
  // An asynchronous list reads /dev/null unless stdin is given explicitly: hand it the original through fd 3.
  return [
    `exec 3<&0; ${limited} <&3 3<&- & c=$!; echo "$c" > ${f}; exec 3<&-`,
    `wait "$c"; r=$?; rm -f ${f}; exit "$r"`,
  ].join('\n');
}

/** Kill the process group a timed-out command's wrapper recorded, and forget it. Safe to run when it is gone. */
export function killGroupCommand(token: string): string {
  const f = groupFile(token);
  return `if [ -f ${f} ]; then c=$(cat ${f}); rm -f ${f}; case "$c" in ''|*[!0-9]*) exit 0;; esac; kill -TERM -- "-$c" 2>/dev/null || kill -TERM "$c" 2>/dev/null; fi; true`;
}
