# Sourced by make-bad-kernel.sh and make-update-kernel.sh (inside the image chroot at build time): what both lab
# kernel packages share. Each is a real Debian kernel binary with the real package's maintainer scripts, a module
# tree, and an initramfs built here, natively, and shipped in the package: generating it in the guest would cost
# minutes under TCG at every install.
REPO=/var/lib/rollgate-lab/repo

# install_maintainer_script SRC DEST FROM_ABI TO_ABI: a real kernel package's maintainer script, renamed to TO_ABI.
# The postinst exports INITRD=No before running /etc/kernel/postinst.d, so the initramfs-tools hook keeps the
# shipped initramfs; depmod, linux-update-symlinks and zz-update-grub run as in a real kernel update.
install_maintainer_script() {
  sed -e "s/$3/$4/g" -e 's|^if \[ -d /etc/kernel/postinst.d \]; then$|export INITRD=No  # the package ships its initramfs\n&|' "$1" > "$2"
  chmod 0755 "$2"
  case "$2" in
    */postinst) grep -q '^export INITRD=No' "$2" || { echo "kernel-package.sh: $1 has no /etc/kernel/postinst.d block to put INITRD=No before" >&2; exit 1; } ;;
  esac
}

# build_initramfs PKGROOT ABI MODULE...: PKGROOT/boot/initrd.img-ABI from PKGROOT's module tree and config,
# installed in / only while mkinitramfs reads them. MODULES=list: exactly the named modules (and their
# dependencies), as MODULES=dep would pick inside a lab VM; dep here would read the build host.
build_initramfs() {
  local pkgroot="$1" abi="$2" conf m
  shift 2
  [ ! -e "/lib/modules/$abi" ] || { echo "kernel-package.sh: /lib/modules/$abi already exists in the image" >&2; exit 1; }
  cp -a "$pkgroot/lib/modules/$abi" "/lib/modules/$abi"
  cp "$pkgroot/boot/config-$abi" "/boot/config-$abi"
  depmod "$abi"
  conf=$(mktemp -d)
  cp -a /etc/initramfs-tools/. "$conf/"
  sed -i 's/^MODULES=.*/MODULES=list/' "$conf/initramfs.conf"
  for m in "$@"; do echo "$m" >> "$conf/modules"; done
  mkinitramfs -d "$conf" -o "$pkgroot/boot/initrd.img-$abi" "$abi"
  rm -rf "$conf" "/lib/modules/$abi" "/boot/config-$abi"
}

# module_files LIST MODDIR: the files (relative to MODDIR, sorted) of every module LIST names, with their
# dependencies from MODDIR/modules.dep. LIST: one name per line, '#' comments; '-' and '_' are the same, as
# for modprobe. A name that is neither a module nor built in (MODDIR/modules.builtin) fails, naming it.
module_files() {
  local found
  found=$(mktemp)
  awk -v list="$1" -v builtin="$2/modules.builtin" '
    function norm(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
    BEGIN {
      while ((r = (getline l < list)) > 0) { sub(/#.*/, "", l); gsub(/[ \t\r]/, "", l); if (l != "") want[norm(l)] = 1 }
      if (r < 0) { print "cannot read the module list " list > "/dev/stderr"; bad = 1; exit }
      while ((getline l < builtin) > 0) inside[norm(l)] = 1
    }
    { key = $1; sub(/:$/, "", key); n = norm(key)
      if (n in want) { found[n] = 1; print key; for (i = 2; i <= NF; i++) print $i } }
    END {
      for (n in want) if (!(n in found) && !(n in inside)) {
        print "module " n " of " list " is neither in " FILENAME " nor built in" > "/dev/stderr"; bad = 1 }
      exit bad
    }' "$2/modules.dep" > "$found" || { rm -f "$found"; return 1; }
  sort -u "$found"
  rm -f "$found"
}

# build_deb PKGROOT FILE: the package into the local repository (build.sh writes the index). zstd: the guest
# unpacks it in under a second under TCG, xz took ~3 s.
build_deb() {
  mkdir -p "$REPO"
  dpkg-deb --root-owner-group -Zzstd --build "$1" "$REPO/$2" >/dev/null
  rm -rf "$1"
}
