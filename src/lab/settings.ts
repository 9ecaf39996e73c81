/**
 * Where the lab keeps things and how long it waits, from the environment (flags override them in the CLI).
 * Times are TCG figures on a shared 2-core machine (see docs/lab.md): generous, and all configurable.
 */
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LabSettings {
  /** Built images and downloaded packages. ROLLGATE_LAB_CACHE, default $XDG_CACHE_HOME/rollgate/lab. */
  cacheDir: string;
  /** The running lab: VM overlays, sockets, pids, ports, keys. ROLLGATE_LAB_STATE, default $XDG_STATE_HOME/rollgate/lab. */
  stateDir: string;
  /** Debian mirror for debootstrap. ROLLGATE_LAB_MIRROR, default the first URI of /etc/apt/sources.list.d/debian.sources. */
  mirror: string;
  /** 'auto' probes KVM (a guest must really run), else TCG. ROLLGATE_LAB_ACCEL. */
  accel: 'auto' | 'tcg' | 'kvm';
  /** Guest memory, MiB. ROLLGATE_LAB_MEMORY_MB, default 1024. */
  memoryMb: number;
  /** VMs booting at once. ROLLGATE_LAB_MAX_PARALLEL, default 3. */
  maxParallel: number;
  /** qemu start (or reset) to SSH login. ROLLGATE_LAB_BOOT_TIMEOUT (s), default 900 (seen: 400-530 s with 4 VMs on a loaded 2-core host). */
  bootTimeoutMs: number;
  /** Pause between SSH login attempts while a VM boots. ROLLGATE_LAB_SSH_POLL (s), default 5. */
  sshPollMs: number;
  /** TCP + SSH handshake budget of one login attempt. ROLLGATE_LAB_SSH_CONNECT_TIMEOUT (s), default 30. */
  sshConnectTimeoutMs: number;
  /** The image build's first boot (GRUB install, initramfs). ROLLGATE_LAB_FIRSTBOOT_TIMEOUT (s), default 1500. */
  firstbootTimeoutMs: number;
  /** Whole image build. ROLLGATE_LAB_BUILD_TIMEOUT (s), default 3600. */
  buildTimeoutMs: number;
  /**
   * Start pristine VMs from a saved booted state (seconds) instead of a cold boot, saving one on the first cold
   * boot. ROLLGATE_LAB_SAVED_STATE=0 turns it off (every start is a cold boot). Default on.
   */
  savedStates: boolean;
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: expected a number of seconds greater than 0`);
  return n * 1000;
}

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw}: expected a whole number greater than 0`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === '1' || raw === '0') return raw === '1';
  throw new Error(`${name}=${raw}: expected 1 or 0`);
}

/** First `URIs:` of the host's Debian deb822 sources, the one mirror the guest image may come from. */
export function mirrorFromSources(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^URIs:\s*(\S+)/.exec(line);
    if (m && !/security/.test(m[1]!)) return m[1];
  }
  return undefined;
}

export function labSettings(env: NodeJS.ProcessEnv = process.env, readFile?: (p: string) => string): LabSettings {
  const home = homedir();
  const cacheHome = env.XDG_CACHE_HOME || join(home, '.cache');
  const stateHome = env.XDG_STATE_HOME || join(home, '.local', 'state');
  let mirror = env.ROLLGATE_LAB_MIRROR;
  if (!mirror && readFile) {
    try {
      mirror = mirrorFromSources(readFile('/etc/apt/sources.list.d/debian.sources'));
    } catch {
      // no deb822 sources: fall back below
    }
  }
  const accel = env.ROLLGATE_LAB_ACCEL || 'auto';
  if (accel !== 'auto' && accel !== 'tcg' && accel !== 'kvm') throw new Error(`ROLLGATE_LAB_ACCEL=${accel}: expected auto, tcg or kvm`);
  return {
    cacheDir: resolve(env.ROLLGATE_LAB_CACHE || join(cacheHome, 'rollgate', 'lab')),
    stateDir: resolve(env.ROLLGATE_LAB_STATE || join(stateHome, 'rollgate', 'lab')),
    mirror: mirror || 'http://deb.debian.org/debian',
    accel,
    memoryMb: count(env, 'ROLLGATE_LAB_MEMORY_MB', 1024),
    maxParallel: count(env, 'ROLLGATE_LAB_MAX_PARALLEL', 3),
    bootTimeoutMs: seconds(env, 'ROLLGATE_LAB_BOOT_TIMEOUT', 900),
    sshPollMs: seconds(env, 'ROLLGATE_LAB_SSH_POLL', 5),
    sshConnectTimeoutMs: seconds(env, 'ROLLGATE_LAB_SSH_CONNECT_TIMEOUT', 30),
    firstbootTimeoutMs: seconds(env, 'ROLLGATE_LAB_FIRSTBOOT_TIMEOUT', 1500),
    buildTimeoutMs: seconds(env, 'ROLLGATE_LAB_BUILD_TIMEOUT', 3600),
    savedStates: flag(env, 'ROLLGATE_LAB_SAVED_STATE', true),
  };
}

/** The image recipe shipped with rollgate (lab/image/ at the package root). */
export function recipeDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lab', 'image');
}

/** The systemd-boot image's derivation (lab/image-systemd-boot/ at the package root). */
export function sdbootRecipeDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lab', 'image-systemd-boot');
}

/** The guests image's derivation (lab/image-guests/ at the package root): libvirt and the nested guests' files. */
export function guestsRecipeDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lab', 'image-guests');
}
