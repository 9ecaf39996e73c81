/**
 * The one way rollgate opens SSH connections to hosts, for every command (`run`, `rollout`, `undo`, `check`,
 * `exec`, `facts`): one known_hosts store and one pool of bastions (ProxyJump) shared by the whole run, so that
 * a host key learned or refused once is seen by every later login, and a bastion is logged into once. The target
 * (address, user, keys, jump chain, connect timeout) comes finished from targets/.
 */
import type { Connection } from '../connection/connection.js';
import { JumpHosts } from '../connection/jump-hosts.js';
import { KnownHostsStore } from '../connection/known-hosts-store.js';
import { SshConnection, type OpenOptions } from '../connection/ssh.js';
import type { SshTarget } from '../connection/target.js';

/** What a run's connections share: its known_hosts store and its bastion connections. */
export type SharedConnections = Required<OpenOptions>;

/** Opens one connection with the run's shared state; tests may pass another real transport. */
export type Opener = (target: SshTarget, shared: SharedConnections) => Promise<Connection & { connectMs?: number }>;

/** The default opener: ssh2 through `SshConnection`, with the run's known_hosts store and bastions. */
export const openSsh: Opener = (target, shared) => SshConnection.open(target, shared);

/** A fresh known_hosts store and bastion pool for one run; bastions are opened through `SshConnection` too. */
export function sharedConnections(): SharedConnections {
  const shared: SharedConnections = {
    knownHosts: new KnownHostsStore(),
    jumps: new JumpHosts((t) => SshConnection.open(t, shared)),
  };
  return shared;
}

/** A run's connection factory: `open(target)` logs in with the shared state; `close()` ends its bastions. */
export interface ConnectionFactory {
  open(target: SshTarget): Promise<Connection & { connectMs?: number }>;
  readonly shared: SharedConnections;
  close(): Promise<void>;
}

export function connectionFactory(opener: Opener = openSsh, shared = sharedConnections()): ConnectionFactory {
  return {
    shared,
    open: (target) => opener(target, shared),
    close: () => shared.jumps.closeAll(),
  };
}
