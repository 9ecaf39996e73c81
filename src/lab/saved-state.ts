/**
 * A booted, pristine lab VM as a saved state rather than a boot: once per image, VM and QEMU configuration, the
 * running guest is migrated to a file (QMP `migrate` to `exec:cat`) beside a frozen copy of its disk overlay.
 * Starting the VM again is then `qemu -incoming` from that file on a fresh overlay backed by the frozen disk:
 * an SSH-ready guest in seconds instead of a 60-120 s TCG boot. Reboots inside a scenario stay real boots
 * through the guest's GRUB; only "pristine" is restored.
 *
 *   <image dir>/booted/<state key>/<host>/disk.qcow2        frozen overlay (read-only, backed by base.qcow2)
 *                                         memory.state      the migration stream
 *                                         ssh_host_ed25519_key[.pub]  the key the guest installed at its boot
 *                                         meta.json         when, how long it took, sizes
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { withQmp } from '../power/qmp.js';
import { LAB_KINDS } from './kinds.js';
import { qemuArgs, type Accel } from './qemu-args.js';
import type { VmRecord } from './state.js';

/** QEMU refuses to migrate this VM (e.g. QEMU 7.2's amd-iommu is not migratable): it can only be cold-booted. */
export class UnsaveableVmError extends Error {
  override readonly name = 'UnsaveableVmError';
}

/** Bump when what a saved state holds or how it is made changes: older states are then ignored. */
const FORMAT = 1;

export interface SavedState {
  dir: string;
  disk: string;
  memory: string;
  hostKey: string;
}

export interface SavedStateMeta {
  savedAt: string;
  /** Cold boot to SSH login that the state spares, ms. */
  bootMs: number;
  saveMs: number;
  memoryBytes: number;
}

/**
 * What a saved state must match to be restored into a VM: the image, the VM's whole QEMU configuration (paths and
 * ports aside, which migration does not carry), the accelerator and the QEMU build.
 */
export function savedStateKey(input: {
  imageHash: string;
  rec: VmRecord;
  accel: Accel;
  memoryMb: number;
  qemuVersion: string;
  /** The profile's change to the booted guest before it is saved (stock-grub), if any. */
  setup?: string;
}): string {
  const { rec } = input;
  const args = qemuArgs({
    name: rec.name,
    kind: LAB_KINDS[rec.iommu],
    accel: input.accel,
    memoryMb: input.memoryMb,
    disk: 'DISK',
    sshPort: 0,
    qmpSocket: 'QMP',
    consoleLog: 'CONSOLE',
    pidFile: 'PID',
    hostKeyFile: 'KEY',
    hostKeyPubFile: 'KEY.pub',
    mac: rec.mac,
    // The LAN's port follows the state dir; the saved state does not carry it.
    ...(rec.lan ? { lan: { mac: rec.lan.mac, mcast: 'LAN' } } : {}),
  });
  const h = createHash('sha256').update(
    JSON.stringify({ format: FORMAT, image: input.imageHash, qemu: input.qemuVersion, args, ...(input.setup ? { setup: input.setup } : {}) }),
  );
  return h.digest('hex').slice(0, 16);
}

export function savedStateDir(imageDir: string, key: string, host: string): string {
  return join(imageDir, 'booted', key, host);
}

/** Marker beside a state dir: this VM configuration cannot be saved (the reason inside); cold boots only. */
export const unsaveableMarker = (dir: string): string => `${dir}.unsaveable`;

/** The saved state in `dir`, when complete (every file is written before the directory gets its name). */
export function findSavedState(dir: string): SavedState | undefined {
  const s: SavedState = { dir, disk: join(dir, 'disk.qcow2'), memory: join(dir, 'memory.state'), hostKey: join(dir, 'ssh_host_ed25519_key') };
  return [s.disk, s.memory, s.hostKey, `${s.hostKey}.pub`, join(dir, 'meta.json')].every((f) => existsSync(f)) ? s : undefined;
}

let qemuVersionCache: string | undefined;
/** `qemu-system-x86_64 --version`, first line: a state saved by another QEMU build may not load. */
export async function qemuVersion(): Promise<string> {
  qemuVersionCache ??= (await $({ quiet: true, timeout: '30s' })`qemu-system-x86_64 --version`).stdout.split('\n')[0]!.trim();
  return qemuVersionCache;
}

async function waitFor<T>(what: string, timeoutMs: number, poll: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await poll();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} within ${Math.round(timeoutMs / 1000)} s${last ? ` (last: ${(last as Error).message})` : ''}`);
}

/**
 * Save the running VM `rec` into `dir`: migrate its memory to a file, stop QEMU, then take its overlay (untouched
 * since the migration stopped the guest) as the frozen disk. The VM is gone afterwards; restore it with
 * `restoreArgs`. Written under a temporary name and renamed, so a half-saved state is never found.
 */
export async function saveVmState(rec: VmRecord, dir: string, meta: Pick<SavedStateMeta, 'bootMs'>, stopVm: (rec: VmRecord) => Promise<void>): Promise<SavedState> {
  const started = Date.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const memory = join(tmp, 'memory.state');
  if (/[^A-Za-z0-9_./-]/.test(memory)) throw new Error(`lab cache path ${memory} holds characters QEMU's exec: migration cannot take; set ROLLGATE_LAB_CACHE`);
  try {
    await withQmp(rec.qmpSocket, async (q) => {
      await q.execute('migrate-set-parameters', { 'max-bandwidth': 8 * 1024 ** 3 });
      await q.execute('migrate', { uri: `exec:cat > ${memory}` }).catch((err: Error) => {
        // Refused before anything started: the guest runs on untouched.
        if (/non-migratable|migration is disabled|blocked/i.test(err.message)) throw new UnsaveableVmError(`${rec.name}: ${err.message}`);
        throw err;
      });
    });
    await waitFor(`${rec.name}: saving its memory did not finish`, 300_000, () =>
      withQmp(rec.qmpSocket, async (q) => {
        const r = await q.execute('query-migrate');
        if (r.status === 'failed' || r.status === 'cancelled') throw new Error(`migration ${r.status}: ${r['error-desc'] ?? ''}`);
        return r.status === 'completed' ? true : undefined;
      }),
    );
    await stopVm(rec);
    copyFileSync(rec.disk, join(tmp, 'disk.qcow2'));
    chmodSync(join(tmp, 'disk.qcow2'), 0o444);
    copyFileSync(rec.hostKey, join(tmp, 'ssh_host_ed25519_key'));
    copyFileSync(`${rec.hostKey}.pub`, join(tmp, 'ssh_host_ed25519_key.pub'));
    const full: SavedStateMeta = { savedAt: new Date().toISOString(), bootMs: meta.bootMs, saveMs: Date.now() - started, memoryBytes: statSync(memory).size };
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(full, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const saved = findSavedState(dir);
  if (!saved) throw new Error(`${rec.name}: saved state ${dir} is incomplete`);
  return saved;
}

/** Give the VM the saved state's host key (the one its guest installed) and a fresh overlay on the frozen disk. */
export async function prepareRestore(rec: VmRecord, saved: SavedState): Promise<string> {
  mkdirSync(rec.dir, { recursive: true });
  for (const suffix of ['', '.pub']) {
    rmSync(`${rec.hostKey}${suffix}`, { force: true });
    copyFileSync(`${saved.hostKey}${suffix}`, `${rec.hostKey}${suffix}`);
  }
  chmodSync(rec.hostKey, 0o600);
  rmSync(rec.disk, { force: true });
  await $({ quiet: true, timeout: '60s' })`qemu-img create -q -f qcow2 -b ${saved.disk} -F qcow2 ${rec.disk}`;
  return readFileSync(`${rec.hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

/** The `-incoming` argument that loads a saved state's memory. */
export function incomingFrom(saved: SavedState): string {
  if (/[^A-Za-z0-9_./-]/.test(saved.memory)) throw new Error(`lab cache path ${saved.memory} holds characters QEMU's exec: migration cannot take; set ROLLGATE_LAB_CACHE`);
  return `exec:cat ${saved.memory}`;
}

/** Wait until a VM started with `-incoming` has loaded its state and runs. */
export async function waitRestored(rec: VmRecord, timeoutMs = 120_000): Promise<void> {
  await waitFor(`${rec.name}: the saved state did not load`, timeoutMs, () =>
    withQmp(rec.qmpSocket, async (q) => {
      const { status } = await q.execute('query-status');
      if (status === 'running') return true;
      if (status === 'postmigrate' || status === 'paused') await q.execute('cont');
      const m = await q.execute('query-migrate');
      if (m.status === 'failed') throw new Error('incoming migration failed (QEMU or image changed? delete the booted/ directory of the image)');
      return undefined;
    }),
  );
}
