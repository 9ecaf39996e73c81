#!/usr/bin/env bash
# Derive the guests lab image (`rollgate lab up --guests`) from the GRUB lab image that lab/image/build.sh made: the
# same disk with libvirt and QEMU installed from the mirror (at build time only; the VM is offline afterwards), the
# IOMMU on (intel_iommu=on through /etc/default/grub.d and the image's grub.cfg), the private LAN between lab VMs
# (rollgate-lab-lan: labN = 10.77.0.N, /etc/hosts, a lab-internal root key for libvirt's qemu+ssh migration) and the
# nested guests' whole OS, guest.S assembled here into a multiboot image (/var/lib/rollgate-lab/guests/guest.elf):
# a Debian kernel took ~10 min to reach its init under TCG inside the TCG lab VM. Everything runs natively in a chroot (no TCG boot). Run as root by src/lab/image.ts;
# "stage:" lines are progress.
#
#   BASE_DIR=dir OUT=dir WORK=dir RECIPE_HASH=hex MIRROR=url [SUITE=bookworm] [DEB_CACHE=dir]
#   lab/image-guests/derive.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BASE_DIR:?}" "${OUT:?}" "${WORK:?}" "${RECIPE_HASH:?}" "${MIRROR:?}"
SUITE=${SUITE:-bookworm}
for tool in qemu-img sfdisk losetup chroot ssh-keygen as ld; do
  command -v "$tool" >/dev/null || { echo "derive.sh: $tool not found; run scripts/setup.sh" >&2; exit 1; }
done
started=$(date +%s)
stage() { echo "stage: $* (+$(( $(date +%s) - started ))s)"; }
root="$WORK/root"
disk="$WORK/disk.raw"
loops=()
mkdir -p "$WORK" "$OUT" "$root"
root=$(cd "$root" && pwd -P)
mounts="var/cache/apt/archives dev/pts dev proc sys"

cleanup() {
  for m in $mounts ""; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  loops=()
  if [ -n "${watchdog:-}" ]; then kill "$watchdog" 2>/dev/null || true; fi
}
trap cleanup EXIT
# Nothing of the chroot still running, every write on the disk file, real unmounts (a busy one fails the build).
finish_root() {
  local pid
  for pid in /proc/[0-9]*; do
    [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "${pid#/proc/}" 2>/dev/null || true
  done
  mountpoint -q "$root" && sync -f "$root"
  for m in $mounts ""; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount "$root/$m"; fi
  done
  for l in "${loops[@]}"; do losetup -d "$l"; done
  loops=()
  sync
}
trap 'exit 143' TERM INT
if [ -n "${PARENT_PID:-}" ]; then
  ( while kill -0 "$PARENT_PID" 2>/dev/null; do sleep 2; done
    echo "derive.sh: rollgate process $PARENT_PID is gone; stopping the build" >&2; kill -TERM 0 ) &
  watchdog=$!
fi

stage "unpack the GRUB image $(basename "$BASE_DIR")"
kver=$(sed -n 's/.*"kernel": "\([^"]*\)".*/\1/p' "$BASE_DIR/manifest.json")
[ -n "$kver" ] || { echo "derive.sh: no kernel in $BASE_DIR/manifest.json" >&2; exit 1; }
qemu-img convert -O raw "$BASE_DIR/base.qcow2" "$disk"
read -r root_start root_sectors < <(sfdisk -d "$disk" | awk -F'[=,]' '/name="root"/ {gsub(/ /,""); print $2, $4}')
root_loop=$(losetup -f --show -o $(( root_start * 512 )) --sizelimit $(( root_sectors * 512 )) "$disk"); loops+=("$root_loop")
mount "$root_loop" "$root"
mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
if [ -n "${DEB_CACHE:-}" ]; then
  mkdir -p "$DEB_CACHE/guests/partial"; mount --bind "$DEB_CACHE/guests" "$root/var/cache/apt/archives"
fi
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"

stage "libvirt and QEMU from $MIRROR"
echo "deb $MIRROR $SUITE main" > "$root/etc/apt/sources.list.d/rollgate-build.list"
in_root apt-get update -q >"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log"; exit 1; }
in_root apt-get install -y -q --no-install-recommends libvirt-daemon-system qemu-system-x86 libvirt-clients >>"$WORK/apt.log" 2>&1 \
  || { tail -n 30 "$WORK/apt.log"; exit 1; }
# The guest is offline again: its only apt source is the local repository.
rm -f "$root/etc/apt/sources.list.d/rollgate-build.list"
in_root apt-get update -q >>"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log"; exit 1; }
in_root apt-get clean
# No libvirt NAT network (no dnsmasq, no firewall here; the guests have no NIC of their own but pt's hostdev).
rm -f "$root/etc/libvirt/qemu/networks/autostart/default.xml"
in_root dpkg-query -W libvirt-daemon-system qemu-system-x86 libvirt-clients | sed 's/^/  /'

stage "IOMMU on, private LAN, lab-internal migration key"
cp -a "$here/files/." "$root/"
# grub.cfg as update-grub will write it in the VM (the image's first boot ran update-grub; a chroot cannot).
grep -q $'^\tlinux\t' "$root/boot/grub/grub.cfg"
sed -i -E $'/^\tlinux\t/ s/$/ intel_iommu=on/' "$root/boot/grub/grub.cfg"
grep -q 'intel_iommu=on' "$root/boot/grub/grub.cfg"
{ printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
  for n in 1 2 3 4 5 6 7 8; do printf '10.77.0.%s\tlab%s\n' "$n" "$n"; done; } > "$root/etc/hosts"
in_root systemctl enable rollgate-lab-lan.service libvirtd.service virtlogd.service >/dev/null 2>&1
rm -f "$root/root/.ssh/id_lab_lan" "$root/root/.ssh/id_lab_lan.pub"
ssh-keygen -q -t ed25519 -N '' -C rollgate-lab-lan -f "$root/root/.ssh/id_lab_lan"
cat "$root/root/.ssh/id_lab_lan.pub" >> "$root/root/.ssh/authorized_keys"

stage "nested guests' OS: guest.S, a multiboot image"
gdir="$root/var/lib/rollgate-lab/guests"
mkdir -p "$gdir"
as --32 -o "$WORK/guest.o" "$here/guest.S"
ld -m elf_i386 --no-warn-rwx-segments -N -Ttext=0x100000 -e _start --build-id=none -o "$gdir/guest.elf" "$WORK/guest.o"
chmod 0644 "$gdir/guest.elf"
echo "  guest.elf $(stat -c %s "$gdir/guest.elf") bytes"
rm -f "$root/usr/sbin/policy-rc.d"
df -h "$root" | tail -n 1 | sed 's/^/  root: /'
finish_root
check_loop=$(losetup -f --show -r -o $(( root_start * 512 )) --sizelimit $(( root_sectors * 512 )) "$disk"); loops+=("$check_loop")
mount -o ro,noload "$check_loop" "$root"
[ -x "$root/usr/sbin/libvirtd" ] && [ -s "$root/var/lib/rollgate-lab/guests/guest.elf" ] && grep -q 'intel_iommu=on' "$root/boot/grub/grub.cfg" \
  || { echo "derive.sh: the disk does not hold what was written to its root file system" >&2; exit 1; }
finish_root

stage "qcow2"
qemu-img convert -O qcow2 "$disk" "$OUT/base.qcow2.tmp"
mv "$OUT/base.qcow2.tmp" "$OUT/base.qcow2"
chmod 0444 "$OUT/base.qcow2"
rm -f "$disk"
for f in id_ed25519 id_ed25519.pub ssh_host_ed25519_key.pub; do cp -p "$BASE_DIR/$f" "$OUT/$f"; done
elapsed=$(( $(date +%s) - started ))
sed -e "s/\"recipeHash\": \"[^\"]*\"/\"recipeHash\": \"$RECIPE_HASH\"/" -e '/"imageBytes"/d' -e '/"buildSeconds"/d' \
  -e "s/\"builtAt\": \"[^\"]*\"/\"builtAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"/" \
  -e 's/^}$//' "$BASE_DIR/manifest.json" | sed -e '/^$/d' -e '$ s/$/,/' > "$OUT/manifest.json"
cat >> "$OUT/manifest.json" <<JSON
  "variant": "guests",
  "baseImage": "$(basename "$BASE_DIR")",
  "buildSeconds": $elapsed,
  "imageBytes": $(stat -c %s "$OUT/base.qcow2")
}
JSON
stage "done in ${elapsed}s, $(du -h "$OUT/base.qcow2" | cut -f1) qcow2"
