/**
 * The lab as a whole: bring N VMs up (reusing running ones), take them down, reset one to pristine. Every
 * state change happens under the lab lock, so separate CLI invocations and test files share one lab.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { formatKnownHostsLine, knownHostsName } from '../connection/known-hosts.js';
import { SshConnection } from '../connection/ssh.js';
import { chooseAccel } from './accel.js';
import { ensureImage } from './image.js';
import { renderLabInventory } from './inventory-file.js';
import { kindFor, profileBootLoader, type LabProfile } from './kinds.js';
import { applyStockGrub, STOCK_GRUB_SETUP_ID } from './stock-grub.js';
import { GUESTS_SETUP_ID, guestTimeLines, lanKnownHosts, lanMac, lanMcast, setupGuests, shareLanHostKeys } from './lab-guests.js';
import { withLockFile } from './lock-file.js';
import { labTarget, waitForSsh, type Ready } from './ssh-ready.js';
import { hostNames, labHostName, labPaths, readLabState, writeLabState, type LabPaths, type LabState, type VmRecord } from './state.js';
import type { LabSettings } from './settings.js';
import { preparePristine, pristineCost, startPristine, type LabContext, type PristinePlan } from './pristine-start.js';
import { stopVm, vmPid, vmRecord } from './vm.js';

export type LabProgress =
  | { type: 'image'; line: string }
  | { type: 'vm'; host: string; phase: 'reused' | 'starting' | 'booting' | 'ready'; detail?: string }
  | { type: 'guests'; host: string; line: string };

export interface LabUpOptions {
  hosts: number;
  profile: LabProfile;
  /**
   * The guests image: libvirt in every VM with two nested guests running (movable-labN, pt-labN with the e1000e
   * passed through), a private LAN between the VMs for live migration (lab-guests.ts). GRUB profiles only.
   */
  guests?: boolean;
  /** Where to write the inventory; default lab/inventory.yml under the current directory. */
  inventoryFile?: string;
  onProgress?: (p: LabProgress) => void;
  /**
   * Wait for VMs already running to answer SSH too (default true: the operator's `lab up` after a test left one
   * rebooting). The e2e suite says false: its scenarios hold running VMs, maybe mid-reboot for minutes.
   */
  waitForRunning?: boolean;
  /**
   * How long to wait for another process's lab lock (its `lab up` may be building the image and cold-booting
   * every VM). Default: the build timeout plus two boot timeouts.
   */
  lockTimeoutMs?: number;
}

export interface LabUpResult {
  state: LabState;
  paths: LabPaths;
  inventoryFile: string;
  /** Cold boot times of the VMs this call booted, ms (qemu start to SSH login). */
  bootMs: Record<string, number>;
  /** Restore times of the VMs this call started from their saved state, ms (qemu start to SSH login + clock). */
  restoreMs: Record<string, number>;
  /** `--guests`: per VM this call booted cold, each guest's `virsh start` and boot to its ready line, ms. */
  guestTimes: Record<string, { start: Record<string, number>; ready: Record<string, number> }>;
}

/** At most this many hosts: the machine the lab was sized for has 2 cores. */
export const MAX_LAB_HOSTS = 8;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

export function writeKnownHosts(paths: LabPaths, state: LabState): void {
  const lines = hostNames(state).map((n) => {
    const vm = state.hosts[n]!;
    const [type, key] = vm.hostPublicKey.split(' ');
    return formatKnownHostsLine(knownHostsName('127.0.0.1', vm.sshPort), type!, key!);
  });
  writeFileSync(paths.knownHosts, lines.join(''));
}

function writeInventory(file: string, state: LabState, paths: LabPaths): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderLabInventory(state, paths));
}

/** Run tasks with at most `limit` in flight. */
async function bounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        try {
          await fn(item);
        } catch (err) {
          errors.push(err);
        }
      }
    }),
  );
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new Error(errors.map((e) => (e as Error).message).join('\n'));
}

function labContext(
  settings: LabSettings,
  state: LabState,
  paths: LabPaths,
  onGuestTimes?: (host: string, t: { start: Record<string, number>; ready: Record<string, number> }) => void,
): LabContext {
  return {
    settings,
    accel: state.accel,
    imageHash: state.imageHash,
    imageBase: state.imageBase,
    files: labFiles(paths),
    ...(state.profile === 'stock-grub' ? { setup: { id: STOCK_GRUB_SETUP_ID, apply: applyStockGrub } } : {}),
    ...(state.guests
      ? {
          setup: {
            id: GUESTS_SETUP_ID,
            apply: async (conn, rec, onPhase) => {
              const t = await setupGuests(conn, rec, onPhase);
              onGuestTimes?.(rec.name, t);
            },
          },
        }
      : {}),
  };
}

export function labFiles(paths: LabPaths): { operatorKey: string; knownHosts: string } {
  return { operatorKey: paths.operatorKey, knownHosts: paths.knownHosts };
}

/** Start (or reuse) lab1..labN, wait until each accepts an SSH login, write known_hosts and the inventory. */
export async function labUp(settings: LabSettings, opts: LabUpOptions): Promise<LabUpResult> {
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > MAX_LAB_HOSTS) {
    throw new Error(`--hosts ${opts.hosts}: expected 1 to ${MAX_LAB_HOSTS}`);
  }
  const paths = labPaths(settings.stateDir);
  const progress = opts.onProgress ?? (() => {});
  const inventoryFile = resolve(opts.inventoryFile ?? 'lab/inventory.yml');
  const lockWait = opts.lockTimeoutMs ?? settings.bootTimeoutMs * 2 + settings.buildTimeoutMs;
  return withLockFile(paths.lockFile, lockWait, 'lab up', async () => {
    let state = readLabState(paths);
    const running = state ? hostNames(state).filter((n) => vmPid(state!.hosts[n]!) !== undefined) : [];
    // Check before touching anything: a running host of another kind cannot be turned into this profile.
    for (let i = 0; i < opts.hosts; i++) {
      const name = labHostName(i);
      const vm = state?.hosts[name];
      const want = kindFor(opts.profile, i);
      if (vm && running.includes(name) && vm.iommu !== want.iommu) {
        throw new Error(`${name} runs as ${vm.kind}, profile ${opts.profile} wants ${want.name} there; run \`rollgate lab down\` first`);
      }
    }
    const loader = profileBootLoader(opts.profile);
    const guests = opts.guests === true;
    if (guests && (loader !== 'grub' || opts.profile === 'stock-grub')) {
      throw new Error(`--guests: the guests image is derived from the GRUB image of the intel, amd and mixed profiles, not ${opts.profile}`);
    }
    if (state && running.length && (state.guests === true) !== guests) {
      throw new Error(`the lab runs ${state.guests ? 'with' : 'without'} --guests, its running VMs cannot change that; run \`rollgate lab down\` first`);
    }
    if (state && running.length && (state.profile === 'stock-grub') !== (opts.profile === 'stock-grub')) {
      throw new Error(`the lab runs profile ${state.profile}, its running VMs cannot become profile ${opts.profile}; run \`rollgate lab down\` first`);
    }
    if (state && running.length && profileBootLoader(state.profile) !== loader) {
      throw new Error(`the lab runs profile ${state.profile} (${profileBootLoader(state.profile)}), profile ${opts.profile} boots ${loader}; run \`rollgate lab down\` first`);
    }
    const image = await ensureImage(settings, (line) => progress({ type: 'image', line }), state && running.length ? [state.imageHash] : [], guests ? 'guests' : loader);
    if (!state || running.length === 0) {
      // The KVM probe boots its image through SeaBIOS: the systemd-boot image's GRUB base stands in for it.
      const probe = image.manifest.baseImage ? join(dirname(image.dir), image.manifest.baseImage, 'base.qcow2') : image.base;
      state = { version: 1, profile: opts.profile, accel: await chooseAccel(settings, probe), imageHash: image.hash, imageBase: image.base, hosts: {} };
      rmSync(paths.vmsDir, { recursive: true, force: true });
    }
    state.profile = opts.profile;
    if (guests) state.guests = true;
    else delete state.guests;
    mkdirSync(paths.stateDir, { recursive: true });
    if (!existsSync(paths.operatorKey) || running.length === 0) {
      rmSync(paths.operatorKey, { force: true });
      copyFileSync(image.operatorKey, paths.operatorKey);
      chmodSync(paths.operatorKey, 0o600);
    }
    const toStart: VmRecord[] = [];
    const plans = new Map<string, PristinePlan>();
    const guestTimes: Record<string, { start: Record<string, number>; ready: Record<string, number> }> = {};
    const ctx = labContext(settings, state, paths, (host, t) => {
      guestTimes[host] = t;
      for (const line of guestTimeLines(t)) progress({ type: 'guests', host, line });
    });
    const lan = guests ? lanMcast(paths.stateDir) : undefined;
    for (let i = 0; i < opts.hosts; i++) {
      const name = labHostName(i);
      if (running.includes(name)) continue;
      const old = state.hosts[name];
      const port = old && (await portFree(old.sshPort)) ? old.sshPort : await freePort();
      const rec = vmRecord(paths.vmsDir, name, i, kindFor(opts.profile, i).iommu, port, loader === 'systemd-boot', lan ? { mac: lanMac(i), mcast: lan } : undefined);
      rmSync(`${rec.dir}/link-down`, { force: true });
      plans.set(name, await preparePristine(ctx, rec)); // a VM that is not running starts pristine
      state.hosts[name] = rec;
      toStart.push(rec);
    }
    writeLabState(paths, state);
    writeKnownHosts(paths, state);
    const bootMs: Record<string, number> = {};
    const restoreMs: Record<string, number> = {};
    const files = labFiles(paths);
    // Reused hosts must answer too (a test may have left one rebooting).
    const reused = opts.waitForRunning === false ? [] : running.filter((n) => labHostName(state!.hosts[n]!.index) && state!.hosts[n]!.index < opts.hosts);
    await bounded([...toStart.map((r) => r.name), ...reused], settings.maxParallel, async (name) => {
      const rec = state!.hosts[name]!;
      const fresh = toStart.includes(rec);
      let ready: Ready;
      if (fresh) {
        progress({ type: 'vm', host: name, phase: 'starting', detail: `ssh port ${rec.sshPort}` });
        const started = await startPristine(ctx, rec, plans.get(name)!, (phase) => progress({ type: 'vm', host: name, phase: 'booting', detail: phase }));
        ready = started.ready;
        if (started.how === 'cold') bootMs[name] = started.coldBootMs ?? ready.waitedMs;
        else restoreMs[name] = ready.waitedMs;
      } else {
        progress({ type: 'vm', host: name, phase: 'reused' });
        progress({ type: 'vm', host: name, phase: 'booting', detail: `ssh port ${rec.sshPort}` });
        ready = await waitForSsh(labTarget(rec, files, 'root', settings.sshConnectTimeoutMs), {
          timeoutMs: settings.bootTimeoutMs,
          pollMs: settings.sshPollMs,
          consoleLog: rec.consoleLog,
        });
      }
      const how = restoreMs[name] !== undefined ? ' (restored)' : bootMs[name] !== undefined ? ' (cold boot)' : '';
      progress({ type: 'vm', host: name, phase: 'ready', detail: `${Math.round(ready.waitedMs / 1000)} s${how}` });
    });
    if (state.guests) {
      // Every VM learns the others' host keys (exact, for libvirt's qemu+ssh migration over the LAN).
      const vms = Object.values(state.hosts);
      const known = lanKnownHosts(vms);
      for (const vm of vms.filter((v) => vmPid(v) !== undefined)) {
        const conn = await SshConnection.open(labTarget(vm, files, 'root', settings.sshConnectTimeoutMs));
        try {
          await shareLanHostKeys(conn, known);
        } finally {
          await conn.close();
        }
      }
    }
    writeInventory(inventoryFile, state, paths);
    return { state, paths, inventoryFile, bootMs, restoreMs, guestTimes };
  });
}

/** Stop every VM; their overlays are deleted unless keepDisks (so the next up starts pristine). */
export async function labDown(
  settings: LabSettings,
  opts: { keepDisks?: boolean; inventoryFile?: string; /** How long to wait for another process's lab lock. */ lockTimeoutMs?: number } = {},
): Promise<string[]> {
  const paths = labPaths(settings.stateDir);
  return withLockFile(paths.lockFile, opts.lockTimeoutMs ?? settings.bootTimeoutMs * 2, 'lab down', async () => {
    const state = readLabState(paths);
    if (!state) return [];
    const names = hostNames(state);
    await Promise.all(names.map((n) => stopVm(state.hosts[n]!)));
    if (!opts.keepDisks) {
      for (const n of names) rmSync(state.hosts[n]!.disk, { force: true });
      rmSync(paths.stateFile, { force: true });
    }
    const inv = resolve(opts.inventoryFile ?? 'lab/inventory.yml');
    rmSync(inv, { force: true });
    return names;
  });
}

/** Put one VM back to pristine: stop it, new overlay, start, wait for SSH. */
export async function labReset(settings: LabSettings, host: string): Promise<Ready> {
  const paths = labPaths(settings.stateDir);
  return withLockFile(paths.lockFile, settings.bootTimeoutMs * 2, 'lab reset', async () => {
    const state = readLabState(paths);
    const rec = state?.hosts[host];
    if (!state || !rec) throw new Error(`no lab host ${host}${state ? ` (hosts: ${hostNames(state).join(', ')})` : ' (the lab is not up)'}`);
    await stopVm(rec);
    rmSync(`${rec.dir}/link-down`, { force: true });
    if (!(await portFree(rec.sshPort))) throw new Error(`${host}: port ${rec.sshPort} is taken by another process`);
    const ctx = labContext(settings, state, paths);
    const before = rec.hostPublicKey;
    const plan = await preparePristine(ctx, rec);
    if (rec.hostPublicKey !== before) {
      // A saved state brings the host key its guest installed: known_hosts must say so before the login. Re-read
      // the state first: resets of other hosts may have written it meanwhile.
      const now = readLabState(paths) ?? state;
      now.hosts[host] = rec;
      writeLabState(paths, now);
      writeKnownHosts(paths, now);
    }
    const ready = (await startPristine(ctx, rec, plan)).ready;
    if (state.guests) {
      // A saved state predates the LAN's known_hosts (written after every up): give it again.
      const now = readLabState(paths) ?? state;
      const conn = await SshConnection.open(labTarget(rec, labFiles(paths), 'root', settings.sshConnectTimeoutMs));
      try {
        await shareLanHostKeys(conn, lanKnownHosts(Object.values(now.hosts)));
      } finally {
        await conn.close();
      }
    }
    return ready;
  });
}

/** What putting a host back to pristine costs: a restore of its saved state (seconds) or a cold boot (minutes). */
export async function resetCost(settings: LabSettings, host: string): Promise<'restore' | 'cold'> {
  const { state, paths, vm } = requireHost(settings, host);
  return pristineCost(labContext(settings, state, paths), vm);
}

/** The running lab's state, or a clear error. */
export function requireLab(settings: LabSettings): { state: LabState; paths: LabPaths } {
  const paths = labPaths(settings.stateDir);
  const state = readLabState(paths);
  if (!state) throw new Error(`the lab is not up (no ${paths.stateFile}); run \`rollgate lab up\``);
  return { state, paths };
}

export function requireHost(settings: LabSettings, host: string): { state: LabState; paths: LabPaths; vm: VmRecord } {
  const { state, paths } = requireLab(settings);
  const vm = state.hosts[host];
  if (!vm) throw new Error(`no lab host ${host} (hosts: ${hostNames(state).join(', ')})`);
  return { state, paths, vm };
}

/** A root SSH connection to a lab VM (the lab's own machinery: faults, fixtures). */
export function connectLabHost(settings: LabSettings, host: string, user = 'root'): Promise<SshConnection> {
  const { paths, vm } = requireHost(settings, host);
  return SshConnection.open(labTarget(vm, labFiles(paths), user, settings.sshConnectTimeoutMs));
}
