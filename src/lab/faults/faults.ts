/**
 * Faults on demand for tests and rehearsals: `rollgate lab fault HOST KIND` arms one, `clear` disarms all.
 * Each is something that really happens inside the guest or to its virtual hardware (see guest-files.ts and
 * docs/lab.md); none is a flag rollgate reads.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '../../connection/connection.js';
import { joinSh, raw, sh, type ShellFragment } from '../../connection/shell-quote.js';
import { QmpPowerDriver } from '../../power/qmp.js';
import { hostDriversById } from '../kinds.js';
import { MGMT_NIC_ID } from '../qemu-args.js';
import type { VmRecord } from '../state.js';
import { FAULT_DIR, FAULT_LIB, hangOnceFiles, hostDriverFiles, slowBootFiles, sshdDownFiles, type GuestFile } from './guest-files.js';

export const FAULT_KINDS = ['bad-kernel', 'no-vfio-after-boot', 'sshd-down', 'link-down', 'slow-boot', 'hang-once'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The lab's bad kernel: in the guest's local apt repository, installed by the bad-kernel fault. */
export const BAD_KERNEL_ABI = '6.1.0-99-amd64';
export const BAD_KERNEL_PACKAGE = `linux-image-${BAD_KERNEL_ABI}`;

export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'bad-kernel': `installs ${BAD_KERNEL_PACKAGE} from the guest's apt repository: the newest boot entry (GRUB's menu, or systemd-boot's loader entry by kernel-install), whose initramfs has no disk drivers, so its boot never finds the root disk`,
  'no-vfio-after-boot': 'from the next boot on, the host driver claims the passthrough devices before vfio-pci (driver_override at early boot); on a VM with libvirt guests (lab up --guests) the next boot also has no vfio-pci module, so a guest holding a device cannot start',
  'sshd-down': 'sshd does not start on the next boot (one boot only)',
  'link-down': 'the management NIC loses link now (QMP set_link off); lasts until clear, across reboots',
  'slow-boot': 'the next boot waits before sshd starts (default 120 s)',
  'hang-once': 'the next shutdown or reboot hangs after sshd stopped, until a power reset (once)',
};

export interface FaultContext {
  vm: VmRecord;
  /** Root connection to the guest (needed by every kind except link-down). */
  connect: () => Promise<Connection>;
  /** slow-boot delay, seconds. */
  slowBootSeconds?: number;
}

const UNITS = {
  'no-vfio-after-boot': 'rollgate-lab-fault-host-driver.service',
  'sshd-down': 'rollgate-lab-fault-sshd-down.service',
  'slow-boot': 'rollgate-lab-fault-slow-boot.service',
  'hang-once': 'rollgate-lab-fault-hang-once.service',
} as const;

function writeFiles(files: GuestFile[]): ShellFragment {
  return joinSh(
    files.map((f) => sh`mkdir -p "$(dirname ${f.path})" && printf '%s' ${f.content} > ${f.path} && chmod ${f.mode.toString(8)} ${f.path}`),
    ' && ',
  );
}

async function mustRun(conn: Connection, cmd: ShellFragment, what: string, timeoutMs = 120_000): Promise<string> {
  const r = await conn.exec(cmd, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`${conn.host}: ${what} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

function linkMarker(vm: VmRecord): string {
  return join(vm.dir, 'link-down');
}

/** Arm one fault on one VM. */
export async function armFault(kind: FaultKind, ctx: FaultContext): Promise<void> {
  if (kind === 'link-down') {
    await new QmpPowerDriver(ctx.vm.qmpSocket).setLink(MGMT_NIC_ID, false);
    writeFileSync(linkMarker(ctx.vm), 'down\n');
    return;
  }
  const conn = await ctx.connect();
  try {
    switch (kind) {
      case 'bad-kernel':
        // Its boot entry proven written by the host's own hooks: update-grub's grub.cfg, or on systemd-boot the
        // loader entry kernel-install wrote on the ESP (Debian's /etc/kernel/postinst.d/zz-systemd-boot).
        await mustRun(conn, sh`DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${BAD_KERNEL_PACKAGE} && if [ -d /boot/grub ]; then grep -q ${`vmlinuz-${BAD_KERNEL_ABI}`} /boot/grub/grub.cfg; else grep -qls ${`^version  *${BAD_KERNEL_ABI}$`} /efi/loader/entries/*.conf /boot/efi/loader/entries/*.conf /boot/loader/entries/*.conf; fi`,
          `installing ${BAD_KERNEL_PACKAGE}`, 20 * 60_000);
        return;
      case 'no-vfio-after-boot':
        await mustRun(conn, sh`${writeFiles(hostDriverFiles(hostDriversById()))} && mkdir -p ${FAULT_DIR} && touch ${`${FAULT_DIR}/${kind}`} && systemctl daemon-reload && systemctl enable -q ${UNITS[kind]} && sync`, `arming ${kind}`);
        return;
      case 'sshd-down':
        await mustRun(conn, sh`${writeFiles(sshdDownFiles())} && mkdir -p ${FAULT_DIR} && touch ${`${FAULT_DIR}/${kind}`} && systemctl daemon-reload && systemctl enable -q ${UNITS[kind]} && sync`, `arming ${kind}`);
        return;
      case 'slow-boot': {
        const secs = Math.round(ctx.slowBootSeconds ?? 120);
        await mustRun(conn, sh`${writeFiles(slowBootFiles())} && mkdir -p ${FAULT_DIR} && echo ${secs} > ${`${FAULT_DIR}/${kind}`} && systemctl daemon-reload && systemctl enable -q ${UNITS[kind]} && sync`, `arming ${kind}`);
        return;
      }
      case 'hang-once':
        // Started now, so the coming shutdown runs its stop (the hang).
        await mustRun(conn, sh`${writeFiles(hangOnceFiles())} && mkdir -p ${FAULT_DIR} && touch ${`${FAULT_DIR}/${kind}`} && systemctl daemon-reload && systemctl enable -q --now ${UNITS[kind]} && sync`, `arming ${kind}`);
        return;
    }
  } finally {
    await conn.close();
  }
}

/** What is armed or in effect on one VM, as far as the guest shows it. */
export async function listFaults(ctx: FaultContext): Promise<string[]> {
  const found: string[] = [];
  if (existsSync(linkMarker(ctx.vm))) found.push('link-down');
  const conn = await ctx.connect();
  try {
    const r = await conn.exec(sh`ls ${FAULT_DIR} 2>/dev/null; dpkg-query -W -f='${raw('${Status}')}' ${BAD_KERNEL_PACKAGE} 2>/dev/null | grep -q 'install ok installed' && echo bad-kernel; [ -e /run/rollgate-lab-sshd-down ] && echo sshd-down; true`);
    for (const line of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) if (!found.includes(line)) found.push(line);
  } finally {
    await conn.close();
  }
  return found;
}

/** Disarm every fault: link up, markers, units and scripts gone, the bad kernel purged (update-grub runs). */
export async function clearFaults(ctx: FaultContext): Promise<void> {
  await new QmpPowerDriver(ctx.vm.qmpSocket).setLink(MGMT_NIC_ID, true);
  rmSync(linkMarker(ctx.vm), { force: true });
  let conn: Connection;
  try {
    conn = await ctx.connect();
  } catch (err) {
    throw new Error(`${ctx.vm.name}: link is up again, but the guest cannot be reached over SSH to clear the rest (${(err as Error).message}). ` +
      'sshd-down lasts one boot: power-reset the VM (`rollgate lab power HOST reset`) and clear again, or `rollgate lab reset HOST` for a pristine disk.');
  }
  try {
    const units = Object.values(UNITS);
    await mustRun(conn, sh`rm -rf ${FAULT_DIR} /run/rollgate-lab-sshd-down /run/modprobe.d/rollgate-lab-fault-no-vfio.conf
for u in ${units}; do systemctl disable -q --now "$u" 2>/dev/null || true; rm -f "/etc/systemd/system/$u"; done
rm -rf ${FAULT_LIB} /etc/systemd/system/ssh.service.d/rollgate-lab-fault-sshd-down.conf
for o in /sys/bus/pci/devices/*/driver_override; do for d in ${[...new Set(hostDriversById().values())]}; do [ "$(cat "$o")" = "$d" ] && echo > "$o"; done; done
systemctl daemon-reload
if dpkg-query -W -f='${raw('${Status}')}' ${BAD_KERNEL_PACKAGE} 2>/dev/null | grep -q 'ok installed'; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ${BAD_KERNEL_PACKAGE}; fi
sync`, 'clearing faults', 20 * 60_000);
  } finally {
    await conn.close();
  }
}
