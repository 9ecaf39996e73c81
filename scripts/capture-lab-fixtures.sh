#!/usr/bin/env bash
# Capture raw outputs of real lab VMs as parser fixtures: test/fixtures/lab/<profile>-<variant>/<source>.txt
#   intel-default, amd-default   pristine boot (no IOMMU arguments: what Debian's kernel does by itself)
#   intel-pt, amd-pt             after GRUB_CMDLINE_LINUX="iommu=pt" + update-grub + reboot (journal-k-prev = the default boot)
#   intel-vfio, amd-vfio         the pt boot after binding the GPU pair and the root-port NIC to vfio-pci at runtime
# Starts its own two VMs (lab1 Intel, lab2 AMD) in a separate state dir, and stops them at the end.
#   scripts/capture-lab-fixtures.sh            (about 10 min on an idle 2-core machine)
set -euo pipefail
cd "$(dirname "$0")/.."
export ROLLGATE_LAB_STATE=${ROLLGATE_LAB_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/rollgate/lab-fixtures}
OUT=${OUT:-test/fixtures/lab}
inv=$(mktemp -d)/lab.yml
rg() { node bin/rollgate.js "$@"; }
trap 'rg lab down --inventory "$inv" >/dev/null 2>&1 || true' EXIT

rg lab up --hosts 2 --profile mixed --inventory "$inv"
port() { rg lab status --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(s.hosts.find(h=>h.host===process.argv[1]).sshPort)' "$1"; }
declare -A PORT=([intel]=$(port lab1) [amd]=$(port lab2))
on() { # on PROFILE COMMAND...: run as root on that profile's VM
  local p=$1; shift
  ssh -q -i "$ROLLGATE_LAB_STATE/id_ed25519" -o IdentitiesOnly=yes -o UserKnownHostsFile="$ROLLGATE_LAB_STATE/known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -p "${PORT[$p]}" root@127.0.0.1 "$@"
}

# source name -> command (run as root in the guest; stdout and stderr captured as they are)
SOURCES=(
  "dmesg|dmesg"
  "lspci-nnk|lspci -nnk"
  "lspci-vv-passthrough|lspci -vv -nn -s 00:04.0; lspci -vv -nn -s 00:04.1; lspci -vv -nn -s 01:00.0"
  "iommu-groups|find /sys/kernel/iommu_groups/ -type l | sort -V"
  "iommu-groups-lspci|for g in \$(ls /sys/kernel/iommu_groups | sort -n); do echo \"IOMMU Group \$g:\"; for d in /sys/kernel/iommu_groups/\$g/devices/*; do echo \"	\$(lspci -nns \${d##*/})\"; done; done"
  "iommu-group-types|grep -H . /sys/kernel/iommu_groups/*/type | sort -V"
  "sys-class-iommu|ls -l /sys/class/iommu/"
  "cmdline|cat /proc/cmdline"
  "uname-r|uname -r"
  "lsinitramfs|lsinitramfs /boot/initrd.img-\$(uname -r)"
  "lsmod|lsmod"
  "interrupts|cat /proc/interrupts"
  "modprobe-d|grep -H . /etc/modprobe.d/* /lib/modprobe.d/* 2>/dev/null"
  "dmidecode-system|dmidecode -t system"
  "product-name|cat /sys/class/dmi/id/product_name"
  "cpuinfo|sed '/^\$/q' /proc/cpuinfo"
  "lockdown|cat /sys/kernel/security/lockdown 2>&1 || true"
  "dev-vfio|ls -l /dev/vfio/ 2>&1 || true"
  "etc-default-grub|cat /etc/default/grub"
  "grub-cfg|cat /boot/grub/grub.cfg"
  "grubenv|grub-editenv list"
  "initramfs-modules|cat /etc/initramfs-tools/modules"
  "initramfs-conf|cat /etc/initramfs-tools/initramfs.conf"
  "os-release|cat /etc/os-release"
  "journal-k-prev|journalctl -k -b -1 --no-pager 2>&1 || true"
)

capture() { # capture PROFILE VARIANT [source names...]
  local p=$1 v=$2 dir="$OUT/$1-$2"; shift 2
  mkdir -p "$dir"
  for entry in "${SOURCES[@]}"; do
    local name=${entry%%|*} cmd=${entry#*|}
    if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    if [ "$name" = journal-k-prev ] && [ "$v" = default ]; then continue; fi
    on "$p" "$cmd" > "$dir/$name.txt" 2>&1 || echo "capture: $p-$v $name exited $?" >&2
  done
  echo "captured $dir" >&2
}

for p in intel amd; do capture "$p" default; done

for p in intel amd; do
  on "$p" "sed -i 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX=\"iommu=pt\"/' /etc/default/grub && update-grub >/dev/null 2>&1 && (nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &)"
done
for p in intel amd; do
  for i in $(seq 1 120); do  # up to 10 min
    sleep 5
    if on "$p" 'grep -q "iommu=pt" /proc/cmdline' 2>/dev/null; then break; fi
  done
  on "$p" 'grep -q "iommu=pt" /proc/cmdline' || { echo "capture: $p did not come back with iommu=pt" >&2; exit 1; }
  capture "$p" pt
done

for p in intel amd; do
  on "$p" 'modprobe vfio-pci && for a in 0000:00:04.0 0000:00:04.1 0000:01:00.0; do d=/sys/bus/pci/devices/$a; echo vfio-pci > $d/driver_override; [ -e $d/driver ] && echo $a > $d/driver/unbind; echo $a > /sys/bus/pci/drivers_probe; done'
  capture "$p" vfio dmesg lspci-nnk lspci-vv-passthrough lsmod dev-vfio interrupts
done
echo "fixtures in $OUT" >&2
