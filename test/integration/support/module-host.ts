/**
 * Shared by the module integration tests: a real sshd fleet, connections as the sudo user, throwaway host roots
 * and a hash of a whole root (paths, types, modes, owners, bytes, link targets).
 */
import { afterAll, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConnection } from '../../../src/connection/ssh.js';
import type { SshTarget } from '../../../src/connection/target.js';
import { FLEET_ADMIN_USER, startSshdFleet, type SshdFleet } from '../../../src/lab/sshd-fleet.js';
import type { ModuleContext } from '../../../src/modules/module.js';
import type { RollgateEvent } from '../../../src/events/events.js';
import { buildRoot, type RootOptions, type RootProfile } from './fake-root.js';

export async function startFleet(count: number): Promise<SshdFleet> {
  return startSshdFleet({ count, dir: mkdtempSync(join(tmpdir(), 'rg-modfleet-')) });
}

export function fleetTarget(fleet: SshdFleet, index: number, overrides: Partial<SshTarget> = {}): SshTarget {
  const host = fleet.hosts[index]!;
  return {
    name: host.name,
    address: '127.0.0.1',
    port: host.port,
    user: FLEET_ADMIN_USER,
    identityFiles: [fleet.clientKey],
    agentSocket: '',
    knownHostsFiles: [fleet.knownHosts],
    hostKeyPolicy: 'strict',
    become: true,
    ...overrides,
  };
}

export function connect(fleet: SshdFleet, index: number, overrides: Partial<SshTarget> = {}): Promise<SshConnection> {
  return SshConnection.open(fleetTarget(fleet, index, overrides));
}

/** A fresh empty directory to use as a host's filesystem root. */
export function tempRoot(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rg-root-${label}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeRoot(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** sha256 over every entry under dir (sorted), except top-level names in `exclude` (e.g. runtime proc/sys). */
export function hashTree(dir: string, exclude: readonly string[] = []): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const names = readdirSync(join(dir, rel)).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (!rel && exclude.includes(name)) continue;
      const full = join(dir, r);
      const st = lstatSync(full);
      h.update(`${r}\0${st.mode}\0${st.uid}\0${st.gid}\0`);
      if (st.isSymbolicLink()) h.update(`->${readlinkSync(full)}\0`);
      else if (st.isDirectory()) walk(r);
      else h.update(readFileSync(full));
    }
  };
  walk('');
  return h.digest('hex');
}

export function moduleContext(
  conn: SshConnection,
  vars: Record<string, unknown>,
  checkMode = false,
  events: RollgateEvent[] = [],
): ModuleContext {
  return { conn, host: conn.host, vars, checkMode, emit: (e) => events.push(e) };
}

export interface ModuleHost {
  /** The one connection to the file's sshd host (as the sudo user, strict host keys). */
  readonly conn: SshConnection;
  readonly fleet: SshdFleet;
  /** A throwaway host root shaped like `profile`, removed after the file. */
  root(label: string, profile: RootProfile, opts?: RootOptions): string;
}

/**
 * One real sshd host for a whole test file, and throwaway roots for it: registers the file's beforeAll/afterAll
 * (start the host and connect; close, stop, remove every root).
 */
export function useModuleHost(): ModuleHost {
  let fleet: SshdFleet | undefined;
  let conn: SshConnection | undefined;
  const roots: string[] = [];
  beforeAll(async () => {
    fleet = await startFleet(1);
    conn = await connect(fleet, 0);
  });
  afterAll(async () => {
    await conn?.close();
    await fleet?.stop();
    roots.forEach(removeRoot);
  });
  return {
    get conn() {
      if (!conn) throw new Error('useModuleHost: the host is not up yet (use it inside a test or hook)');
      return conn;
    },
    get fleet() {
      if (!fleet) throw new Error('useModuleHost: the host is not up yet (use it inside a test or hook)');
      return fleet;
    },
    root(label, profile, opts = {}) {
      const dir = tempRoot(label);
      roots.push(dir);
      buildRoot(dir, profile, opts);
      return dir;
    },
  };
}
