#!/usr/bin/env bash
# Capture what a lab VM with libvirt guests (`rollgate lab up --guests`) prints, as fixtures for the guests facts and
# findings: test/fixtures/lab/<set>/<source>.txt, each file exactly what the command printed.
#   intel-guests         both guests running: movable-lab1, and pt-lab1 holding the e1000e 0000:01:00.0 on vfio-pci
#   intel-guests-broken  the boot after arming no-vfio-after-boot: the NIC on e1000e, vfio-pci withheld, so
#                        `virsh start pt-lab1` failed; defined beside it, shut off: pt-unmanaged (pt's XML with
#                        managed='no') and ghost (a host device at 0000:02:00.0, which the VM does not have)
# Starts its own VM (lab1, Intel, guests image) in a separate state dir, and stops it at the end.
#   npm run build && scripts/capture-lab-guests-fixtures.sh      (about 5 min on an idle 2-core machine)
set -euo pipefail
cd "$(dirname "$0")/.."
export ROLLGATE_LAB_STATE=${ROLLGATE_LAB_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/rollgate/lab-fixtures-guests}
OUT=${OUT:-test/fixtures/lab}
tmp=$(mktemp -d); inv=$tmp/lab.yml; ctl=$tmp
rg() { node bin/rollgate.js "$@"; }
trap 'rg lab down --inventory "$inv" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

rg lab up --hosts 1 --guests --inventory "$inv"
port=$(rg lab status --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(s.hosts.find(h=>h.host==="lab1").sshPort)')
on() { # on COMMAND...: run as root on lab1 over one reused SSH connection
  ssh -q -i "$ROLLGATE_LAB_STATE/id_ed25519" -o IdentitiesOnly=yes -o UserKnownHostsFile="$ROLLGATE_LAB_STATE/known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ControlMaster=auto -o ControlPath="$ctl/%p" -o ControlPersist=120 \
    -p "$port" root@127.0.0.1 "$@"
}
# The snapshot's own guests section command (src/modules/facts/registry.ts), virsh's default URI.
GUESTS=$(node -e 'import("./dist/modules/facts/registry.js").then((m) => process.stdout.write(String(m.facts.guests.command({ passthroughIds: [], profileSeconds: 0 }))))')

SOURCES=(
  "guests|$GUESTS"
  "lspci-nnk|lspci -nnk"
  "lsmod|lsmod"
  "dev-vfio|ls -l /dev/vfio/ 2>&1 || true"
  "cmdline|cat /proc/cmdline"
  "uname-r|uname -r"
  "iommu-groups|find /sys/kernel/iommu_groups/ -type l | sort -V"
  "virsh-list-all|virsh list --all"
  "virsh-nodedev-list|virsh nodedev-list"
)
capture() { # capture SET
  local dir="$OUT/$1"
  mkdir -p "$dir"
  for entry in "${SOURCES[@]}"; do
    local name=${entry%%|*} cmd=${entry#*|}
    on "$cmd" > "$dir/$name.txt" 2>&1 || echo "capture: $1 $name exited $?" >&2
  done
  echo "captured $dir" >&2
}

capture intel-guests

boot=$(on 'cat /proc/sys/kernel/random/boot_id')
rg lab fault lab1 no-vfio-after-boot
on "(nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &)"
for i in $(seq 1 240); do # up to 20 min
  sleep 5
  now=$(on 'cat /proc/sys/kernel/random/boot_id' 2>/dev/null || true)
  if [ -n "$now" ] && [ "$now" != "$boot" ]; then break; fi
done
[ "$now" != "$boot" ] || { echo "capture: lab1 did not come back" >&2; exit 1; }
on 'for i in $(seq 1 60); do virsh list >/dev/null 2>&1 && break; sleep 1; done'
if on 'virsh start pt-lab1'; then echo "capture: pt-lab1 started with vfio-pci withheld" >&2; exit 1; fi
on "virsh dumpxml pt-lab1 | sed -e \"s/managed='yes'/managed='no'/\" -e 's|<name>pt-lab1</name>|<name>pt-unmanaged</name>|' -e '/<uuid>/d' -e '/<mac address/d' > /tmp/pt-unmanaged.xml && virsh define /tmp/pt-unmanaged.xml"
on "virsh dumpxml movable-lab1 | sed -e 's|<name>movable-lab1</name>|<name>ghost</name>|' -e '/<uuid>/d' -e '/<mac address/d' -e \"s|</devices>|<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source></hostdev></devices>|\" > /tmp/ghost.xml && virsh define /tmp/ghost.xml"
capture intel-guests-broken
