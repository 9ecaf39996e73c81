/**
 * The one wrapper around ssh2: one connection per host, commands on channels of it (remote-exec.ts), strict
 * host keys (host-verifier.ts), agent and key-file auth (auth.ts), ProxyJump chains through shared bastions.
 */
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Client, type ServerHostKeyAlgorithm } from 'ssh2';
import { planAuth } from './auth.js';
import { ConnectionError, type Connection, type ExecOptions, type ExecResult } from './connection.js';
import { classifyConnectError, type Ssh2Error } from './failure-kind.js';
import { checkHostKey } from './host-verifier.js';
import { JumpHosts, type JumpConnection } from './jump-hosts.js';
import { KnownHostsStore } from './known-hosts-store.js';
import { execOnChannel } from './remote-exec.js';
import type { ShellFragment } from './shell-quote.js';
import type { SshTarget } from './target.js';

/** What connections of one run share. Each defaults to a private instance. */
export interface OpenOptions {
  /** known_hosts files read once per run; accept-new appends through it. */
  knownHosts?: KnownHostsStore;
  /** Bastion connections shared by the hosts behind them. */
  jumps?: JumpHosts;
}

export class SshConnection implements Connection, JumpConnection {
  readonly host: string;
  /** Milliseconds from the first TCP packet to authenticated, including any jump hosts. */
  connectMs = 0;
  private readonly client = new Client();
  private closed = false;
  private dropped: ConnectionError | undefined;
  private ownJumps: JumpHosts | undefined;
  /** The host key the server offered (and, once connected, proved it holds). */
  private hostKeyBlob: Buffer | undefined;
  /** Cached answer to "can this user sudo without a password?", asked only after a become command fails. */
  sudoWorks: Promise<boolean> | undefined;

  private constructor(readonly target: SshTarget) {
    this.host = target.name;
  }

  /** Open a connection, verifying the host key before any credential is sent. Throws ConnectionError. */
  static async open(target: SshTarget, options: OpenOptions = {}): Promise<SshConnection> {
    const conn = new SshConnection(target);
    const started = Date.now();
    await conn.connect(options);
    conn.connectMs = Date.now() - started;
    return conn;
  }

  /** The machine's identity once connected: SHA256 fingerprint of its host key, as `ssh-keygen -l` prints it. */
  get hostKeyFingerprint(): string | undefined {
    return this.hostKeyBlob
      ? `SHA256:${createHash('sha256').update(this.hostKeyBlob).digest('base64').replace(/=+$/, '')}`
      : undefined;
  }

  get alive(): boolean {
    return !this.closed && !this.dropped;
  }

  /** Why the connection is gone, if it dropped. */
  get dropReason(): ConnectionError | undefined {
    return this.dropped;
  }

  private async tunnel(options: OpenOptions): Promise<Duplex | undefined> {
    const t = this.target;
    if (!t.proxyJump) return undefined;
    let jumps = options.jumps;
    if (!jumps) {
      jumps = this.ownJumps = new JumpHosts((jt) => SshConnection.open(jt, { ...options, jumps: this.ownJumps }));
    }
    try {
      const bastion = await jumps.get(t.proxyJump);
      return await bastion.forward(t.address, t.port);
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      // Keep the bastion's kind: a refused bastion key is a host_key problem to fix, not a network one.
      throw new ConnectionError(
        err.kind,
        `${t.name}: through jump host ${t.proxyJump.name}: ${err.message}`,
        err.retryable,
      );
    }
  }

  private async connect(options: OpenOptions): Promise<void> {
    const t = this.target;
    const sock = await this.tunnel(options);
    const client = this.client;
    const hostKey = checkHostKey(t, options.knownHosts ?? new KnownHostsStore());
    const auth = planAuth(t);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: ConnectionError) => {
        if (settled) return;
        settled = true;
        this.closed = true;
        client.end();
        void this.ownJumps?.closeAll();
        reject(err);
      };
      client.on('handshake', () => hostKey.commit());
      client.on('ready', () => {
        settled = true;
        resolve();
      });
      client.on('error', (err: Ssh2Error) => {
        if (settled) {
          this.dropped ??= new ConnectionError(
            'dropped',
            `${t.name}: connection lost (${err.level ?? err.code ?? 'error'})`,
          );
          return;
        }
        if (err.level === 'agent') return; // the agent could not sign; ssh2 goes on with the next method
        fail(hostKey.refusal() ?? classifyConnectError(err, t, auth.describe()));
      });
      client.on('close', () => {
        if (!settled)
          fail(
            hostKey.refusal() ??
              new ConnectionError('dropped', `${t.name}: connection closed during the SSH handshake`),
          );
        else if (!this.closed)
          this.dropped ??= new ConnectionError('dropped', `${t.name}: connection closed by the remote side`);
        void this.ownJumps?.closeAll();
      });
      const serverHostKey = hostKey.preferredAlgorithms as ServerHostKeyAlgorithm[];
      client.connect({
        host: t.address,
        port: t.port,
        username: t.user,
        sock,
        readyTimeout: t.connectTimeoutMs ?? 15_000,
        keepaliveInterval: t.keepaliveIntervalMs ?? 5_000,
        keepaliveCountMax: 3,
        authHandler: auth.handler,
        hostVerifier: (keyBlob: Buffer) => {
          this.hostKeyBlob = keyBlob;
          return hostKey.verify(keyBlob);
        },
        algorithms: serverHostKey.length
          ? { serverHostKey: { remove: serverHostKey, prepend: serverHostKey, append: [] } }
          : {},
      });
    });
  }

  /** A TCP stream to host:port through this connection (this host acting as ProxyJump bastion). */
  forward(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (!this.alive)
        return reject(this.dropped ?? new ConnectionError('dropped', `${this.host}: connection is closed`));
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err)
          reject(
            new ConnectionError(
              'unreachable',
              `cannot reach ${host}:${port} from jump host ${this.host} (${err.message})`,
            ),
          );
        else resolve(stream);
      });
    });
  }

  exec(command: string | ShellFragment, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.dropped) return Promise.reject(this.dropped);
    if (this.closed) return Promise.reject(new ConnectionError('dropped', `${this.host}: connection is closed`));
    return execOnChannel(this, this.client, command, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.end();
    await this.ownJumps?.closeAll();
  }
}
