/**
 * The one wrapper around ssh2: one connection per host, commands on channels of it, strict host keys.
 */
import { readFileSync, appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { ConnectionError, type Connection, type ExecOptions, type ExecResult } from './connection.js';
import { findKnownKeys, formatKnownHostsLine, knownHostsName, verifyHostKey, type KnownHostKey } from './known-hosts.js';
import { ShellFragment, quote } from './shell-quote.js';
import type { SshTarget } from './target.js';

function parseKeyBlob(blob: Buffer): { type: string; key: string } {
  const len = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + len).toString('ascii'), key: blob.toString('base64') };
}

function readKnown(target: SshTarget, name: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  for (const file of target.knownHostsFiles) {
    if (!existsSync(file)) continue;
    keys.push(...findKnownKeys(readFileSync(file, 'utf8'), name));
  }
  return keys;
}

export class SshConnection implements Connection {
  readonly host: string;
  private client: Client | undefined;
  private closed = false;
  private dropped: ConnectionError | undefined;

  private constructor(private readonly target: SshTarget) {
    this.host = target.name;
  }

  /** Open a connection, verifying the host key before any credential is sent. */
  static async open(target: SshTarget): Promise<SshConnection> {
    const conn = new SshConnection(target);
    await conn.connect();
    return conn;
  }

  private async connect(): Promise<void> {
    const t = this.target;
    let sock: ConnectConfig['sock'];
    let jump: SshConnection | undefined;
    if (t.proxyJump) {
      jump = await SshConnection.open(t.proxyJump);
      sock = await jump.forward(t.address, t.port);
    }
    const client = new Client();
    this.client = client;
    let hostKeyProblem: ConnectionError | undefined;
    const name = knownHostsName(t.address, t.port);
    const privateKeys = t.identityFiles.map((file) => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new ConnectionError('auth', `${t.name}: cannot read identity file ${file}: ${(err as Error).message}`);
      }
    });
    const agent = t.agentSocket ?? process.env.SSH_AUTH_SOCK;
    const authMethods: string[] = [];
    // ssh2 tries one privateKey; several identity files are tried via authHandler.
    const handlerQueue: Array<Record<string, unknown>> = [];
    if (agent) handlerQueue.push({ type: 'agent', username: t.user, agent });
    for (const key of privateKeys) handlerQueue.push({ type: 'publickey', username: t.user, key });
    handlerQueue.forEach((h) => authMethods.push(String(h.type)));

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: ConnectionError) => {
        if (settled) return;
        settled = true;
        client.end();
        jump?.close();
        reject(err);
      };
      client.on('ready', () => {
        settled = true;
        resolve();
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (hostKeyProblem) return fail(hostKeyProblem);
        if (!settled) {
          if (err.level === 'client-authentication') {
            return fail(new ConnectionError('auth', `${t.name}: authentication failed for ${t.user} (tried: ${authMethods.join(', ') || 'nothing'})`));
          }
          if (err.level === 'client-timeout' || /Timed out while waiting for handshake/.test(err.message)) {
            return fail(new ConnectionError('timeout', `${t.name}: no SSH handshake within ${t.connectTimeoutMs ?? 15000} ms`));
          }
          return fail(new ConnectionError('unreachable', `${t.name}: cannot connect to ${t.address}:${t.port}: ${err.message}`));
        }
        this.dropped = new ConnectionError('dropped', `${t.name}: connection lost: ${err.message}`);
      });
      client.on('close', () => {
        if (!settled) fail(hostKeyProblem ?? new ConnectionError('dropped', `${t.name}: connection closed during handshake`));
        else if (!this.closed) this.dropped ??= new ConnectionError('dropped', `${t.name}: connection closed by remote`);
        jump?.close();
      });
      client.connect({
        host: t.address,
        port: t.port,
        username: t.user,
        sock,
        readyTimeout: t.connectTimeoutMs ?? 15000,
        keepaliveInterval: t.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: 3,
        authHandler: (_methodsLeft, _partial, next) => {
          const h = handlerQueue.shift();
          next((h ?? false) as never);
        },
        hostVerifier: (keyBlob: Buffer) => {
          const presented = parseKeyBlob(keyBlob);
          const verdict = verifyHostKey(readKnown(t, name), presented);
          switch (verdict.status) {
            case 'match':
              return true;
            case 'unknown':
              if (t.hostKeyPolicy === 'accept-new' && t.knownHostsFiles[0]) {
                const file = t.knownHostsFiles[0];
                mkdirSync(dirname(file), { recursive: true });
                appendFileSync(file, formatKnownHostsLine(name, presented.type, presented.key));
                return true;
              }
              hostKeyProblem = new ConnectionError(
                'host_key',
                `${t.name}: host key for ${name} is not known (${presented.type}); add it to ${t.knownHostsFiles.join(' or ') || '~/.ssh/known_hosts'} (ssh-keyscan -p ${t.port} ${t.address}) or run with --accept-new-host-keys`,
              );
              return false;
            case 'revoked':
              hostKeyProblem = new ConnectionError('host_key', `${t.name}: host key for ${name} is marked @revoked (line ${verdict.line})`);
              return false;
            case 'changed':
              hostKeyProblem = new ConnectionError(
                'host_key',
                `${t.name}: HOST KEY CHANGED for ${name}: the ${presented.type} key offered does not match known_hosts line(s) ${verdict.lines.join(', ')}; refusing to connect (possible man-in-the-middle). If the host was reinstalled, remove the old entry with ssh-keygen -R '${name}'`,
              );
              return false;
          }
        },
      });
    });
  }

  /** A TCP stream to host:port through this connection (used for ProxyJump). */
  private forward(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client!.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) reject(new ConnectionError('unreachable', `${this.host}: cannot reach ${host}:${port} through the jump host: ${err.message}`));
        else resolve(stream);
      });
    });
  }

  exec(command: string | ShellFragment, options: ExecOptions = {}): Promise<ExecResult> {
    const client = this.client;
    if (this.dropped) return Promise.reject(this.dropped);
    if (!client || this.closed) return Promise.reject(new ConnectionError('dropped', `${this.host}: connection is closed`));
    let text = command instanceof ShellFragment ? command.text : command;
    const become = options.become ?? this.target.become;
    if (become && this.target.user !== 'root') text = `sudo -n -- sh -c ${quote(text)}`;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      client.exec(text, (err, stream) => {
        if (err) return reject(new ConnectionError('dropped', `${this.host}: cannot open a channel: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let exitCode: number | null = null;
        let signal: string | undefined;
        let gotExit = false;
        let timer: NodeJS.Timeout | undefined;
        if (options.timeoutMs) {
          timer = setTimeout(() => {
            stream.close();
            reject(new ConnectionError('timeout', `${this.host}: command did not finish within ${options.timeoutMs} ms`));
          }, options.timeoutMs);
        }
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('exit', (code: number | null, sig?: string) => {
          gotExit = true;
          exitCode = code;
          signal = sig ?? undefined;
        });
        stream.on('close', () => {
          if (timer) clearTimeout(timer);
          if (!gotExit) {
            return reject(this.dropped ?? new ConnectionError('dropped', `${this.host}: channel closed without an exit status`));
          }
          const result: ExecResult = {
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            exitCode,
            durationMs: Date.now() - started,
          };
          if (signal) result.signal = signal;
          resolve(result);
        });
        if (options.stdin !== undefined) stream.end(options.stdin);
        else stream.end();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client?.end();
  }
}
