#!/bin/sh
# Runs inside the image chroot at build time. Builds the lab's "bad kernel" package into the guest's local apt
# repository: the running kernel's binary (KERNEL) under a newer ABI name (BAD_ABI, which must sort after every
# real ABI so it is the newest boot entry) with an empty module tree and an initramfs built for that tree, so it
# holds no disk or filesystem driver and the boot stops at "Gave up waiting for root file system device".
# Everything else is the real kernel package's maintainer scripts (depmod, symlinks, /etc/kernel/postinst.d
# including zz-update-grub), see kernel-package.sh.
#
#   KERNEL=6.1.0-47-amd64 [BAD_ABI=6.1.0-99-amd64] [BAD_VERSION=6.1.999-1] make-bad-kernel.sh
set -eu
. "$(dirname "$0")/kernel-package.sh"
: "${KERNEL:?}"
BAD_ABI=${BAD_ABI:-6.1.0-99-amd64}
BAD_VERSION=${BAD_VERSION:-6.1.999-1}
real=$KERNEL
pkg=linux-image-$BAD_ABI
work=$(mktemp -d)
chmod 0755 "$work"
mkdir -p "$work/DEBIAN" "$work/boot" "$work/lib/modules/$BAD_ABI"
cp "/boot/vmlinuz-$real" "$work/boot/vmlinuz-$BAD_ABI"
cp "/boot/config-$real" "$work/boot/config-$BAD_ABI"
cp "/boot/System.map-$real" "$work/boot/System.map-$BAD_ABI"
for f in modules.builtin modules.builtin.modinfo modules.order; do
  [ -e "/lib/modules/$real/$f" ] && cp "/lib/modules/$real/$f" "$work/lib/modules/$BAD_ABI/$f"
done
: > "$work/lib/modules/$BAD_ABI/modules.order"
dpkg-query --control-path "linux-image-$real" postinst >/dev/null
for s in postinst postrm preinst prerm; do
  src=$(dpkg-query --control-path "linux-image-$real" "$s" 2>/dev/null || true)
  [ -n "$src" ] && [ -f "$src" ] || continue
  install_maintainer_script "$src" "$work/DEBIAN/$s" "$real" "$BAD_ABI"
done
# The initramfs, from the same empty module tree.
build_initramfs "$work" "$BAD_ABI"
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
build_deb "$work" "${pkg}_${BAD_VERSION}_amd64.deb"
