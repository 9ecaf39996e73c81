/**
 * One command on one channel of an open connection: output collected, exit status or signal, per-command
 * timeout (its process group killed on the host: remote-timeout.ts), and privilege through a become dialog
 * (become-dialog.ts): directly or `sudo -n`, `sudo -S` with a password (become-sudo.ts), or su (become-su.ts).
 * A channel that closes without an exit status means the connection (or the session) died:
 * ConnectionError('dropped'), never a fake exit code.
 */
import type { Client, ClientChannel } from 'ssh2';
import { ConnectionError, type ExecOptions, type ExecResult } from './connection.js';
import { plainDialog, type BecomeDialog } from './become-dialog.js';
import { sudoDialog } from './become-sudo.js';
import { suDialog } from './become-su.js';
import { ShellFragment } from './shell-quote.js';
import type { SshTarget } from './target.js';
import { killGroupCommand, newTimeoutToken, wrapTimeout } from './remote-timeout.js';

/** The parts of SshConnection a command needs. */
export interface ExecHost {
  readonly host: string;
  readonly target: SshTarget;
  readonly dropReason: ConnectionError | undefined;
  sudoWorks: Promise<boolean> | undefined;
}

/** The dialog for `text`: as the login user, or as the become user through the host's become method. */
function dialogFor(host: ExecHost, text: string, become: boolean, stdin?: string | Buffer): BecomeDialog {
  const t = host.target;
  if (!become || t.user === (t.becomeUser ?? 'root')) return plainDialog(text, stdin, false);
  return t.becomeMethod === 'su' ? suDialog(host.host, text, t, stdin) : sudoDialog(host.host, text, t, stdin);
}

/**
 * Send a signal to the remote command's process group (sshd: killpg). ssh2 1.17's Channel.signal() is a silent
 * no-op once stdin got EOF (mscdex/ssh2 PR #1510), and we always send EOF, so send the request ourselves; the
 * channel is still open in the server's direction, which is all RFC 4254 asks.
 */
function sendSignal(stream: ClientChannel, name: 'TERM'): void {
  const inner = stream as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, sig: string): void } };
  };
  const protocol = inner._client?._protocol;
  if (inner.outgoing && (inner.outgoing.state === 'open' || inner.outgoing.state === 'eof') && protocol) {
    protocol.signal(inner.outgoing.id, name);
  } else {
    stream.signal(name);
  }
}

function runOnce(host: ExecHost, client: Client, dialog: BecomeDialog, options: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    client.exec(dialog.command, (err, stream) => {
      if (err)
        return reject(
          host.dropReason ?? new ConnectionError('dropped', `${host.host}: cannot open a channel (${err.message})`),
        );
      let exit: { code: number | null; signal?: string } | undefined;
      let timedOut = false;
      let failed: ConnectionError | undefined;
      const timer = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            // TERM reaches sudo and `timeout`, which pass it on; SIGKILL would orphan what they run.
            sendSignal(stream, 'TERM');
            stream.close();
            reject(
              new ConnectionError('timeout', `${host.host}: command did not finish within ${options.timeoutMs} ms`),
            );
          }, options.timeoutMs)
        : undefined;
      const io = {
        write: (data: string | Buffer) => void stream.write(data),
        end: (data?: string | Buffer) => void (data === undefined ? stream.end() : stream.end(data)),
        fail: (e: ConnectionError) => {
          failed ??= e;
          if (timer) clearTimeout(timer);
          sendSignal(stream, 'TERM'); // what waits on the host (sudo, su at its prompt) ends now, and cleans up
          stream.close();
        },
      };
      stream.on('data', (d: Buffer) => dialog.stdout(d, io));
      stream.stderr.on('data', (d: Buffer) => dialog.stderr(d, io));
      stream.on('exit', (code: number | null, signal?: string) => {
        exit = { code: typeof code === 'number' ? code : null, ...(signal ? { signal } : {}) };
      });
      stream.on('close', () => {
        if (timer) clearTimeout(timer);
        if (timedOut) return;
        if (failed) return reject(failed);
        if (!exit)
          return reject(
            host.dropReason ??
              new ConnectionError('dropped', `${host.host}: the command's channel closed without an exit status`),
          );
        const outcome = dialog.finish(exit, Date.now() - started);
        if (outcome instanceof ConnectionError) reject(outcome);
        else resolve(outcome);
      });
      dialog.start(io);
    });
  });
}

/** Whether `sudo -n` works for this login (asked once per connection, only after a become command failed). */
function sudoWorks(host: ExecHost, client: Client): Promise<boolean> {
  host.sudoWorks ??= runOnce(host, client, dialogFor(host, 'true', true), { timeoutMs: 15_000 }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  return host.sudoWorks;
}

/** After a timeout: kill the command's process group through a fresh channel, as the same user. Best effort. */
async function killTimedOut(host: ExecHost, client: Client, token: string, become: boolean): Promise<void> {
  await runOnce(host, client, dialogFor(host, killGroupCommand(token), become), { timeoutMs: 10_000 }).catch(
    () => undefined,
  );
}

export async function execOnChannel(
  host: ExecHost,
  client: Client,
  command: string | ShellFragment,
  options: ExecOptions,
): Promise<ExecResult> {
  const text = command instanceof ShellFragment ? command.text : command;
  const become = options.become ?? host.target.become;
  const token = options.timeoutMs ? newTimeoutToken() : undefined;
  const bounded = wrapTimeout(text, options.timeoutMs, token);
  const dialog = dialogFor(host, bounded, become, options.stdin);
  let result: ExecResult;
  try {
    result = await runOnce(host, client, dialog, options);
  } catch (err) {
    // The channel is closed, but the command may live on in its own process group: end it before reporting.
    if (token && err instanceof ConnectionError && err.kind === 'timeout' && !host.dropReason)
      await killTimedOut(host, client, token, become);
    throw err;
  }
  // sudo -n's own refusal and the command's failure share exit status 1: ask sudo alone to tell them apart (with a
  // password, the start marker already did; su's wrapper says so itself).
  if (dialog.sudoNonInteractive && result.exitCode !== 0 && !(await sudoWorks(host, client))) {
    const becomeUser = host.target.becomeUser ?? 'root';
    throw new ConnectionError(
      'become',
      `${host.host}: sudo -n refused to run the command as ${becomeUser} for user ${host.target.user} ` +
        `(${result.stderr.trim().split('\n')[0] || 'no message'}): it needs a password or the user may not sudo. ` +
        `Give the password (--ask-become-pass, --become-password-file, ansible_become_password), give ` +
        `${host.target.user} NOPASSWD in sudoers, or connect as ${becomeUser}`,
    );
  }
  return result;
}
