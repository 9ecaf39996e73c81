#!/usr/bin/env bash
# Derive the systemd-boot lab image (`rollgate lab up --profile systemd-boot`) from the GRUB lab image that
# lab/image/build.sh made: the same root file system (packages, users, keys, kernels, local apt repository) on a
# new GPT disk with a larger ESP, GRUB purged, systemd-boot installed on the ESP with `bootctl install`, the kernel
# command line in /etc/kernel/cmdline and the running kernel's Type #1 loader entry written by `kernel-install`.
# Everything runs natively in a chroot (no TCG boot). Run as root by src/lab/image.ts; "stage:" lines are progress.
#
#   BASE_DIR=dir OUT=dir WORK=dir RECIPE_HASH=hex MIRROR=url [SUITE=bookworm] [DEB_CACHE=dir] [ESP_MB=256]
#   lab/image-systemd-boot/derive.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BASE_DIR:?}" "${OUT:?}" "${WORK:?}" "${RECIPE_HASH:?}" "${MIRROR:?}"
SUITE=${SUITE:-bookworm}
# The running kernel and initrd (~15 MB), rollgate's known-good copies of both and a second kernel fit.
ESP_MB=${ESP_MB:-256}
for tool in qemu-img sfdisk mkfs.vfat mcopy losetup chroot blkid; do
  command -v "$tool" >/dev/null || { echo "derive.sh: $tool not found; run scripts/setup.sh" >&2; exit 1; }
done
started=$(date +%s)
stage() { echo "stage: $* (+$(( $(date +%s) - started ))s)"; }
root="$WORK/root"
disk="$WORK/disk.raw"
loops=()
mkdir -p "$WORK" "$OUT" "$root"
root=$(cd "$root" && pwd -P) # as /proc/PID/root names it (finish_root)

cleanup() {
  for m in boot/efi var/cache/apt/archives dev/pts dev proc sys ""; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  loops=()
  if [ -n "${watchdog:-}" ]; then kill "$watchdog" 2>/dev/null || true; fi
}
trap cleanup EXIT
# The end of a successful derivation: nothing of the chroot still running (apt can leave gpg-agent or dirmngr
# behind), every write on the disk file, then real unmounts (never lazy: a busy mount fails here, loudly).
finish_root() {
  local pid
  for pid in /proc/[0-9]*; do
    [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "${pid#/proc/}" 2>/dev/null || true
  done
  mountpoint -q "$root" && sync -f "$root"
  for m in boot/efi var/cache/apt/archives dev/pts dev proc sys ""; do
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
qemu-img convert -O raw "$BASE_DIR/base.qcow2" "$WORK/grub.raw"
read -r old_start root_sectors < <(sfdisk -d "$WORK/grub.raw" | awk -F'[=,]' '/name="root"/ {gsub(/ /,""); print $2, $4}')

stage "new disk: ESP ${ESP_MB} MiB (vfat), the GRUB image's root file system"
esp_sectors=$(( ESP_MB * 2048 ))
root_start=$(( 2048 + esp_sectors ))
rm -f "$disk"; truncate -s $(( (root_start + root_sectors + 2048) * 512 )) "$disk"
sfdisk -q "$disk" <<PARTS
label: gpt
start=2048, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=$root_start, size=$root_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
PARTS
dd if="$WORK/grub.raw" of="$disk" bs=4M iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,sparse status=none \
  skip=$(( old_start * 512 )) seek=$(( root_start * 512 )) count=$(( root_sectors * 512 ))
rm -f "$WORK/grub.raw"
esp_id=$(printf '%08X' $(( RANDOM * 65536 + RANDOM )))
esp_uuid="${esp_id:0:4}-${esp_id:4:4}"
root_loop=$(losetup -f --show -o $(( root_start * 512 )) --sizelimit $(( root_sectors * 512 )) "$disk"); loops+=("$root_loop")
root_uuid=$(blkid -s UUID -o value "$root_loop")
mount "$root_loop" "$root"
# The ESP's files are made on a tmpfs and copied into the vfat image with mtools: a build host (a container) may
# have no vfat driver to mount it with.
mkdir -p "$root/boot/efi"; mount -t tmpfs -o mode=0700 esp "$root/boot/efi"
mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
if [ -n "${DEB_CACHE:-}" ]; then
  mkdir -p "$DEB_CACHE/systemd-boot/partial"; mount --bind "$DEB_CACHE/systemd-boot" "$root/var/cache/apt/archives"
fi
# bootctl and kernel-install check that the ESP is a partition of the EFI type; here it is a loop device.
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C SYSTEMD_RELAX_ESP_CHECKS=1 "$@"; }
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"

stage "systemd-boot in, GRUB out"
echo "deb $MIRROR $SUITE main" > "$root/etc/apt/sources.list.d/rollgate-build.list"
in_root apt-get update -q >"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log"; exit 1; }
in_root apt-get install -y -q --no-install-recommends systemd-boot systemd-boot-efi >>"$WORK/apt.log" 2>&1 \
  || { tail -n 30 "$WORK/apt.log"; exit 1; }
in_root apt-get purge -y -q grub-pc grub-pc-bin grub-efi-amd64-bin grub-common grub2-common >>"$WORK/apt.log" 2>&1 \
  || { tail -n 30 "$WORK/apt.log"; exit 1; }
rm -rf "$root/boot/grub" "$root/etc/default/grub" "$root/etc/default/grub.d"
# The guest is offline again: its only apt source is the local repository.
rm -f "$root/etc/apt/sources.list.d/rollgate-build.list"
in_root apt-get update -q >>"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log"; exit 1; }
in_root apt-get clean

stage "kernel command line, bootctl install, kernel-install add $kver"
cp -a "$here/files/." "$root/"
sed -i "s/@ROOT_UUID@/$root_uuid/" "$root/etc/kernel/cmdline"
grep -q "root=UUID=$root_uuid " "$root/etc/kernel/cmdline"
# The ESP holds the loader entries rollgate reads and writes: its mount must not give up on a slow boot. systemd's
# 90 s device timeout expired under TCG on a loaded machine (udev coldplug later still), /boot/efi stayed unmounted.
sed -i "s|^UUID=[0-9A-F-]* /boot/efi vfat umask=0077,nofail |UUID=$esp_uuid /boot/efi vfat umask=0077,nofail,x-systemd.device-timeout=15min |" "$root/etc/fstab"
grep -q "^UUID=$esp_uuid /boot/efi vfat umask=0077,nofail,x-systemd.device-timeout=15min " "$root/etc/fstab"
# Whatever the packages' hooks put on the ESP goes (an entry of the "debian" token): bootctl and kernel-install
# below write all of it.
find "$root/boot/efi" -mindepth 1 -delete
# No EFI variables here (the VM's own OVMF_VARS start empty): systemd-boot is found at the removable path.
in_root bootctl install --esp-path=/boot/efi --no-variables --make-entry-directory=yes
cp "$here/loader.conf" "$root/boot/efi/loader/loader.conf"
in_root kernel-install add "$kver" "/boot/vmlinuz-$kver" "/boot/initrd.img-$kver"
entry="$root/boot/efi/loader/entries/rollgate-lab-$kver.conf"
[ -f "$entry" ] || { echo "derive.sh: kernel-install wrote no $entry:"; find "$root/boot/efi" >&2; exit 1; }
cat "$entry"
rm -f "$root/usr/sbin/policy-rc.d"
esp_img="$WORK/esp.img"; rm -f "$esp_img"; truncate -s "${ESP_MB}M" "$esp_img"
mkfs.vfat -F 32 -i "$esp_id" -n ESP "$esp_img" >/dev/null
mcopy -s -p -i "$esp_img" "$root/boot/efi/"* ::/
mdir -/ -i "$esp_img" ::/ | grep -v '^$' | sed 's/^/  esp: /'
dd if="$esp_img" of="$disk" bs=512 seek=2048 conv=notrunc status=none
finish_root
# Read back what this script wrote, from the disk file itself: a root file system unmounted lazily with its last
# writes still in the page cache gave a VM the GRUB image's fstab and no /etc/kernel/cmdline (found by the e2e).
check_loop=$(losetup -f --show -r -o $(( root_start * 512 )) --sizelimit $(( root_sectors * 512 )) "$disk"); loops+=("$check_loop")
mount -o ro,noload "$check_loop" "$root"
grep -q "root=UUID=$root_uuid " "$root/etc/kernel/cmdline" \
  && grep -q "^UUID=$esp_uuid /boot/efi vfat umask=0077,nofail,x-systemd.device-timeout=15min " "$root/etc/fstab" \
  && [ ! -e "$root/boot/grub" ] \
  || { echo "derive.sh: the disk does not hold what was written to its root file system" >&2; exit 1; }
finish_root

stage "qcow2"
qemu-img convert -O qcow2 "$disk" "$OUT/base.qcow2.tmp"
mv "$OUT/base.qcow2.tmp" "$OUT/base.qcow2"
chmod 0444 "$OUT/base.qcow2"
rm -f "$disk"
for f in id_ed25519 id_ed25519.pub ssh_host_ed25519_key.pub; do cp -p "$BASE_DIR/$f" "$OUT/$f"; done
elapsed=$(( $(date +%s) - started ))
# The GRUB image's manifest with this image's own hash, loader and size.
sed -e "s/\"recipeHash\": \"[^\"]*\"/\"recipeHash\": \"$RECIPE_HASH\"/" -e '/"imageBytes"/d' -e '/"buildSeconds"/d' \
  -e "s/\"builtAt\": \"[^\"]*\"/\"builtAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"/" \
  -e 's/^}$//' "$BASE_DIR/manifest.json" | sed -e '/^$/d' -e '$ s/$/,/' > "$OUT/manifest.json"
cat >> "$OUT/manifest.json" <<JSON
  "bootLoader": "systemd-boot",
  "baseImage": "$(basename "$BASE_DIR")",
  "espUuid": "$esp_uuid",
  "buildSeconds": $elapsed,
  "imageBytes": $(stat -c %s "$OUT/base.qcow2")
}
JSON
stage "done in ${elapsed}s, $(du -h "$OUT/base.qcow2" | cut -f1) qcow2"
