#!/bin/sh
# Runs inside the image chroot at build time. Builds the lab's good kernel update into the guest's local apt
# repository: Debian's real package of a newer ABI (UPDATE_ABI) with its real vmlinuz, version and maintainer
# scripts, but a module tree trimmed to MODULE_LIST and its dependencies (from that ABI's modules.dep) and an
# initramfs built here for ROOT_MODULES (what MODULES=dep picks inside a lab VM), see kernel-package.sh. Installing
# it in the guest takes seconds instead of minutes: ~400 MB of modules and a TCG mkinitramfs are left out.
#
#   UPDATE_ABI=6.1.0-50-amd64 MODULE_LIST=/tmp/update-kernel-modules.txt ROOT_MODULES='virtio_pci ...' \
#     make-update-kernel.sh
set -eu
. "$(dirname "$0")/kernel-package.sh"
: "${UPDATE_ABI:?}" "${MODULE_LIST:?}" "${ROOT_MODULES:?}"
pkg=linux-image-$UPDATE_ABI
moddir=lib/modules/$UPDATE_ABI
dl=$(mktemp -d)
chmod 0755 "$dl"
chown _apt "$dl" # apt-get download fetches as _apt
(cd "$dl" && apt-get download -q "$pkg" >/dev/null)
deb=$(ls "$dl"/*.deb)
dpkg-deb -x "$deb" "$dl/full"
dpkg-deb -e "$deb" "$dl/control"
# modules.dep is not in the package (its postinst runs depmod): generate it for the full tree.
depmod -b "$dl/full" "$UPDATE_ABI"

# Every module file the list needs, dependencies included (a name the kernel does not have fails the build).
module_files "$MODULE_LIST" "$dl/full/$moddir" > "$dl/files"

work=$(mktemp -d)
chmod 0755 "$work"
mkdir -p "$work/DEBIAN" "$work/$moddir"
cp -a "$dl/full/boot" "$dl/full/usr" "$work/"
(cd "$dl/full/$moddir" && xargs cp --parents -t "$work/$moddir" < "$dl/files")
cp "$dl/full/$moddir/modules.builtin" "$dl/full/$moddir/modules.builtin.modinfo" "$work/$moddir/"
grep -Fx -f "$dl/files" "$dl/full/$moddir/modules.order" > "$work/$moddir/modules.order"
for s in postinst postrm preinst prerm; do
  [ -f "$dl/control/$s" ] || continue
  install_maintainer_script "$dl/control/$s" "$work/DEBIAN/$s" "$UPDATE_ABI" "$UPDATE_ABI"
done
# shellcheck disable=SC2086 # one word per module
build_initramfs "$work" "$UPDATE_ABI" $ROOT_MODULES

# installed_here "a, b (>= 1) | c": the clauses of a relationship field that a package installed here satisfies.
installed_here() {
  echo "$1" | tr ',' '\n' | while read -r clause; do
    for alt in $(echo "$clause" | sed 's/([^)]*)//g; s/:any//g' | tr '|' ' '); do
      if dpkg-query -W -f='${Status}\n' "$alt" 2>/dev/null | grep -q ' installed$'; then echo "$clause"; break; fi
    done
  done | paste -sd, - | sed 's/,/, /g'
}
field() { dpkg-deb -f "$deb" "$1"; }
version=$(field Version)
depends=$(installed_here "$(field Depends)")
recommends=$(installed_here "$(field Recommends)")
# The real control file without the fields rewritten below (a field's continuation lines start with a space).
awk '/^[^ ]/ { skip = ($1 ~ /^(Installed-Size|Depends|Recommends|Description):$/) } !skip' "$dl/control/control" \
  > "$work/DEBIAN/control"
{
  echo "Installed-Size: $(du -sk "$work" | cut -f1)"
  echo "Depends: $depends"
  [ -z "$recommends" ] || echo "Recommends: $recommends"
  echo "Description: $(field Description | head -n 1), rollgate lab: trimmed modules"
  echo " Debian's $pkg $version with a module tree trimmed to what a rollgate lab VM"
  echo " loads (lab/image/update-kernel-modules.txt and its dependencies) and an initramfs"
  echo " built with the image: the real package's maintainer scripts run with INITRD=No."
} >> "$work/DEBIAN/control"
rm -rf "$dl"
build_deb "$work" "${pkg}_${version}_amd64.deb"
