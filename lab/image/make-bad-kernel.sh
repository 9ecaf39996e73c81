#!/bin/sh
# Runs inside the image chroot at build time. Builds the lab's "bad kernel" package into the guest's local apt
# repository: a real Debian kernel binary under a newer ABI name with an empty module tree and an initramfs
# built for that tree, so it holds no disk or filesystem driver and the boot stops at "Gave up waiting for root
# file system device". The initramfs is built here, natively, and shipped in the package (INITRD=No tells the
# initramfs-tools kernel hook to leave it alone): generating it in the guest would cost minutes under TCG at
# every install. Everything else is the real kernel package's maintainer scripts (depmod, symlinks,
# /etc/kernel/postinst.d including zz-update-grub).
set -eu
BAD_ABI=${BAD_ABI:-6.1.0-99-amd64}
BAD_VERSION=${BAD_VERSION:-6.1.999-1}
REPO=/var/lib/rollgate-lab/repo
real=$(ls /lib/modules | head -n 1)
pkg=linux-image-$BAD_ABI
work=$(mktemp -d)
chmod 0755 "$work"
mkdir -p "$work/DEBIAN" "$work/boot" "$work/lib/modules/$BAD_ABI" "$REPO"
cp "/boot/vmlinuz-$real" "$work/boot/vmlinuz-$BAD_ABI"
cp "/boot/config-$real" "$work/boot/config-$BAD_ABI"
cp "/boot/System.map-$real" "$work/boot/System.map-$BAD_ABI"
for f in modules.builtin modules.builtin.modinfo modules.order; do
  [ -e "/lib/modules/$real/$f" ] && cp "/lib/modules/$real/$f" "$work/lib/modules/$BAD_ABI/$f"
done
: > "$work/lib/modules/$BAD_ABI/modules.order"
# The maintainer scripts of the real kernel package, renamed: they run depmod and /etc/kernel/*.d
# (initramfs-tools, zz-update-grub) just as a real kernel update does.
dpkg-query --control-path "linux-image-$real" postinst >/dev/null
for s in postinst postrm preinst prerm; do
  src=$(dpkg-query --control-path "linux-image-$real" "$s" 2>/dev/null || true)
  [ -n "$src" ] && [ -f "$src" ] || continue
  sed -e "s/$real/$BAD_ABI/g" -e 's|^if \[ -d /etc/kernel/postinst.d \]; then$|export INITRD=No  # the package ships its initramfs\n&|' "$src" > "$work/DEBIAN/$s"
  chmod 0755 "$work/DEBIAN/$s"
done
grep -q '^export INITRD=No' "$work/DEBIAN/postinst"
# The initramfs, from the same empty module tree (installed here only while mkinitramfs reads it).
cp -a "$work/lib/modules/$BAD_ABI" "/lib/modules/$BAD_ABI"
cp "$work/boot/config-$BAD_ABI" "/boot/config-$BAD_ABI"
depmod "$BAD_ABI"
conf=$(mktemp -d)
cp -a /etc/initramfs-tools/. "$conf/"
sed -i 's/^MODULES=.*/MODULES=list/' "$conf/initramfs.conf"
mkinitramfs -d "$conf" -o "$work/boot/initrd.img-$BAD_ABI" "$BAD_ABI"
rm -rf "$conf" "/lib/modules/$BAD_ABI" "/boot/config-$BAD_ABI"
installed_size=$(du -sk "$work" | cut -f1)
cat > "$work/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $BAD_VERSION
Architecture: amd64
Maintainer: rollgate lab <lab@rollgate.invalid>
Installed-Size: $installed_size
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Provides: linux-image, wireguard-modules (= 1.0.0)
Section: kernel
Priority: optional
Description: Linux 6.1 for 64-bit PCs (rollgate lab: a kernel update that cannot boot)
 The kernel binary of $real shipped under the ABI name $BAD_ABI with an empty module tree and
 an initramfs built from it: no virtio or ext4 driver, so the boot waits for the root disk and
 gives up.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$work" "$REPO/${pkg}_${BAD_VERSION}_amd64.deb" >/dev/null
rm -rf "$work"
