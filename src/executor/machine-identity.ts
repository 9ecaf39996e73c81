/**
 * One run per machine, one machine per run, and undo / resume only on the machine a run changed. A machine is
 * known by its address and port (through its jump hosts) until rollgate connects, then by the fingerprint of
 * the host key it proved it holds. Runs lock every host's address:port before contacting any (all or nothing,
 * exit 5), then its host key right after the handshake: one sshd under two inventory names, or reached at two
 * addresses, is driven once. Each run records where it reached each host; undo and resume compare with it.
 */
import { ConnectionError, type Connection } from '../connection/connection.js';
import type { SshTarget } from '../connection/target.js';
import type { ConfigProblem } from '../core/config-error.js';
import type { InventoryHost } from '../load/inventory.js';
import type { FleetLock, LockSubject } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import { describeConflicts } from '../journal/run-life.js';

/** `addr:ADDRESS:PORT`, with `@` and the jump host's own for a host reached through one. */
export function addressIdentity(t: SshTarget): string {
  return `addr:${t.address.toLowerCase()}:${t.port}${t.proxyJump ? `@${addressIdentity(t.proxyJump).slice('addr:'.length)}` : ''}`;
}

export function keyIdentity(fingerprint: string): string {
  return `key:${fingerprint}`;
}

/** What every host of a run locks before any is contacted. */
export function addressSubjects(targets: Iterable<SshTarget>): LockSubject[] {
  return [...targets].map((t) => ({ host: t.name, machine: addressIdentity(t) }));
}

export interface MachineClaim {
  journal: Journal;
  lock: FleetLock;
  runId: string;
  /** The run whose recorded machines the hosts must still be (resume: the run itself; undo: the run undone). */
  recordedIn?: string;
  /** The operator checked that a host which now presents another key is the same machine. */
  force?: boolean;
}

/**
 * Right after the handshake: refuse a machine that is not the one `recordedIn` changed, record where the host
 * was reached, and lock its host key for the run. The refusal, or undefined when the host may be worked on.
 */
export async function claimMachine(c: MachineClaim, target: SshTarget, conn: Connection): Promise<string | undefined> {
  const fp = conn.hostKeyFingerprint;
  if (!fp) return undefined; // not an SSH transport: its address lock is all there is
  const was = c.recordedIn ? c.journal.hostIdentity(c.recordedIn, target.name) : null;
  if (was && was.hostKey !== fp && !c.force) {
    return (
      `${target.name} now presents host key ${fp} at ${target.address}:${target.port}, but run ${c.recordedIn} changed it when it presented ${was.hostKey} at ${was.address}:${was.port}: ` +
      `it is another machine, or the same one with a new key. Fix the inventory (or known_hosts) so ${target.name} points to the machine the run changed, or add --force if it is the same machine`
    );
  }
  c.journal.recordHostIdentity(c.runId, target.name, { address: target.address, port: target.port, hostKey: fp });
  const got = await c.lock.acquireHostLocks(c.runId, [{ host: target.name, machine: keyIdentity(fp) }]);
  return got.ok ? undefined : describeConflicts(c.journal, got.conflicts, c.lock.shared);
}

/** An opener whose connections are claimed for the run; a refused one is closed and thrown as kind `locked`. */
export function claimingOpener<A extends unknown[], C extends Connection>(
  open: (target: SshTarget, ...rest: A) => Promise<C>,
  c: MachineClaim,
): (target: SshTarget, ...rest: A) => Promise<C> {
  return async (target, ...rest) => {
    const conn = await open(target, ...rest);
    const refused = await claimMachine(c, target, conn).catch(async (err: unknown) => {
      await conn.close().catch(() => undefined);
      throw err;
    });
    if (refused === undefined) return conn;
    await conn.close().catch(() => undefined);
    throw new ConnectionError('locked', refused, false);
  };
}

/** The inventory variable that set a host's address (or port), for a message at its file:line:col. */
function addressVar(host: InventoryHost, names: readonly string[]) {
  const name = names.find((n) => n in host.vars);
  return name ? host.varOrigins[name] : undefined;
}

/**
 * Before any contact: hosts whose address or port now differs from where run `runId` reached them, as problems
 * at the inventory line that moved them (unless the operator said --force).
 */
export function movedHosts(
  journal: Journal,
  runId: string,
  targets: readonly SshTarget[],
  hosts: ReadonlyMap<string, InventoryHost>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const t of targets) {
    const was = journal.hostIdentity(runId, t.name);
    if (!was || (was.address.toLowerCase() === t.address.toLowerCase() && was.port === t.port)) continue;
    const host = hosts.get(t.name);
    const portMoved = was.address.toLowerCase() === t.address.toLowerCase();
    const position = host
      ? (addressVar(
          host,
          portMoved
            ? ['rollgate_port', 'ansible_port', 'ansible_ssh_port']
            : ['rollgate_host', 'ansible_host', 'ansible_ssh_host'],
        ) ?? host.origin)
      : undefined;
    problems.push({
      ...(position ? { position } : {}),
      message: `${t.name} now points to ${t.address}:${t.port}, but run ${runId} changed the machine at ${was.address}:${was.port} (host key ${was.hostKey})`,
      hint: `fix the inventory so ${t.name} points to ${was.address}:${was.port} again (or pass -i with the inventory the run used), or add --force if ${t.address}:${t.port} is the same machine, moved`,
    });
  }
  return problems;
}
