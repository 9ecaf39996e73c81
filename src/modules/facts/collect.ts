/**
 * Gather one host's snapshot over an open connection: one command (the collection script on stdin), parsed
 * on the controller. When `sudo -n` is refused the script runs again unprivileged, and the sources that need
 * root come back unknown with the host's own reason.
 */
import { ConnectionError, type Connection, type ExecResult } from '../../connection/connection.js';
import { raw } from '../../connection/shell-quote.js';
import { buildCollectionScript, splitSections } from './script.js';
import { allSources } from './sources.js';
import { assembleSnapshot } from './assemble.js';
import type { HostSnapshot } from './snapshot.js';
import { desiredStateFrom } from '../findings/desired.js';

export interface CollectOptions {
  /** Gather performance evidence over this many seconds (`--profile`). Default 0 (off). */
  profileSeconds?: number;
  /** vendor:device ids meant for passthrough; default: the host's `passthrough_devices` variable. */
  passthroughIds?: string[];
  /** Time limit of each source on the host, seconds. Default 90: lsinitramfs of a large initramfs on a busy host
   * took more than 30 s (an e2e onboarding found its vfio modules "unknown"). */
  sectionTimeoutSec?: number;
  /** Time limit of the whole command, milliseconds. Default: sections × limit, at least 120 s. */
  timeoutMs?: number;
  /** Run as root through sudo -n (default: the connection's become setting). */
  become?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
  /**
   * Read only these facts (registry names), when the caller needs a few: every other part of the snapshot is
   * unknown ("no output"). Each source costs the host processes; a rollout's plan reads three to tell kinds apart.
   */
  only?: readonly string[];
}

/** What collectSnapshot needs of an inventory host (InventoryHost fits). */
export interface SnapshotHost {
  name: string;
  vars?: Record<string, unknown>;
}

const SUDO_REFUSED = /sudo: (a password is required|a terminal is required|.*not in the sudoers|.*may not run sudo)/i;

export async function collectSnapshot(
  conn: Connection,
  host: SnapshotHost,
  opts: CollectOptions = {},
): Promise<HostSnapshot> {
  const profileSeconds = opts.profileSeconds ?? 0;
  const passthroughIds = opts.passthroughIds ?? desiredStateFrom(host.name, host.vars ?? {}).desired.passthroughIds;
  const sectionTimeoutSec = opts.sectionTimeoutSec ?? 90;
  const uri = host.vars?.rollgate_libvirt_uri;
  const sources = allSources({
    passthroughIds,
    profileSeconds,
    ...(typeof uri === 'string' && uri ? { libvirtUri: uri } : {}),
  }).filter((s) => !opts.only || opts.only.includes(s.name));
  const { nonce, script } = buildCollectionScript(sources, sectionTimeoutSec);
  const timeoutMs = opts.timeoutMs ?? Math.max(120_000, (profileSeconds + sectionTimeoutSec * 4) * 1000);
  const now = opts.now ?? (() => new Date());
  const collectedAt = now().toISOString();
  const run = (become?: boolean): Promise<ExecResult> =>
    conn.exec(raw('sh -s'), { stdin: script.text, timeoutMs, ...(become === undefined ? {} : { become }) });

  let result: ExecResult;
  let sudoRefused: string | null = null;
  try {
    result = await run(opts.become);
    if (!result.stdout.includes(`@@rg:${nonce}:`) && SUDO_REFUSED.test(result.stderr)) {
      sudoRefused = result.stderr.trim().split('\n')[0] ?? 'sudo -n refused';
      result = await run(false);
    }
  } catch (err) {
    // sudo -n refused: gather what an unprivileged user can see, and say so.
    if (!(err instanceof ConnectionError) || err.kind !== 'become') throw err;
    sudoRefused = err.message;
    result = await run(false);
  }
  const sections = splitSections(result.stdout, nonce);
  const snap = assembleSnapshot(sections, {
    host: host.name,
    collectedAt,
    durationMs: Math.round(result.durationMs),
    sectionTimeoutSec,
    profileSeconds,
    passthroughIds,
  });
  if (sudoRefused) snap.sources.sudo = { exitCode: 1, stderr: `ran unprivileged: ${sudoRefused}` };
  if (sections.size === 0) {
    // The script itself could not run: say so on every source rather than pretend.
    const why = `the collection script did not run (exit ${result.exitCode ?? 'signal ' + (result.signal ?? '?')}): ${result.stderr.trim().slice(-300) || 'no output'}`;
    snap.sources.script = { exitCode: result.exitCode ?? -1, stderr: why };
  }
  return snap;
}
