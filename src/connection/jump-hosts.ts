/**
 * Bastions (ProxyJump) shared by every host behind them: one connection per bastion per run, like every other
 * host, with the targets' TCP streams as channels of it.
 */
import type { Duplex } from 'node:stream';
import type { SshTarget } from './target.js';

/** What a jump host connection must offer: a TCP stream to host:port through it. */
export interface JumpConnection {
  readonly alive: boolean;
  forward(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}

/**
 * Identity of a bastion including the chain in front of it: two targets with equal keys share it. The known_hosts
 * files and host key policy are part of it: a connection whose key was checked under one host's trust settings
 * must not carry a host that names other files or a stricter policy.
 */
export function jumpKey(target: SshTarget): string {
  const trust = JSON.stringify([target.hostKeyPolicy, target.knownHostsFiles]);
  const own = `${target.user}@${target.address.toLowerCase()}:${target.port} ${trust}`;
  return target.proxyJump ? `${jumpKey(target.proxyJump)}>${own}` : own;
}

export class JumpHosts {
  private readonly connections = new Map<string, Promise<JumpConnection>>();

  constructor(private readonly open: (target: SshTarget) => Promise<JumpConnection>) {}

  /**
   * The shared connection to this bastion, opened on first use. A failed open is kept for the run: every host
   * behind that bastion reports the same failure without another attempt. A connection that died is reopened once.
   */
  async get(target: SshTarget): Promise<JumpConnection> {
    const key = jumpKey(target);
    const existing = this.connections.get(key);
    if (existing) {
      const conn = await existing;
      if (conn.alive) return conn;
      if (this.connections.get(key) !== existing) return (await this.connections.get(key)) ?? conn;
    }
    const opening = this.open(target);
    this.connections.set(key, opening);
    return opening;
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (c) => c.close(),
          () => undefined,
        ),
      ),
    );
  }
}
