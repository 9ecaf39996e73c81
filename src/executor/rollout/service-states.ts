/**
 * The services a rollout compares before and after a boot. Rebooting and proving the host came back is
 * modules/boot/reboot-proof.ts's, shared with the `reboot` module.
 */
import type { Connection } from '../../connection/connection.js';
import { sh } from '../../connection/shell-quote.js';
import type { ServiceStates } from './verify.js';

/** sshd and the hypervisor's own services: active, inactive, failed, or absent when not installed. */
export async function serviceStates(
  conn: Connection,
  names: readonly string[] = ['ssh', 'libvirtd'],
): Promise<ServiceStates> {
  const r = await conn.exec(
    sh`for s in ${[...names]}; do if systemctl cat "$s.service" >/dev/null 2>&1; then printf '%s %s\\n' "$s" "$(systemctl is-active "$s" 2>/dev/null)"; else printf '%s absent\\n' "$s"; fi; done`,
    { timeoutMs: 30_000 },
  );
  const out: ServiceStates = {};
  for (const line of r.stdout.split('\n')) {
    const [name, state] = line.trim().split(' ');
    if (!name || !state) continue;
    out[name] = state === 'active' || state === 'absent' || state === 'failed' ? state : 'inactive';
  }
  return out;
}
