#!/usr/bin/env bash
# npm run demo:fleet: start 5 local sshd hosts (own host keys), write an inventory for them, and run an ad-hoc
# health command across them with strict host key checking. Stops the hosts again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/main.js ] || npm run --silent build
dir=.local-fleet/demo
trap 'node scripts/local-fleet.mjs down --dir "$dir"' EXIT
inventory=$(node scripts/local-fleet.mjs up --count "${DEMO_HOSTS:-5}" --dir "$dir")
echo "+ rollgate exec -i $inventory -- \"\$(cat scripts/demo-health.sh)\"" >&2
node bin/rollgate.js exec -i "$inventory" -- "$(cat scripts/demo-health.sh)"
