#!/usr/bin/env bash
# npm run demo: the main job against the local VM lab. Boots three hypervisor VMs (real kernels, emulated Intel
# IOMMU, their own GRUB; the image is built from Debian's packages on first use, ~5 min), then rolls out
# playbooks/enable-iommu-passthrough.yml: one canary, then a batch of two, each host booted once on a one-shot
# trial entry and verified against its pre-change snapshot before the change becomes its default.
# DEMO_KEEP=1 leaves the lab running afterwards (stop it with `node bin/rollgate.js lab down`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/main.js ] || npm run --silent build
rollgate() { node bin/rollgate.js "$@"; }
journal=.local-fleet/demo/journal.db
mkdir -p .local-fleet/demo
if [ "${DEMO_KEEP:-0}" != 1 ]; then trap 'echo "+ rollgate lab down" >&2; rollgate lab down' EXIT; fi
echo "+ rollgate lab up --hosts 3" >&2
rollgate lab up --hosts 3
echo "+ rollgate check -i lab/inventory.yml" >&2
rollgate check -i lab/inventory.yml || true
echo "+ rollgate rollout playbooks/enable-iommu-passthrough.yml -i lab/inventory.yml --yes" >&2
status=0
rollgate rollout playbooks/enable-iommu-passthrough.yml -i lab/inventory.yml --yes --journal "$journal" || status=$?
run=$(rollgate runs --journal "$journal" | awk 'NR==1 {print $1}')
echo "+ rollgate show $run --host lab1" >&2
rollgate show "$run" --host lab1 --journal "$journal"
exit "$status"
