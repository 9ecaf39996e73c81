#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs for rollgate, its tests and its lab. Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  openssh-server openssh-client sudo            # the local sshd fleet and become
  ansible                                       # inventory parity tests and the benchmark baseline
  qemu-system-x86 qemu-utils debootstrap ovmf   # the VM lab
  fdisk e2fsprogs dosfstools mtools socat      # mtools: the systemd-boot image's ESP, filled without mounting vfat
  binutils                                      # as/ld: the guests image assembles its nested guests' OS (lab/image-guests/guest.S)
  sqlite3 time
  ipmitool openipmi openssl                     # power drivers: ipmitool, a real BMC simulator (ipmi_sim), test TLS certs
  grub2-common                                  # real grub-editenv / grub-reboot / grub-set-default for trial-boot tests
  pciutils kmod                                 # lspci/lsmod in the benchmark's health command
  chromium                                      # headless browser test of the HTML report (test/integration/report-rollout.test.ts)
  libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu  # real virsh and libvirtd (guests facts, drain before a reboot) on the sshd fleet
  postgresql                                    # the shared fleet lock of several controllers (a test cluster per run)
  libpq-dev g++ make python3                    # pg-native's libpq binding (a journal in PostgreSQL) compiles against libpq at npm install
  podman runc                                   # builds and runs the controller image (docker/) in test/integration/container.test.ts
  podman-compose netavark aardvark-dns          # starts docker/compose.yaml in that test (aardvark-dns: services find `postgres` by name)
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# sshd's privilege separation directory (normally made by its systemd unit, which does not run here).
[ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 0755 /run/sshd; } 2>/dev/null || true

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses a lock whose other-platform optional packages (rollup's android/darwin builds) the registry
  # mirror lacks; npm install then installs the same locked versions for this platform.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build
