/**
 * Starting a lab VM pristine: from its saved booted state when one exists (seconds), else by a cold boot through
 * its own GRUB, after which the booted guest is saved once so every later start and reset is a restore. A
 * restored guest's clock is set to the host's (it stopped when the state was saved).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SshConnection } from '../connection/ssh.js';
import { sh } from '../connection/shell-quote.js';
import type { Accel } from './qemu-args.js';
import {
  findSavedState, incomingFrom, prepareRestore, qemuVersion, savedStateDir, savedStateKey, saveVmState, unsaveableMarker, UnsaveableVmError,
  waitRestored, type SavedState,
} from './saved-state.js';
import type { LabSettings } from './settings.js';
import { labTarget, waitForSsh, type Ready } from './ssh-ready.js';
import type { VmRecord } from './state.js';
import { prepareVm, startVm, stopVm } from './vm.js';

export interface PristinePlan {
  /** Where this VM's saved state lives (or will). */
  dir: string;
  saved: SavedState | undefined;
  /** QEMU cannot save this VM (a non-migratable device): every pristine start is a cold boot. */
  unsaveable: boolean;
}

export interface PristineStart {
  ready: Ready;
  /** 'restored' from a saved state, or 'cold' (booted through GRUB, then saved when saved states are on). */
  how: 'restored' | 'cold';
  /** The cold boot's QEMU start to SSH login, ms (only for 'cold'). */
  coldBootMs?: number;
}

export interface LabContext {
  settings: LabSettings;
  accel: Accel;
  imageHash: string;
  imageBase: string;
  files: { operatorKey: string; knownHosts: string };
  /**
   * The profile's change to a freshly booted guest (stock-grub.ts), made before its state is saved: a restore gives
   * the changed guest again. Its id is part of the saved state's key.
   */
  setup?: { id: string; apply: (conn: SshConnection, rec: VmRecord, onPhase: (phase: string) => void) => Promise<void> };
}

/**
 * Saved states are for SeaBIOS VMs: a UEFI VM's variable store is a second writable flash the saved state does not
 * freeze (saved-state.ts freezes the disk), so those VMs always cold-boot.
 */
function savesStates(ctx: LabContext, rec: VmRecord): boolean {
  return ctx.settings.savedStates && !rec.efiVars;
}

async function stateKey(ctx: LabContext, rec: VmRecord): Promise<string> {
  return savedStateKey({
    imageHash: ctx.imageHash,
    rec,
    accel: ctx.accel,
    memoryMb: ctx.settings.memoryMb,
    qemuVersion: await qemuVersion(),
    ...(ctx.setup ? { setup: ctx.setup.id } : {}),
  });
}

/** Whether a pristine start of this VM restores a saved state ('restore') or pays a cold boot ('cold'). */
export async function pristineCost(ctx: LabContext, rec: VmRecord): Promise<'restore' | 'cold'> {
  const key = await stateKey(ctx, rec);
  const dir = savedStateDir(dirname(ctx.imageBase), key, rec.name);
  return savesStates(ctx, rec) && !existsSync(unsaveableMarker(dir)) && findSavedState(dir) ? 'restore' : 'cold';
}

/** Find the VM's saved state and give it the matching disk and host key (before known_hosts is written). */
export async function preparePristine(ctx: LabContext, rec: VmRecord): Promise<PristinePlan> {
  const key = await stateKey(ctx, rec);
  const dir = savedStateDir(dirname(ctx.imageBase), key, rec.name);
  const unsaveable = existsSync(unsaveableMarker(dir));
  const saved = savesStates(ctx, rec) && !unsaveable ? findSavedState(dir) : undefined;
  rmSync(rec.disk, { force: true }); // pristine: never an old overlay
  if (rec.efiVars) rmSync(rec.efiVars, { force: true }); // nor old EFI variables
  rec.hostPublicKey = saved ? await prepareRestore(rec, saved) : await prepareVm(rec, ctx.imageBase);
  return { dir, saved, unsaveable };
}

/** Start the prepared VM and wait for an SSH login (restoring, or booting and then saving). */
export async function startPristine(ctx: LabContext, rec: VmRecord, plan: PristinePlan, onPhase: (phase: string) => void = () => {}): Promise<PristineStart> {
  const { settings } = ctx;
  const target = labTarget(rec, ctx.files, 'root', settings.sshConnectTimeoutMs);
  if (plan.saved) return { ready: await restore(ctx, rec, plan.saved, onPhase), how: 'restored' };
  onPhase('cold boot');
  await startVm(rec, { accel: ctx.accel, memoryMb: settings.memoryMb });
  const booted = await waitForSsh(target, { timeoutMs: settings.bootTimeoutMs, pollMs: settings.sshPollMs, consoleLog: rec.consoleLog });
  if (ctx.setup) {
    onPhase(`profile setup (${ctx.setup.id})`);
    const conn = await SshConnection.open(target);
    try {
      await ctx.setup.apply(conn, rec, onPhase);
    } finally {
      await conn.close();
    }
  }
  if (!savesStates(ctx, rec) || plan.unsaveable) return { ready: booted, how: 'cold', coldBootMs: booted.waitedMs };
  onPhase('saving the booted state');
  await settle(target);
  let saved: SavedState;
  try {
    saved = await saveVmState(rec, plan.dir, { bootMs: booted.waitedMs }, stopVm);
  } catch (err) {
    if (!(err instanceof UnsaveableVmError)) throw err;
    // Remembered, so later starts do not try again; this VM keeps running from its cold boot.
    mkdirSync(dirname(plan.dir), { recursive: true });
    writeFileSync(unsaveableMarker(plan.dir), `${err.message}\n`);
    onPhase('cannot be saved (cold boots only)');
    return { ready: booted, how: 'cold', coldBootMs: booted.waitedMs };
  }
  await prepareRestore(rec, saved);
  const ready = await restore(ctx, rec, saved, onPhase);
  return { ready: { ...ready, waitedMs: booted.waitedMs }, how: 'cold', coldBootMs: booted.waitedMs };
}

async function restore(ctx: LabContext, rec: VmRecord, saved: SavedState, onPhase: (phase: string) => void): Promise<Ready> {
  const started = Date.now();
  onPhase('restoring the saved state');
  await startVm(rec, { accel: ctx.accel, memoryMb: ctx.settings.memoryMb, incoming: incomingFrom(saved) });
  await waitRestored(rec);
  const target = labTarget(rec, ctx.files, 'root', ctx.settings.sshConnectTimeoutMs);
  const ready = await waitForSsh(target, { timeoutMs: 120_000, pollMs: 500, consoleLog: rec.consoleLog });
  await setGuestClock(target);
  return { ...ready, waitedMs: Date.now() - started };
}

/** Let boot-time jobs finish (nothing half-started goes into the saved state), then flush the disk. */
async function settle(target: ReturnType<typeof labTarget>): Promise<void> {
  const conn = await SshConnection.open(target);
  try {
    await conn.exec('timeout 180 systemctl is-system-running --wait; sync', { timeoutMs: 200_000, become: false });
  } finally {
    await conn.close();
  }
}

/** The guest's clock stood still while its state was on disk: set it to the host's. */
export async function setGuestClock(target: ReturnType<typeof labTarget>): Promise<void> {
  const conn = await SshConnection.open(target);
  try {
    const now = (Date.now() / 1000).toFixed(3);
    const r = await conn.exec(sh`date -u -s @${now} >/dev/null`, { timeoutMs: 30_000, become: false });
    if (r.exitCode !== 0) throw new Error(`${target.name}: cannot set the guest clock: ${r.stderr.trim()}`);
  } finally {
    await conn.close();
  }
}
