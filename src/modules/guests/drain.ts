/**
 * Draining a hypervisor's guests before a reboot and bringing them back after it, through the host's own virsh.
 * A reboot never kills a guest by surprise: with guests running and no policy, the caller refuses. The policy
 * says per kind of guest what may happen: guests with PCI host devices cannot live-migrate; movable ones could,
 * but migration is not built yet, so both kinds may be shut down (ACPI, bounded wait, then `destroy` or stop) or
 * refused. The names of the guests stopped are recorded by the caller before anything stops (the task's change,
 * the rollout's host state), so that they are started again after the boot, after a rollback, or by a resume.
 */
import type { Connection } from '../../connection/connection.js';
import { sh, type ShellFragment } from '../../connection/shell-quote.js';
import { facts } from '../facts/registry.js';
import {
  isRunning,
  parseDomstate,
  parseGuestsSection,
  type GuestDomain,
  type GuestsView,
} from '../facts/parsers/libvirt.js';

export {
  DEFAULT_SHUTDOWN_TIMEOUT_SEC,
  drainPolicyFrom,
  drainPolicySchema,
  type DrainPolicy,
  type GuestAction,
} from '../../core/guest-policy.js';
import type { DrainPolicy } from '../../core/guest-policy.js';

/** `virsh [-c URI] ARGS…` as a quoted command. */
export function virsh(uri: string | undefined, ...args: string[]): ShellFragment {
  return uri ? sh`virsh -q -c ${uri} ${args}` : sh`virsh -q ${args}`;
}

const guestsCommand = (opts: Parameters<NonNullable<typeof facts.guests.command>>[0]): ShellFragment => {
  if (!facts.guests.command) throw new Error('internal: the guests fact has no command');
  return facts.guests.command(opts);
};

/** The host's guests as the snapshot reads them (the `guests` fact's own command and parser). */
/**
 * How long one virsh command (list, domstate, shutdown, nodememstats, the guests section) may take, ms. Generous: a
 * hypervisor under load answers slowly, and a CI run of the guests lab (load average 10, a live migration in the
 * same VM) saw `virsh domstate` take more than 30 s — the drain failed and the host was rolled back for that alone.
 */
export const VIRSH_TIMEOUT_MS = 180_000;

export async function readGuests(conn: Connection, uri: string | undefined): Promise<GuestsView> {
  const r = await conn.exec(
    guestsCommand({ passthroughIds: [], profileSeconds: 0, ...(uri ? { libvirtUri: uri } : {}) }),
    { timeoutMs: VIRSH_TIMEOUT_MS },
  );
  const view = r.exitCode === 0 ? parseGuestsSection(r.stdout) : null;
  if (!view)
    throw new Error(
      `cannot read the host's guests through virsh (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    );
  return view;
}

export interface DrainPlan {
  /** Running guests the policy shuts down, in order (movable ones first, then those holding devices). */
  stop: Array<{ name: string; hostdevs: string[] }>;
  /** Running movable guests the policy live-migrates to a peer (`rollgate rollout` only). */
  migrate: string[];
  /** Running guests the policy refuses to touch: the host must not reboot. */
  refused: Array<{ name: string; why: string }>;
}

const describe = (d: GuestDomain) =>
  d.hostdevs.length ? `${d.name} (holds ${d.hostdevs.map((h) => h.address).join(', ')})` : d.name;

/**
 * What the policy does with each running guest. `migrateTo` says whether migration is possible here (the
 * rollout, with peers in the host's cluster) or why not; a guest the policy would migrate is refused otherwise.
 */
export function planDrain(
  view: GuestsView,
  policy: DrainPolicy,
  migrateTo:
    true | string = "live migration is for `rollgate rollout` (it needs the peers of the host's rollgate_cluster)",
): DrainPlan {
  const running = view.domains.filter(isRunning);
  const plan: DrainPlan = { stop: [], migrate: [], refused: [] };
  for (const d of [...running.filter((x) => !x.hostdevs.length), ...running.filter((x) => x.hostdevs.length)]) {
    let action = d.hostdevs.length ? policy.withDevices : policy.movable;
    if (action === 'migrate' && migrateTo !== true && policy.noPeer === 'shutdown') action = 'shutdown';
    if (action === 'shutdown') plan.stop.push({ name: d.name, hostdevs: d.hostdevs.map((h) => h.address) });
    else if (action === 'migrate' && migrateTo === true) plan.migrate.push(d.name);
    else
      plan.refused.push({
        name: action === 'migrate' ? `${d.name} (cannot migrate: ${migrateTo})` : describe(d),
        why: d.hostdevs.length ? 'holds a host device' : 'movable',
      });
  }
  return plan;
}

/** Why a reboot is refused, with what to write instead. */
export function refusalMessage(host: string, plan: DrainPlan, where: string): string {
  return (
    `${host} has ${plan.refused.length} running guest(s) a reboot would kill: ${plan.refused.map((r) => r.name).join(', ')}; ` +
    `nothing was changed. Say how to drain them: ${where} (shut down, then started again after the boot), or stop them yourself first`
  );
}

async function stateOf(conn: Connection, uri: string | undefined, name: string): Promise<string> {
  const r = await conn.exec(virsh(uri, 'domstate', '--reason', '--', name), { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode !== 0) throw new Error(`virsh domstate ${name}: ${(r.stderr || r.stdout).trim()}`);
  return parseDomstate(r.stdout)?.state ?? 'unknown';
}

async function run(conn: Connection, cmd: ShellFragment, what: string): Promise<void> {
  const r = await conn.exec(cmd, { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode !== 0) throw new Error(`${what}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
}

export interface DrainHooks {
  /** One line per step, for events and logs. */
  progress?: (line: string) => void;
  /** Pause between state polls, ms (default 1000). */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * How long a migration may keep retrying while virsh cannot connect to one of the two libvirts, ms (default
   * MIGRATE_CONNECT_RETRY_MS): the migration never started then, the guest still runs where it was.
   */
  connectRetryMs?: number;
}

/**
 * A migration virsh could not even start because one side did not answer: right after a host booted its network to
 * the peer may come up seconds after its SSH port (seen on lab VMs: `ssh: connect to host lab1 port 22: Connection
 * refused` five seconds after the host was back), and a guest brought back then would stay on the peer.
 */
export const MIGRATE_CONNECT_RETRY_MS = 120_000;
const NOT_CONNECTED = /failed to connect to the hypervisor/i;

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Shut the guests down, one after the other: ACPI shutdown, wait until libvirt says `shut off`, at the timeout
 * destroy or fail. On a failure the guests this call already stopped are started again before it throws, so a
 * refused drain leaves the host as it found it. Returns the names actually stopped.
 */
export async function drainGuests(
  conn: Connection,
  uri: string | undefined,
  stop: readonly string[],
  policy: DrainPolicy,
  hooks: DrainHooks = {},
): Promise<string[]> {
  const stopped: string[] = [];
  const sleep = hooks.sleep ?? pause;
  try {
    for (const name of stop) {
      if ((await stateOf(conn, uri, name)) === 'shut off') continue;
      hooks.progress?.(`shutting down guest ${name} (up to ${policy.shutdownTimeoutSec} s)`);
      await run(conn, virsh(uri, 'shutdown', '--', name), `virsh shutdown ${name}`);
      const deadline = Date.now() + policy.shutdownTimeoutSec * 1000;
      let state = await stateOf(conn, uri, name);
      while (state !== 'shut off' && Date.now() < deadline) {
        await sleep(hooks.pollMs ?? 1000);
        state = await stateOf(conn, uri, name);
      }
      if (state !== 'shut off') {
        if (policy.onTimeout === 'fail')
          throw new Error(
            `guest ${name} did not shut down within ${policy.shutdownTimeoutSec} s (still ${state}); on_timeout: fail`,
          );
        hooks.progress?.(
          `guest ${name} did not shut down within ${policy.shutdownTimeoutSec} s: destroying it (on_timeout: destroy)`,
        );
        await run(conn, virsh(uri, 'destroy', '--', name), `virsh destroy ${name}`);
        state = await stateOf(conn, uri, name);
        if (state !== 'shut off') throw new Error(`guest ${name} is still ${state} after virsh destroy`);
      }
      stopped.push(name);
    }
    return stopped;
  } catch (err) {
    const back = await startGuests(conn, uri, stopped, hooks).catch((e: Error) => e.message);
    const note =
      typeof back === 'string'
        ? `; starting the stopped ones again failed too: ${back}`
        : stopped.length
          ? `; started again: ${stopped.join(', ')}`
          : '';
    throw new Error(`${(err as Error).message}${note}`);
  }
}

/** Start the guests that are not running (a guest libvirt autostarted is left alone) and check each one runs. */
export async function startGuests(
  conn: Connection,
  uri: string | undefined,
  names: readonly string[],
  hooks: DrainHooks = {},
): Promise<string[]> {
  const started: string[] = [];
  const failed: string[] = [];
  for (const name of names) {
    const before = await stateOf(conn, uri, name).catch((e: Error) => `unknown (${e.message})`);
    if (before === 'running') continue;
    hooks.progress?.(`starting guest ${name}`);
    const r = await conn.exec(virsh(uri, 'start', '--', name), { timeoutMs: VIRSH_TIMEOUT_MS });
    const after = await stateOf(conn, uri, name).catch(() => 'unknown');
    if (r.exitCode === 0 && after === 'running') started.push(name);
    else failed.push(`${name}: ${(r.stderr || r.stdout).trim().slice(0, 300) || `state ${after}`}`);
  }
  if (failed.length) throw new Error(`guest(s) did not start again: ${failed.join('; ')}`);
  return started;
}

/** `rollgate_libvirt_uri`, when the host has one. */
export function libvirtUriOf(vars: Record<string, unknown>): string | undefined {
  const u = vars.rollgate_libvirt_uri;
  return typeof u === 'string' && u !== '' ? u : undefined;
}

/** Free memory of a libvirt host, KiB (`virsh nodememstats`), or null when it cannot be read. */
export async function freeMemoryKiB(conn: Connection, uri: string): Promise<number | null> {
  const r = await conn.exec(virsh(uri, 'nodememstats'), { timeoutMs: VIRSH_TIMEOUT_MS });
  const m = /^free\s*:\s*(\d+)\s*KiB/m.exec(r.stdout);
  return r.exitCode === 0 && m ? Number(m[1]) : null;
}

/**
 * Whether a guest runs on the libvirt at `uri` (false when that libvirt does not know it or does not answer). A
 * migration recorded before it started may never have happened (its controller killed while `virsh migrate` waited
 * for the peer, the command failing on its own later): bringing the guest back starts by looking at home.
 */
export async function runsOn(conn: Connection, uri: string | undefined, name: string): Promise<boolean> {
  return stateOf(conn, uri, name).then(
    (state) => state === 'running',
    () => false,
  );
}

/**
 * Live-migrate a guest from the libvirt at `from` to the one at `to` (`virsh migrate --live --persistent
 * --undefinesource`, driven from this connection's host), then check that it runs there and is gone here.
 */
export async function migrateGuest(
  conn: Connection,
  from: string | undefined,
  name: string,
  to: string,
  hooks: DrainHooks = {},
): Promise<void> {
  hooks.progress?.(`migrating guest ${name} to ${to}`);
  const sleep = hooks.sleep ?? pause;
  const retryMs = hooks.connectRetryMs ?? MIGRATE_CONNECT_RETRY_MS;
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const r = await conn.exec(virsh(from, 'migrate', '--live', '--persistent', '--undefinesource', '--', name, to), {
      timeoutMs: 600_000,
    });
    if (r.exitCode === 0) break;
    const why = (r.stderr || r.stdout).trim();
    const wait = Math.min(5_000 * 2 ** attempt, 30_000);
    if (!NOT_CONNECTED.test(why) || waited + wait > retryMs)
      throw new Error(`virsh migrate ${name} to ${to}: ${why.slice(0, 300)}`);
    hooks.progress?.(
      `guest ${name}: a libvirt did not answer (${why.split('\n').pop()?.slice(0, 160)}); migrating again in ${wait / 1000} s`,
    );
    await sleep(wait);
    waited += wait;
  }
  const there = await stateOf(conn, to, name);
  if (there !== 'running') throw new Error(`guest ${name} is ${there} on ${to} after the migration`);
}
