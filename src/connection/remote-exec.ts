/**
 * One command on one channel of an open connection: output collected, exit status or signal, per-command
 * timeout (its process group killed on the host: remote-timeout.ts), and privilege through sudo: `sudo -n`
 * without a become password; with one, `sudo -S -k` with a prompt unique to the command, the password written to
 * its standard input only when that prompt appears (never when sudo does not ask), and the command's own input
 * held back until the command has printed its start marker. A second prompt means a wrong password; no marker
 * and a failure mean sudo refused (no rights, requiretty): both are ConnectionError('become'), told apart. A
 * channel that closes without an exit status means the connection (or the session) died:
 * ConnectionError('dropped'), never a fake exit code.
 */
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { ConnectionError, type ExecOptions, type ExecResult } from './connection.js';
import { ShellFragment, quote } from './shell-quote.js';
import type { SshTarget } from './target.js';
import { killGroupCommand, newTimeoutToken, wrapTimeout } from './remote-timeout.js';

/** The parts of SshConnection a command needs. */
export interface ExecHost {
  readonly host: string;
  readonly target: SshTarget;
  readonly dropReason: ConnectionError | undefined;
  sudoWorks: Promise<boolean> | undefined;
}

/** How sudo is given its password for one command: its prompt, the command's start marker, the password. */
interface SudoPassword {
  prompt: string;
  marker: string;
  value: string;
}

/** The command line sent for `text`, and the sudo password exchange when there is one. */
export interface Wrapped {
  command: string;
  sudo?: SudoPassword;
}

/** `text` wrapped in sudo when become applies (login user is not the become user). */
export function wrapBecome(text: string, target: SshTarget, become: boolean): Wrapped {
  const becomeUser = target.becomeUser ?? 'root';
  if (!become || target.user === becomeUser) return { command: text };
  const asUser = becomeUser === 'root' ? '' : `-u ${quote(becomeUser)} `;
  if (!target.becomePassword) return { command: `sudo -n ${asUser}-- sh -c ${quote(text)}` };
  const token = randomBytes(9)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x');
  const sudo = { prompt: `[rollgate-sudo ${token}] `, marker: `rollgate-become-ok-${token}`, value: '' };
  // -k: never a cached credential, so sudo asks every time the policy wants a password (and the password is sent
  // only then); NOPASSWD rules still run without asking.
  const command = `sudo -S -k -p ${quote(sudo.prompt)} ${asUser}-- sh -c ${quote(`echo ${sudo.marker}\n${text}`)}`;
  Object.defineProperty(sudo, 'value', { value: target.becomePassword.reveal(), enumerable: false });
  return { command, sudo };
}

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

function runOnce(host: ExecHost, client: Client, wrapped: Wrapped, options: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  const sudo = wrapped.sudo;
  return new Promise((resolve, reject) => {
    client.exec(wrapped.command, (err, stream) => {
      if (err)
        return reject(
          host.dropReason ?? new ConnectionError('dropped', `${host.host}: cannot open a channel (${err.message})`),
        );
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let exit: { code: number | null; signal?: string } | undefined;
      let timedOut = false;
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
      const sendInput = () => {
        if (options.stdin !== undefined) stream.end(options.stdin);
        else stream.end();
      };
      // The sudo password exchange: stderr watched for the prompt, stdout for the command's start marker.
      let commandStarted = !sudo;
      let prompts = 0;
      let failedBecome: ConnectionError | undefined;
      const becomeFailed = (e: ConnectionError) => {
        failedBecome = e;
        if (timer) clearTimeout(timer);
        stream.close();
      };
      stream.on('data', (d: Buffer) => {
        out.push(d);
        if (commandStarted || !sudo) return;
        const all = Buffer.concat(out);
        const line = `${sudo.marker}\n`;
        const at = all.indexOf(line);
        if (at < 0) return;
        commandStarted = true;
        out.length = 0;
        const rest = all.subarray(at + Buffer.byteLength(line));
        if (rest.length) out.push(rest);
        sendInput();
      });
      stream.stderr.on('data', (d: Buffer) => {
        errOut.push(d);
        if (commandStarted || !sudo) return;
        const text = Buffer.concat(errOut).toString('utf8');
        const seen = text.split(sudo.prompt).length - 1;
        if (seen <= prompts) return;
        prompts = seen;
        if (prompts > 1)
          return becomeFailed(
            new ConnectionError(
              'become',
              `${host.host}: sudo did not accept the become password for user ${host.target.user} ` +
                `(${host.target.becomePassword?.source ?? 'become password'}): it is wrong for this host`,
            ),
          );
        stream.write(`${sudo.value}\n`);
      });
      stream.on('exit', (code: number | null, signal?: string) => {
        exit = { code: typeof code === 'number' ? code : null, ...(signal ? { signal } : {}) };
      });
      stream.on('close', () => {
        if (timer) clearTimeout(timer);
        if (timedOut) return;
        if (failedBecome) return reject(failedBecome);
        if (sudo && !commandStarted && exit) {
          const becomeUser = host.target.becomeUser ?? 'root';
          return reject(
            new ConnectionError(
              'become',
              `${host.host}: sudo refused to run the command as ${becomeUser} for user ${host.target.user} ` +
                `(${sudoRefusal(Buffer.concat(errOut).toString('utf8'), sudo.prompt)})`,
            ),
          );
        }
        if (!exit) {
          return reject(
            host.dropReason ??
              new ConnectionError('dropped', `${host.host}: the command's channel closed without an exit status`),
          );
        }
        const stderr = Buffer.concat(errOut).toString('utf8');
        const result: ExecResult = {
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: sudo ? stderr.split(sudo.prompt).join('') : stderr,
          exitCode: exit.code,
          durationMs: Date.now() - started,
        };
        if (exit.signal) result.signal = exit.signal;
        resolve(result);
      });
      if (!sudo) sendInput();
    });
  });
}

/** Whether `sudo -n` works for this login (asked once per connection, only after a become command failed). */
function sudoWorks(host: ExecHost, client: Client): Promise<boolean> {
  host.sudoWorks ??= runOnce(host, client, wrapBecome('true', host.target, true), { timeoutMs: 15_000 }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  return host.sudoWorks;
}

/** After a timeout: kill the command's process group through a fresh channel, as the same user. Best effort. */
async function killTimedOut(host: ExecHost, client: Client, token: string, become: boolean): Promise<void> {
  await runOnce(host, client, wrapBecome(killGroupCommand(token), host.target, become), { timeoutMs: 10_000 }).catch(
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
  const wrapped = wrapBecome(bounded, host.target, become);
  let result: ExecResult;
  try {
    result = await runOnce(host, client, wrapped, options);
  } catch (err) {
    // The channel is closed, but the command may live on in its own process group: end it before reporting.
    if (token && err instanceof ConnectionError && err.kind === 'timeout' && !host.dropReason)
      await killTimedOut(host, client, token, become);
    throw err;
  }
  // sudo -n's own refusal and the command's failure share exit status 1: ask sudo alone to tell them apart (with a
  // password, the start marker already did).
  if (wrapped.command !== bounded && !wrapped.sudo && result.exitCode !== 0 && !(await sudoWorks(host, client))) {
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
