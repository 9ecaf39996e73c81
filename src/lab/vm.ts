/**
 * One lab VM's lifetime on the host: its overlay disk, its host key, its QEMU process (daemonized, so VMs
 * outlive the CLI that started them) and stopping it. qemu-img, ssh-keygen and QEMU run through zx.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { pidAlive } from './lock-file.js';
import { LAB_KINDS } from './kinds.js';
import { checkQemuPath, OVMF_CODE, OVMF_VARS_TEMPLATE, qemuArgs, type Accel } from './qemu-args.js';
import type { VmRecord } from './state.js';
import { QmpPowerDriver } from '../power/qmp.js';

/** Local commands: output captured (never echoed), a failure thrown with its stderr. */
const run = $({ quiet: true });
export const QEMU = 'qemu-system-x86_64';

/** Paths and identity of a VM about to be created (no files touched). */
export function vmRecord(
  vmsDir: string,
  name: string,
  index: number,
  iommu: 'intel' | 'amd',
  sshPort: number,
  /** Boot through OVMF (UEFI) with a variable store of its own. */
  uefi = false,
  /** A NIC on the lab's private LAN (`lab up --guests`). */
  lan?: { mac: string; mcast: string },
): VmRecord {
  const dir = join(vmsDir, name);
  const rec: VmRecord = {
    name,
    index,
    kind: LAB_KINDS[iommu].name,
    iommu,
    sshPort,
    mac: `52:54:00:72:67:${(index + 1).toString(16).padStart(2, '0')}`,
    dir,
    disk: join(dir, 'overlay.qcow2'),
    qmpSocket: join(dir, 'qmp.sock'),
    consoleLog: join(dir, 'console.log'),
    pidFile: join(dir, 'qemu.pid'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    hostPublicKey: '',
    ...(uefi ? { efiVars: join(dir, 'OVMF_VARS.fd') } : {}),
    ...(lan ? { lan } : {}),
  };
  for (const p of [rec.disk, rec.qmpSocket, rec.consoleLog, rec.pidFile, rec.hostKey, rec.efiVars ?? '']) checkQemuPath(p);
  // sun_path holds 107 bytes.
  if (Buffer.byteLength(rec.qmpSocket) > 107) throw new Error(`QMP socket path too long for a unix socket: ${rec.qmpSocket}; set ROLLGATE_LAB_STATE to a shorter directory`);
  return rec;
}

/** Create the overlay (if missing) and the VM's own SSH host key (if missing). Returns the public key. */
export async function prepareVm(rec: VmRecord, imageBase: string): Promise<string> {
  mkdirSync(rec.dir, { recursive: true });
  if (!existsSync(rec.disk)) await createOverlay(rec.disk, imageBase);
  if (rec.efiVars && !existsSync(rec.efiVars)) {
    for (const f of [OVMF_CODE, OVMF_VARS_TEMPLATE])
      if (!existsSync(f)) throw new Error(`${rec.name} boots through UEFI, but ${f} is missing; run scripts/setup.sh (Debian's ovmf package)`);
    copyFileSync(OVMF_VARS_TEMPLATE, rec.efiVars);
  }
  if (!existsSync(rec.hostKey)) {
    await run`ssh-keygen -q -t ed25519 -N ${''} -C ${`${rec.name}@rollgate-lab`} -f ${rec.hostKey}`;
  }
  return readFileSync(`${rec.hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

export async function createOverlay(disk: string, imageBase: string): Promise<void> {
  rmSync(disk, { force: true });
  await run`qemu-img create -q -f qcow2 -b ${imageBase} -F qcow2 ${disk}`;
}

/** pid of the VM's QEMU when it is running (checked against /proc so a reused pid is not mistaken). */
export function vmPid(rec: VmRecord): number | undefined {
  if (!existsSync(rec.pidFile)) return undefined;
  const pid = Number(readFileSync(rec.pidFile, 'utf8').trim());
  if (!pidAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(rec.qmpSocket) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Start QEMU for the VM; resolves once QEMU has daemonized (the guest is booting). */
export async function startVm(rec: VmRecord, opts: { accel: Accel; memoryMb: number; incoming?: string }): Promise<number> {
  rmSync(rec.qmpSocket, { force: true });
  rmSync(rec.pidFile, { force: true });
  const args = qemuArgs({
    name: rec.name,
    kind: LAB_KINDS[rec.iommu],
    accel: opts.accel,
    memoryMb: opts.memoryMb,
    disk: rec.disk,
    sshPort: rec.sshPort,
    qmpSocket: rec.qmpSocket,
    consoleLog: rec.consoleLog,
    pidFile: rec.pidFile,
    hostKeyFile: rec.hostKey,
    hostKeyPubFile: `${rec.hostKey}.pub`,
    mac: rec.mac,
    ...(opts.incoming ? { incoming: opts.incoming } : {}),
    ...(rec.efiVars ? { firmware: { code: OVMF_CODE, vars: rec.efiVars } } : {}),
    ...(rec.lan ? { lan: rec.lan } : {}),
  });
  try {
    await run({ timeout: 60_000 })`${QEMU} ${args}`;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${rec.name}: QEMU did not start: ${(e.stderr || e.message).trim()}`);
  }
  const pid = vmPid(rec);
  if (!pid) throw new Error(`${rec.name}: QEMU daemonized but ${rec.pidFile} names no running process`);
  return pid;
}

/** Stop the VM's QEMU: QMP quit, then SIGTERM, then SIGKILL, each bounded. */
export async function stopVm(rec: VmRecord): Promise<void> {
  const pid = vmPid(rec);
  if (!pid) return;
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!pidAlive(pid)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return !pidAlive(pid);
  };
  await new QmpPowerDriver(rec.qmpSocket, 3000).quit().catch(() => undefined);
  if (await gone(10_000)) return;
  process.kill(pid, 'SIGTERM');
  if (await gone(5_000)) return;
  process.kill(pid, 'SIGKILL');
  await gone(5_000);
}
