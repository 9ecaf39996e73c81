#!/usr/bin/env bash
# Plain OpenSSH, every host at once: one `ssh` process per host, strict host keys, no ~/.ssh/config.
#   bench/parallel-ssh.sh FLEET_DIR COMMAND_FILE [extra ssh -o options...]
set -uo pipefail
dir=$1; cmdfile=$2; shift 2
cmd=$(cat "$cmdfile")
key="$dir/id_ed25519"; known="$dir/known_hosts"
pids=()
while read -r port; do
  ssh -F /dev/null -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
      -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null "$@" \
      -p "$port" rgops@127.0.0.1 "$cmd" >/dev/null &
  pids+=($!)
done < "$dir/ports.txt"
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
echo "ok=$(( ${#pids[@]} - failed )) failed=$failed"
[ "$failed" -eq 0 ]
