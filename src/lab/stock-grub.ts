/**
 * The `stock-grub` lab profile: GRUB's boot defaults as Debian and Ubuntu ship them, where rollgate's one-shot trial
 * boot is refused until the host is prepared (`rollout --prepare-boot`, `rollout: prepare_boot: true` or a
 * `boot_default` task). Applied to a booted lab VM over SSH (before its booted state is saved, so a restore or reset
 * gives the stock host again), and by the e2e scenario to a host of the shared lab.
 *
 * What differs from the lab image is what decides trial-boot readiness: `GRUB_DEFAULT=0` (stock; the image has
 * `saved`), no saved entry in grubenv, and the recordfail wait as the distribution ships it (the image's
 * `GRUB_RECORDFAIL_TIMEOUT=2` removed). The lab's menu timeout (0, hidden) and kernel command line stay: a menu drawn
 * over the serial port costs seconds at every boot under TCG and decides nothing here.
 */
import type { Connection } from '../connection/connection.js';

/** Names the setup in saved-state keys: bump when the script changes what the guest holds. */
export const STOCK_GRUB_SETUP_ID = 'stock-grub-1';

export const STOCK_GRUB_SCRIPT = `set -e
sed -i -e 's/^GRUB_DEFAULT=.*/GRUB_DEFAULT=0/' -e '/^GRUB_RECORDFAIL_TIMEOUT=/d' /etc/default/grub
grub-editenv /boot/grub/grubenv unset saved_entry next_entry prev_saved_entry
update-grub >/dev/null 2>&1 || { echo 'update-grub failed' >&2; exit 1; }
grep -qx 'GRUB_DEFAULT=0' /etc/default/grub
grep -q 'set default="0"' /boot/grub/grub.cfg
sync`;

/** Give the booted guest on `conn` (as root) GRUB's stock defaults; throws with the guest's message otherwise. */
export async function applyStockGrub(conn: Connection): Promise<void> {
  const r = await conn.exec(STOCK_GRUB_SCRIPT, { timeoutMs: 600_000, become: false });
  if (r.exitCode !== 0)
    throw new Error(`${conn.host}: stock GRUB defaults not applied (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(-1000)}`);
}
