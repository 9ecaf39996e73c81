/**
 * Throwaway host roots for the module integration tests (`rollgate_root`). Each profile lays out the files a
 * distro has and copies the test doubles from test/fixtures/doubles/ into usr/sbin and usr/bin; see the header of
 * each double for exactly what it does. The doubles generate their outputs (grub.cfg, boot entries, initrd
 * manifests) from the files the modules edit, deterministically, so "undo restores byte-identical files" and
 * "check changes nothing" can be measured by hashing the whole root.
 */
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_KERNEL = '6.1.0-test';
const DOUBLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'doubles');

export type RootProfile = 'debian' | 'fedora-bls' | 'fedora-legacy' | 'systemd-boot' | 'proxmox';

export interface RootOptions {
  cpu?: 'intel' | 'amd';
  /** PCI devices under sys/: address, vendor:device, class, IOMMU group, bound driver. */
  pci?: Array<{ addr: string; id: string; cls: string; group: number; driver?: string }>;
}

export function put(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
  chmodSync(full, mode);
}

export function double(root: string, name: string, dir = 'usr/sbin', as = name): void {
  mkdirSync(join(root, dir), { recursive: true });
  copyFileSync(join(DOUBLES, name), join(root, dir, as));
  chmodSync(join(root, dir, as), 0o755);
}

export const DEBIAN_GRUB = `# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
GRUB_DEFAULT=saved
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=\`lsb_release -i -s 2> /dev/null || echo Debian\`
GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,115200n8 quiet"
GRUB_CMDLINE_LINUX=""
GRUB_TERMINAL="console serial"
`;

export const INITRAMFS_MODULES = `# List of modules that you want to include in your initramfs.
# They will be loaded at boot time in the order below.
#
# Syntax:  module_name [args ...]
`;

/** The lab's passthrough candidates: a NIC alone in its group, a GPU + audio pair behind a bridge, ICH9 functions sharing one group. */
export const LAB_PCI: NonNullable<RootOptions['pci']> = [
  { addr: '0000:00:02.0', id: '1b36:000c', cls: '060400', group: 2, driver: 'pcieport' },
  { addr: '0000:01:00.0', id: '8086:10d3', cls: '020000', group: 3, driver: 'e1000e' },
  { addr: '0000:00:03.0', id: '1b36:000c', cls: '060400', group: 4, driver: 'pcieport' },
  { addr: '0000:02:00.0', id: '10de:1e87', cls: '030000', group: 4, driver: 'nouveau' },
  { addr: '0000:02:00.1', id: '10de:10f8', cls: '040300', group: 4, driver: 'snd_hda_intel' },
  { addr: '0000:00:1f.0', id: '8086:2918', cls: '060100', group: 5, driver: 'lpc_ich' },
  { addr: '0000:00:1f.2', id: '8086:2922', cls: '010601', group: 5, driver: 'ahci' },
  { addr: '0000:00:1f.3', id: '8086:2930', cls: '0c0500', group: 5, driver: 'i801_smbus' },
  { addr: '0000:00:1b.0', id: '8086:293e', cls: '040300', group: 6 },
];

const FEDORA_GRUB = `GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="$(sed 's, release .*$,,g' /etc/system-release 2>/dev/null)"
GRUB_DEFAULT=saved
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="rhgb quiet"
GRUB_DISABLE_RECOVERY="true"
`;

function common(root: string, opts: RootOptions): void {
  const vendor = opts.cpu === 'amd' ? 'AuthenticAMD' : 'GenuineIntel';
  put(
    root,
    'proc/cpuinfo',
    `processor\t: 0\nvendor_id\t: ${vendor}\nflags\t\t: fpu ${opts.cpu === 'amd' ? 'svm' : 'vmx'}\n\nprocessor\t: 1\nvendor_id\t: ${vendor}\n`,
  );
  put(root, 'proc/cmdline', `BOOT_IMAGE=/boot/vmlinuz-${TEST_KERNEL} root=UUID=0000 ro quiet\n`);
  put(root, 'proc/sys/kernel/osrelease', `${TEST_KERNEL}\n`);
  put(root, 'proc/sys/kernel/random/boot_id', 'a1b2c3d4-0000-4000-8000-000000000001\n');
  put(root, `usr/lib/modules/${TEST_KERNEL}/modules.builtin`, 'kernel/drivers/pci/pci-stub.ko\n');
  put(root, 'etc/modprobe.d/existing.conf', '# shipped by a package\noptions snd_hda_intel power_save=1\n');
  for (const d of opts.pci ?? []) {
    const dev = `sys/bus/pci/devices/${d.addr}`;
    const [vendor_, device] = d.id.split(':');
    put(root, `${dev}/vendor`, `0x${vendor_}\n`);
    put(root, `${dev}/device`, `0x${device}\n`);
    put(root, `${dev}/class`, `0x${d.cls}\n`);
    put(root, `${dev}/driver_override`, '(null)\n');
    mkdirSync(join(root, `sys/kernel/iommu_groups/${d.group}/devices`), { recursive: true });
    symlinkSync(
      `../../../../bus/pci/devices/${d.addr}`,
      join(root, `sys/kernel/iommu_groups/${d.group}/devices/${d.addr}`),
    );
    symlinkSync(`../../../../kernel/iommu_groups/${d.group}`, join(root, `${dev}/iommu_group`));
    if (d.driver) {
      mkdirSync(join(root, `sys/bus/pci/drivers/${d.driver}`), { recursive: true });
      put(root, `sys/bus/pci/drivers/${d.driver}/unbind`, '');
      symlinkSync(`../../drivers/${d.driver}`, join(root, `${dev}/driver`));
      if (!existsSync(join(root, `sys/bus/pci/drivers/${d.driver}/module`)) && d.driver !== 'pcieport') {
        mkdirSync(join(root, `sys/module/${d.driver}`), { recursive: true });
        symlinkSync(`../../../../module/${d.driver}`, join(root, `sys/bus/pci/drivers/${d.driver}/module`));
      }
    }
  }
  if (opts.pci?.length) put(root, 'sys/bus/pci/drivers_probe', '');
  double(root, 'systemctl', 'usr/bin');
  double(root, 'logger', 'usr/bin');
}

/** Regenerate what the doubles derive (grub.cfg, initrd) after a test edits the root's files by hand. */
export function rebuildDerived(root: string): void {
  if (existsSync(join(root, 'usr/sbin/update-grub'))) runDouble(root, 'usr/sbin/update-grub', []);
  if (existsSync(join(root, 'usr/sbin/update-initramfs')))
    runDouble(root, 'usr/sbin/update-initramfs', ['-u', '-k', TEST_KERNEL]);
  if (existsSync(join(root, 'usr/bin/dracut'))) runDouble(root, 'usr/bin/dracut', ['-f', '--kver', TEST_KERNEL]);
}

export function runDouble(root: string, path: string, args: string[]): void {
  execFileSync(join(root, path), args, { env: { ...process.env, ROLLGATE_ROOT: root }, stdio: 'pipe' });
}

/** Lay out a profile under an existing empty directory. */
export function buildRoot(root: string, profile: RootProfile, opts: RootOptions = {}): void {
  common(root, opts);
  switch (profile) {
    case 'debian':
      put(root, 'etc/default/grub', DEBIAN_GRUB);
      put(root, `boot/vmlinuz-${TEST_KERNEL}`, 'kernel image\n');
      put(root, `boot/initrd.img-${TEST_KERNEL}`, 'initrd\n');
      double(root, 'grub-mkconfig');
      double(root, 'update-grub');
      double(root, 'grub-set-default');
      runDouble(root, 'usr/sbin/update-grub', []);
      put(root, 'boot/grub/grubenv', `# GRUB Environment Block\nsaved_entry=linux-${TEST_KERNEL}\n${'#'.repeat(64)}\n`);
      put(root, 'var/lib/rollgate-test/available', `${TEST_KERNEL}\n6.1.0-51-test\n`);
      put(root, 'var/lib/rollgate-test/meta', '');
      double(root, 'apt-get', 'usr/bin');
      double(root, 'apt-mark', 'usr/bin');
      double(root, 'dpkg-query', 'usr/bin');
      put(root, 'etc/initramfs-tools/modules', INITRAMFS_MODULES);
      double(root, 'update-initramfs');
      double(root, 'lsinitramfs', 'usr/bin');
      double(root, 'modprobe', 'sbin');
      runDouble(root, 'usr/sbin/update-initramfs', ['-u', '-k', TEST_KERNEL]);
      break;
    case 'fedora-bls':
      put(root, 'etc/default/grub', `${FEDORA_GRUB}GRUB_ENABLE_BLSCFG=true\n`);
      put(
        root,
        `boot/loader/entries/0000-${TEST_KERNEL}.conf`,
        `title Fedora (${TEST_KERNEL})\nversion ${TEST_KERNEL}\nlinux /vmlinuz-${TEST_KERNEL}\ninitrd /initramfs-${TEST_KERNEL}.img\noptions root=UUID=0000 ro rhgb quiet\ngrub_users $grub_users\n`,
      );
      put(
        root,
        'boot/loader/entries/0000-0-rescue.conf',
        `title Fedora (0-rescue)\nversion 0-rescue\nlinux /vmlinuz-0-rescue\noptions root=UUID=0000 ro rhgb quiet\n`,
      );
      put(root, 'boot/grub2/grubenv', `# GRUB Environment Block\nsaved_entry=0000-${TEST_KERNEL}\n${'#'.repeat(64)}\n`);
      double(root, 'grubby');
      double(root, 'grub-mkconfig', 'usr/sbin', 'grub2-mkconfig');
      mkdirSync(join(root, 'etc/dracut.conf.d'), { recursive: true });
      put(root, `usr/lib/modules/${TEST_KERNEL}/vmlinuz`, 'kernel image\n');
      put(root, `boot/vmlinuz-${TEST_KERNEL}`, 'kernel image\n');
      put(root, `boot/initramfs-${TEST_KERNEL}.img`, 'initramfs\n');
      put(root, 'var/lib/rollgate-test/available', `${TEST_KERNEL}\n6.5.7-300.fc39.x86_64\n`);
      double(root, 'dnf', 'usr/bin');
      double(root, 'dracut', 'usr/bin');
      double(root, 'lsinitrd', 'usr/bin');
      double(root, 'modprobe', 'usr/sbin');
      runDouble(root, 'usr/bin/dracut', ['-f', '--kver', TEST_KERNEL]);
      break;
    case 'fedora-legacy':
      put(root, 'etc/default/grub', FEDORA_GRUB);
      put(root, `boot/vmlinuz-${TEST_KERNEL}`, 'kernel image\n');
      double(root, 'grub-mkconfig', 'usr/sbin', 'grub2-mkconfig');
      runDouble(root, 'usr/sbin/grub2-mkconfig', ['-o', '/boot/efi/EFI/fedora/grub.cfg']);
      break;
    case 'systemd-boot':
      put(root, 'etc/kernel/cmdline', 'root=UUID=0000 rw quiet\n');
      put(root, `usr/lib/modules/${TEST_KERNEL}/vmlinuz`, 'kernel image\n');
      double(root, 'kernel-install', 'usr/bin');
      runDouble(root, 'usr/bin/kernel-install', ['add', TEST_KERNEL, `/usr/lib/modules/${TEST_KERNEL}/vmlinuz`]);
      break;
    case 'proxmox':
      put(root, 'etc/kernel/cmdline', 'root=ZFS=rpool/ROOT/pve-1 boot=zfs\n');
      put(root, 'etc/kernel/proxmox-boot-uuids', '1234-ABCD\n');
      put(root, 'etc/default/grub', DEBIAN_GRUB);
      put(root, `usr/lib/modules/${TEST_KERNEL}/vmlinuz`, 'kernel image\n');
      double(root, 'grub-mkconfig');
      double(root, 'proxmox-boot-tool');
      runDouble(root, 'usr/sbin/proxmox-boot-tool', ['refresh']);
      break;
  }
}
