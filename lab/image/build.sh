#!/usr/bin/env bash
# Build the rollgate lab guest image from Debian's packages (no downloaded cloud image). Run as root by
# `rollgate lab image build` (src/lab/image.ts), which passes the recipe hash and where to put the result.
# Every line starting with "stage:" is progress for the CLI; everything else is a log.
#
#   OUT=dir WORK=dir RECIPE_HASH=hex MIRROR=url [SUITE=bookworm] [DEB_CACHE=dir] [DISK_SIZE=3G]
#   [FIRSTBOOT_TIMEOUT=1500] lab/image/build.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${OUT:?}" "${WORK:?}" "${RECIPE_HASH:?}" "${MIRROR:?}"
SUITE=${SUITE:-bookworm}
DISK_SIZE=${DISK_SIZE:-3G}
FIRSTBOOT_TIMEOUT=${FIRSTBOOT_TIMEOUT:-1500}
for tool in debootstrap chroot sfdisk mke2fs mkfs.vfat qemu-system-x86_64 qemu-img ssh-keygen dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found; run scripts/setup.sh" >&2; exit 1; }
done
started=$(date +%s)
stage() { echo "stage: $* (+$(( $(date +%s) - started ))s)"; }
root="$WORK/root"
disk="$WORK/disk.raw"
mkdir -p "$WORK" "$OUT"

cleanup() {
  for m in dev/pts dev proc sys; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
  if [ -n "${qemu_pid:-}" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
  if [ -n "${watchdog:-}" ]; then kill "$watchdog" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# Never outlive the rollgate process that started us (it holds the build lock): stop the whole build with it.
if [ -n "${PARENT_PID:-}" ]; then
  ( while kill -0 "$PARENT_PID" 2>/dev/null; do sleep 2; done
    echo "build.sh: rollgate process $PARENT_PID is gone; stopping the build" >&2; kill -TERM 0 ) &
  watchdog=$!
fi

stage "debootstrap $SUITE from $MIRROR"
include=$(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$' | paste -sd, -)
cache_args=()
if [ -n "${DEB_CACHE:-}" ]; then mkdir -p "$DEB_CACHE"; cache_args=(--cache-dir="$DEB_CACHE"); fi
debootstrap --variant=minbase --include="$include" "${cache_args[@]}" "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/debootstrap.log"; exit 1; }

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"

# The guest runs the older of the suite's two newest kernel ABIs; the newer one is the good update in its local
# repository. debootstrap just fetched the suite's package index, so apt-cache knows what the mirror offers.
stage "kernels: the two newest ABIs of $SUITE"
abis=$(in_root apt-cache pkgnames linux-image- | sed -n 's/^linux-image-\([0-9]*\.[0-9]*\.[0-9]*-[0-9]*-amd64\)$/\1/p' | sort -V | tail -n 2)
if [ "$(echo "$abis" | grep -c .)" -lt 2 ]; then
  echo "build.sh: $MIRROR $SUITE offers $(echo "$abis" | grep -c .) kernel ABI(s) (linux-image-X.Y.Z-N-amd64: ${abis:-none}); the lab needs two, one to run and a newer one to update to" >&2
  exit 1
fi
kver=$(echo "$abis" | head -n 1)
update_kver=$(echo "$abis" | tail -n 1)
# The bad kernel must stay the newest boot entry; its ABI is also src/lab/faults/faults.ts's BAD_KERNEL_ABI.
BAD_ABI=6.1.0-99-amd64
if [ "$(printf '%s\n' "$kver" "$update_kver" "$BAD_ABI" | sort -V | tail -n 1)" != "$BAD_ABI" ]; then
  echo "build.sh: the bad kernel's ABI $BAD_ABI no longer sorts after $update_kver; raise BAD_ABI here and BAD_KERNEL_ABI in src/lab/faults/faults.ts" >&2
  exit 1
fi
# INITRD=No: no initramfs from the package's hook; the one the guest boots is built below with the lab's modules.
in_root INITRD=No apt-get install -y -q --no-install-recommends "linux-image-$kver" >"$WORK/kernel-apt.log" 2>&1 \
  || { tail -n 30 "$WORK/kernel-apt.log"; exit 1; }

stage "configure the guest"
cp -a "$here/files/." "$root/"
chmod 0440 "$root/etc/sudoers.d/rgops"
# GRUB from inside the chroot, no install device yet: the first boot installs it onto the disk.
in_root debconf-set-selections <<'SEL'
grub-pc grub-pc/install_devices multiselect
grub-pc grub-pc/install_devices_empty boolean true
SEL
in_root apt-get install -y -q --no-install-recommends grub-pc grub-efi-amd64-bin >"$WORK/grub-apt.log" 2>&1 \
  || { tail -n 30 "$WORK/grub-apt.log"; exit 1; }
echo rollgate-lab > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\trollgate-lab\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
: > "$root/etc/machine-id"; rm -f "$root/var/lib/dbus/machine-id"
in_root systemctl enable systemd-networkd.service rollgate-lab-firstboot.service rollgate-lab-identity.service >/dev/null 2>&1
# Boot time under TCG: no waiting for a network that is up anyway, no e2scrub snapshot reaping (no LVM here).
in_root systemctl mask systemd-networkd-wait-online.service e2scrub_reap.service e2scrub_all.timer >/dev/null 2>&1
# Nor periodic jobs that a restored saved state (clock jumped forward) would start at once, nor module loads a lab
# hypervisor never uses (each costs seconds of emulated CPU at boot).
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer \
  modprobe@dm_mod.service modprobe@efi_pstore.service modprobe@fuse.service modprobe@loop.service >/dev/null 2>&1
# Nor generators for what a lab disk does not have (encrypted, integrity or verity volumes, GPT auto-mounts,
# hibernation, SysV scripts: every unit here is native, rc.local, offline updates): systemd runs each at every
# boot and daemon-reload, seconds of emulated CPU before the first unit starts. A link to /dev/null in
# /etc/systemd/system-generators masks the one of that name.
mkdir -p "$root/etc/systemd/system-generators"
for g in cryptsetup gpt-auto hibernate-resume integritysetup veritysetup sysv rc-local system-update; do
  ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-$g-generator"
done
mkdir -p "$root/etc/rollgate-lab" && touch "$root/etc/rollgate-lab/firstboot"

stage "users and keys"
in_root useradd --create-home --shell /bin/bash --groups sudo rgops
in_root usermod -p '*' rgops
in_root usermod -p '*' root
rm -f "$OUT/id_ed25519" "$OUT/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C rollgate-lab-operator -f "$OUT/id_ed25519"
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C rollgate-lab-base -f "$root/etc/ssh/ssh_host_ed25519_key"
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$OUT/ssh_host_ed25519_key.pub"
for home in root home/rgops; do
  install -d -m 0700 "$root/$home/.ssh"
  install -m 0600 "$OUT/id_ed25519.pub" "$root/$home/.ssh/authorized_keys"
done
in_root chown -R rgops:rgops /home/rgops/.ssh

# What MODULES=dep picks inside a lab VM to mount its root: the virtio disk and ext4.
ROOT_MODULES="virtio_pci virtio_blk ext4"

stage "local apt repository: bad kernel $BAD_ABI, good kernel update $update_kver"
kit=/tmp/rollgate-kernels
mkdir -p "$root$kit"
install -m 0755 "$here/make-bad-kernel.sh" "$here/make-update-kernel.sh" "$root$kit/"
install -m 0644 "$here/kernel-package.sh" "$here/update-kernel-modules.txt" "$root$kit/"
in_root KERNEL="$kver" BAD_ABI="$BAD_ABI" "$kit/make-bad-kernel.sh"
in_root UPDATE_ABI="$update_kver" MODULE_LIST="$kit/update-kernel-modules.txt" ROOT_MODULES="$ROOT_MODULES" \
  "$kit/make-update-kernel.sh" >"$WORK/update-kernel.log" 2>&1 || { tail -n 30 "$WORK/update-kernel.log"; exit 1; }
rm -rf "${root:?}$kit"
repo="$root/var/lib/rollgate-lab/repo"
: > "$repo/Packages"
for deb in "$repo"/*.deb; do
  f=$(basename "$deb")
  { dpkg-deb -f "$deb"; echo "Filename: ./$f"; echo "Size: $(stat -c %s "$deb")"; echo "SHA256: $(sha256sum "$deb" | cut -d' ' -f1)"; echo; } >> "$repo/Packages"
done
{ echo "Origin: rollgate-lab"; echo "Label: rollgate-lab"; echo "Date: $(LC_ALL=C date -u -R)"; echo "SHA256:";
  echo " $(sha256sum "$repo/Packages" | cut -d' ' -f1) $(stat -c %s "$repo/Packages") Packages"; } > "$repo/Release"
# The guest is offline: its only apt source is the local repository.
rm -f "$root/etc/apt/sources.list"
in_root apt-get update -q >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log"; exit 1; }
in_root apt-get clean

stage "initramfs-tools: MODULES=dep"
sed -i 's/^MODULES=.*/MODULES=dep/' "$root/etc/initramfs-tools/initramfs.conf"
grep -q '^MODULES=dep$' "$root/etc/initramfs-tools/initramfs.conf"
# MODULES=dep reads the running machine, which in a chroot is the build host: build this first initrd with the
# modules dep picks inside a lab VM (virtio disk, ext4) listed explicitly, natively rather than under TCG
# (minutes saved). Every later rebuild in the guest (update-initramfs) uses MODULES=dep.
rm -rf "$root/tmp/itconf"; cp -a "$root/etc/initramfs-tools" "$root/tmp/itconf"
sed -i 's/^MODULES=.*/MODULES=list/' "$root/tmp/itconf/initramfs.conf"
printf '%s\n' $ROOT_MODULES >> "$root/tmp/itconf/modules"
in_root mkinitramfs -d /tmp/itconf -o "/boot/initrd.img-$kver" "$kver"
rm -rf "$root/tmp/itconf"
cp "$root/boot/vmlinuz-$kver" "$WORK/vmlinuz"; cp "$root/boot/initrd.img-$kver" "$WORK/initrd"
rm -f "$root/usr/sbin/policy-rc.d"
cleanup

stage "disk image"
root_uuid=$(cat /proc/sys/kernel/random/uuid)
esp_id=$(printf '%08X' $(( RANDOM * 65536 + RANDOM )))
esp_uuid="${esp_id:0:4}-${esp_id:4:4}"
# Root's fsck pass 0: no systemd-fsck-root at each boot (3 s of emulated CPU for a check that finds nothing; the
# ext4 journal still replays after a power reset).
printf 'UUID=%s / ext4 errors=remount-ro 0 0\nUUID=%s /boot/efi vfat umask=0077,nofail 0 0\n' "$root_uuid" "$esp_uuid" > "$root/etc/fstab"
mkdir -p "$root/boot/efi"
rm -f "$disk"; truncate -s "$DISK_SIZE" "$disk"
sfdisk -q "$disk" <<PARTS
label: gpt
start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=4096, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=69632, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
PARTS
# sfdisk aligns the last partition: read its real size back rather than computing it.
read -r root_start root_sectors < <(sfdisk -d "$disk" | awk -F'[=,]' '/name="root"/ {gsub(/ /,""); print $2, $4}')
esp_img="$WORK/esp.img"; rm -f "$esp_img"; truncate -s 32M "$esp_img"
mkfs.vfat -i "$esp_id" -n ESP "$esp_img" >/dev/null
dd if="$esp_img" of="$disk" bs=512 seek=4096 conv=notrunc status=none
# GRUB 2.06 cannot read ext4's orphan_file; keep the feature set it knows.
mke2fs -q -t ext4 -O ^orphan_file,^metadata_csum_seed -U "$root_uuid" -L root -d "$root" \
  -E offset=$(( root_start * 512 )) "$disk" $(( root_sectors / 2 ))k

stage "first boot: GRUB install from inside the guest, update-grub"
# mitigations=off as in /etc/default/grub: no page-table isolation to emulate (its reasons are there).
qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 1 -m 1024 -nodefaults -display none -no-reboot \
  -drive file="$disk",format=raw,if=virtio -nic none \
  -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd" \
  -append "root=UUID=$root_uuid ro console=ttyS0,115200n8 mitigations=off" \
  -serial file:"$WORK/firstboot.log" &
qemu_pid=$!
deadline=$(( $(date +%s) + FIRSTBOOT_TIMEOUT ))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "first boot did not finish within ${FIRSTBOOT_TIMEOUT}s; serial log tail:"; tail -n 40 "$WORK/firstboot.log"; exit 1
  fi
  sleep 2
done
wait "$qemu_pid" || true
qemu_pid=
grep -a 'rollgate-firstboot:' "$WORK/firstboot.log" || true
if ! grep -aq 'rollgate-firstboot: OK' "$WORK/firstboot.log"; then
  echo "first boot failed; serial log tail:"; tail -n 60 "$WORK/firstboot.log"; exit 1
fi
cp "$WORK/firstboot.log" "$OUT/firstboot.log"

stage "qcow2"
qemu-img convert -O qcow2 "$disk" "$OUT/base.qcow2.tmp"
mv "$OUT/base.qcow2.tmp" "$OUT/base.qcow2"
chmod 0444 "$OUT/base.qcow2"
elapsed=$(( $(date +%s) - started ))
cat > "$OUT/manifest.json" <<JSON
{
  "recipeHash": "$RECIPE_HASH",
  "suite": "$SUITE",
  "mirror": "$MIRROR",
  "kernel": "$kver",
  "updateKernel": "$update_kver",
  "badKernel": "$BAD_ABI",
  "rootUuid": "$root_uuid",
  "diskSize": "$DISK_SIZE",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": $elapsed,
  "imageBytes": $(stat -c %s "$OUT/base.qcow2")
}
JSON
stage "done in ${elapsed}s, $(du -h "$OUT/base.qcow2" | cut -f1) qcow2"
