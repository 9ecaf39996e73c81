/**
 * What each boot-time fault installs inside a lab guest: systemd units and scripts under names starting with
 * rollgate-lab-fault-, armed by a marker under /etc/rollgate-lab/faults/. Each is a real event in the guest
 * (a driver claims a device, sshd refuses to start, a boot waits, a shutdown never finishes), never a flag that
 * rollgate reads.
 */

export const FAULT_DIR = '/etc/rollgate-lab/faults';
export const FAULT_LIB = '/usr/local/lib/rollgate-lab';

export interface GuestFile {
  path: string;
  mode: number;
  content: string;
}

/**
 * no-vfio-after-boot: on every boot, before udev's coldplug, the host driver claims the passthrough devices; on a VM
 * with libvirt guests the first of those boots also withholds the vfio-pci module (libvirt would take the device
 * back for a guest's managed hostdev).
 */
export function hostDriverFiles(idsToDrivers: ReadonlyMap<string, string>): GuestFile[] {
  const table = [...idsToDrivers].map(([id, driver]) => `${id} ${driver}`).join('\n');
  const script = `#!/bin/sh
# rollgate lab fault no-vfio-after-boot: the host driver claims the passthrough devices before vfio-pci can.
# driver_override wins over vfio-pci's ids= match, so a later vfio-pci load (initramfs, softdep) cannot take them.
set -u
table='${table}'
for dev in /sys/bus/pci/devices/*; do
  id=$(printf '%s:%s' "$(cut -c3- "$dev/vendor")" "$(cut -c3- "$dev/device")")
  driver=$(printf '%s\\n' "$table" | awk -v id="$id" '$1 == id { print $2 }')
  [ -n "$driver" ] || continue
  addr=\${dev##*/}
  echo "$driver" > "$dev/driver_override"
  current=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
  if [ -n "$current" ] && [ "$current" != "$driver" ]; then echo "$addr" > "$dev/driver/unbind"; fi
  modprobe -q "$(cat "$dev/modalias")" 2>/dev/null
  [ -e "$dev/driver" ] || echo "$addr" > /sys/bus/pci/drivers_probe
  echo "rollgate-lab fault no-vfio-after-boot: $addr ($id) -> $(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)"
done
# A VM with libvirt guests: a guest's managed hostdev would hand the device back to vfio-pci when it starts, so the
# first boot after arming also has no vfio-pci to bind (a /run file, gone at the next boot): the guest holding the
# device cannot start, as after a kernel update that lost the module.
if [ -x /usr/sbin/libvirtd ] && [ ! -e ${FAULT_DIR}/.vfio-withheld ]; then
  touch ${FAULT_DIR}/.vfio-withheld
  mkdir -p /run/modprobe.d
  echo 'install vfio_pci /bin/false' > /run/modprobe.d/rollgate-lab-fault-no-vfio.conf
  rmmod vfio_pci 2>/dev/null
  echo "rollgate-lab fault no-vfio-after-boot: vfio-pci withheld this boot (libvirt guests)"
fi
exit 0
`;
  const unit = `[Unit]
Description=rollgate lab fault no-vfio-after-boot: the host driver claims the passthrough devices
DefaultDependencies=no
After=systemd-modules-load.service local-fs.target
Before=systemd-udev-trigger.service sysinit.target
ConditionPathExists=${FAULT_DIR}/no-vfio-after-boot

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${FAULT_LIB}/fault-host-driver

[Install]
WantedBy=sysinit.target
`;
  return [
    { path: `${FAULT_LIB}/fault-host-driver`, mode: 0o755, content: script },
    { path: '/etc/systemd/system/rollgate-lab-fault-host-driver.service', mode: 0o644, content: unit },
  ];
}

/** sshd-down: the next boot turns a marker into a /run flag (gone at the following boot) that ssh.service refuses. */
export function sshdDownFiles(): GuestFile[] {
  const unit = `[Unit]
Description=rollgate lab fault sshd-down: this boot, sshd refuses to start
DefaultDependencies=no
After=local-fs.target
Before=ssh.service sysinit.target
ConditionPathExists=${FAULT_DIR}/sshd-down

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'touch /run/rollgate-lab-sshd-down && rm -f ${FAULT_DIR}/sshd-down && sync'

[Install]
WantedBy=sysinit.target
`;
  // Level 3 (err) in the kernel log: the lab boots with quiet, which shows levels 0-3 only on the console
  // ($$ is systemd's escape for a literal $ on an Exec line).
  const dropIn = `[Service]
ExecStartPre=/bin/sh -c 'if [ -e /run/rollgate-lab-sshd-down ]; then m="rollgate lab fault sshd-down: sshd does not start this boot"; echo "<3>$$m" >/dev/kmsg; echo "$$m" >&2; exit 1; fi'
`;
  return [
    { path: '/etc/systemd/system/rollgate-lab-fault-sshd-down.service', mode: 0o644, content: unit },
    { path: '/etc/systemd/system/ssh.service.d/rollgate-lab-fault-sshd-down.conf', mode: 0o644, content: dropIn },
  ];
}

/** slow-boot: the next boot waits (marker holds the seconds) before sshd starts. */
export function slowBootFiles(): GuestFile[] {
  const script = `#!/bin/sh
secs=$(cat ${FAULT_DIR}/slow-boot 2>/dev/null || echo 120)
rm -f ${FAULT_DIR}/slow-boot && sync
echo "rollgate-lab fault slow-boot: waiting $secs s before sshd"
sleep "$secs"
`;
  const unit = `[Unit]
Description=rollgate lab fault slow-boot: the next boot waits before sshd starts
After=local-fs.target
Before=ssh.service
ConditionPathExists=${FAULT_DIR}/slow-boot

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=infinity
ExecStart=${FAULT_LIB}/fault-slow-boot

[Install]
WantedBy=multi-user.target
`;
  return [
    { path: `${FAULT_LIB}/fault-slow-boot`, mode: 0o755, content: script },
    { path: '/etc/systemd/system/rollgate-lab-fault-slow-boot.service', mode: 0o644, content: unit },
  ];
}

/**
 * hang-once: the next shutdown (reboot or poweroff) stops ssh, then never finishes: a unit whose stop waits
 * forever. The marker is consumed as the hang starts, so after a power reset the machine boots and later
 * reboots normally; GRUB never ran, so a pending grub-reboot one-shot entry is still pending.
 */
export function hangOnceFiles(): GuestFile[] {
  const script = `#!/bin/sh
[ -e ${FAULT_DIR}/hang-once ] || exit 0
rm -f ${FAULT_DIR}/hang-once && sync
echo "rollgate-lab fault hang-once: this shutdown hangs until a power reset" > /dev/console
exec sleep infinity
`;
  const unit = `[Unit]
Description=rollgate lab fault hang-once: the next shutdown hangs until a power reset
After=local-fs.target
Before=ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=${FAULT_LIB}/fault-hang-once
TimeoutStopSec=infinity

[Install]
WantedBy=multi-user.target
`;
  return [
    { path: `${FAULT_LIB}/fault-hang-once`, mode: 0o755, content: script },
    { path: '/etc/systemd/system/rollgate-lab-fault-hang-once.service', mode: 0o644, content: unit },
  ];
}
