/**
 * The QEMU command line of one lab VM, as a pure function of its spec (unit-tested). q35 with an emulated
 * IOMMU placed before the PCI devices it translates, pinned guest addresses, SSH on a loopback port of a
 * restricted user-mode network (the guest reaches nothing but the forwarded port), QMP socket, serial log.
 */
import type { LabKind } from './kinds.js';

export type Accel = 'tcg' | 'kvm';

export interface VmSpec {
  name: string;
  kind: LabKind;
  accel: Accel;
  /** Guest memory in MiB. Default 1024. */
  memoryMb: number;
  /** The VM's copy-on-write overlay (qcow2 backed by the base image). */
  disk: string;
  sshPort: number;
  qmpSocket: string;
  consoleLog: string;
  pidFile: string;
  /** Files handed to the guest through fw_cfg (hostname, SSH host key) for rollgate-lab-identity. */
  hostKeyFile: string;
  hostKeyPubFile: string;
  /** Locally administered MAC of the management NIC. */
  mac: string;
  /** Load a saved state instead of booting (`exec:cat FILE`, see saved-state.ts). */
  incoming?: string;
  /** Boot through UEFI: OVMF's code (read-only) and this VM's own variable store. Absent: SeaBIOS. */
  firmware?: { code: string; vars: string };
  /**
   * The lab's private network between VMs (`lab up --guests`): a second virtio NIC at 00:05.0 on a QEMU multicast
   * socket LAN (`group:port` on the host's loopback, nothing else of the host's network touched).
   */
  lan?: { mac: string; mcast: string };
}

/** OVMF as Debian's ovmf package installs it (4 MiB flash: the code and a variable store template). */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** Guest PCI slots of the devices every kind has. */
export const SLOTS = { disk: 0x2, mgmtNic: 0x3, gpu: 0x4, lanNic: 0x5, rootPort: 0x1c } as const;

/** TCG translation cache per VM, MiB (see the comment at -accel). */
export const TCG_TB_SIZE_MB = 128;

/** QMP id of the management NIC (what `set_link` takes for the link-down fault). */
export const MGMT_NIC_ID = 'mgmt-nic';

function slotOf(address: string): string {
  // '0000:00:04.1' -> '0x4.1'
  const m = /^[0-9a-f]{4}:[0-9a-f]{2}:([0-9a-f]{2})\.([0-7])$/i.exec(address);
  if (!m) throw new Error(`bad PCI address ${address}`);
  return `0x${parseInt(m[1]!, 16).toString(16)}.${m[2]}`;
}

export function qemuArgs(spec: VmSpec): string[] {
  const k = spec.kind;
  const args = [
    '-name', `${spec.name},process=rollgate-lab-${spec.name}`,
    '-machine', 'q35,kernel-irqchip=split',
    // A bounded translation cache: with TCG's default (1 GiB) a guest that ran for a while keeps millions of stale
    // blocks, and after its next reboot GRUB's loading of the initrd alone took over 140 s (64-256 MiB: 7-12 s).
    '-accel', spec.accel === 'tcg' ? `tcg,tb-size=${TCG_TB_SIZE_MB}` : spec.accel,
    '-cpu', `max,vendor=${k.cpuVendor},la57=off`,
    '-smp', '1',
    '-m', String(spec.memoryMb),
    '-nodefaults', '-vga', 'none', '-display', 'none',
    // A guest poweroff leaves QEMU running in state 'shutdown' so the power driver can switch it back on.
    '-no-shutdown',
    '-daemonize', '-pidfile', spec.pidFile,
    '-smbios', `type=1,manufacturer=rollgate-lab,product=${k.product},version=1,serial=${spec.name}`,
  ];
  if (spec.firmware) {
    args.push(
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${spec.firmware.code}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${spec.firmware.vars}`,
    );
  }
  // The IOMMU first: it translates only devices created after it.
  if (k.iommu === 'intel') args.push('-device', 'intel-iommu,intremap=on,caching-mode=on');
  // amd-iommu has no addr property: its PCI function takes the first free slot (00:01.0, every other device is pinned).
  else args.push('-device', 'amd-iommu,intremap=on');
  args.push(
    '-drive', `file=${spec.disk},format=qcow2,if=none,id=disk0,cache=unsafe,discard=unmap`,
    '-device', `virtio-blk-pci,drive=disk0,addr=0x${SLOTS.disk.toString(16)}`,
    '-netdev', `user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    '-device', `virtio-net-pci,netdev=mgmt,id=${MGMT_NIC_ID},mac=${spec.mac},addr=0x${SLOTS.mgmtNic.toString(16)}`,
  );
  if (spec.lan) {
    args.push(
      '-netdev', `socket,id=lan,mcast=${spec.lan.mcast},localaddr=127.0.0.1`,
      '-device', `virtio-net-pci,netdev=lan,id=lan-nic,mac=${spec.lan.mac},addr=0x${SLOTS.lanNic.toString(16)}`,
    );
  }
  k.passthrough.forEach((d, i) => {
    args.push('-device', `${d.model},addr=${slotOf(d.address)}${i === 0 && k.passthrough.length > 1 ? ',multifunction=on' : ''}`);
  });
  args.push(
    '-device', `pcie-root-port,id=rp1,chassis=1,port=1,addr=0x${SLOTS.rootPort.toString(16)}`,
    '-device', `${k.rootPortNic.model},bus=rp1,addr=0x0`,
    '-chardev', `file,id=serial0,path=${spec.consoleLog},append=on`,
    '-serial', 'chardev:serial0',
    '-qmp', `unix:${spec.qmpSocket},server=on,wait=off`,
    '-fw_cfg', `name=opt/rollgate/hostname,string=${spec.name}`,
    '-fw_cfg', `name=opt/rollgate/ssh_host_ed25519_key,file=${spec.hostKeyFile}`,
    '-fw_cfg', `name=opt/rollgate/ssh_host_ed25519_key.pub,file=${spec.hostKeyPubFile}`,
    '-rtc', 'base=utc',
  );
  if (spec.incoming) args.push('-incoming', spec.incoming);
  return args;
}

/** Refuse paths QEMU would misparse: commas split its option lists. */
export function checkQemuPath(path: string): void {
  if (path.includes(',')) throw new Error(`lab path ${path} contains a comma, which QEMU options cannot hold; set ROLLGATE_LAB_STATE to another directory`);
}
