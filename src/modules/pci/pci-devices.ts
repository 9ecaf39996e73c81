/**
 * PCI devices as sysfs shows them (what `lspci -nnk` reads): address, vendor:device id, class, IOMMU group,
 * bound driver and its kernel module, driver_override, and whether a network interface on it is up.
 * One command reads every device; the parser is pure.
 */
import type { Connection } from '../../connection/connection.js';
import { sh } from '../../connection/shell-quote.js';
import type { HostRoot } from '../host-root.js';

export interface PciDevice {
  /** Domain:bus:slot.function, e.g. 0000:01:00.0. */
  addr: string;
  /** vendor:device in lower-case hex, e.g. 10de:1e87. */
  id: string;
  /** Six hex digits, e.g. 030000 (VGA), 040300 (audio), 060400 (PCI bridge). */
  cls: string;
  /** IOMMU group number, null when the IOMMU is off (no groups). */
  group: string | null;
  /** Driver bound now, null when none. */
  driver: string | null;
  /** Kernel module of that driver (what softdep and blacklist name), null when built in or unbound. */
  module: string | null;
  /** driver_override, null when unset ("(null)"). */
  override: string | null;
  /** A network interface on this device is up (unbinding it would cut that network). */
  netUp: boolean;
}

export const PCI_ADDR = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/**
 * Host and PCI-to-PCI bridges (class 0600, 0604, 0609) sit in groups with the devices behind them, are never
 * bound to vfio-pci and do not stop the group from being assigned. Other 06xx (an ISA/LPC bridge) do.
 */
export const isBridge = (d: PciDevice): boolean => ['0600', '0604', '0609'].includes(d.cls.slice(0, 4));

export async function readPciDevices(conn: Connection, hr: HostRoot): Promise<PciDevice[]> {
  const script = sh`for d in ${hr.path('/sys/bus/pci/devices')}/*; do
[ -e "$d/vendor" ] || continue
g=''; [ -e "$d/iommu_group" ] && g=$(basename "$(readlink "$d/iommu_group")")
drv=''; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
mod=''; [ -e "$d/driver/module" ] && mod=$(basename "$(readlink "$d/driver/module")")
ov=$(cat "$d/driver_override" 2>/dev/null)
up=0; for n in "$d"/net/*/operstate; do [ -f "$n" ] && [ "$(cat "$n")" = up ] && up=1; done
printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\\n' "$(basename "$d")" "$(cat "$d/vendor")" "$(cat "$d/device")" "$(cat "$d/class")" "$g" "$drv" "$mod" "$ov" "$up"
done; true`;
  const r = await conn.exec(script);
  return parsePciDevices(r.stdout);
}

const hex4 = (v: string): string => v.trim().replace(/^0x/i, '').toLowerCase().padStart(4, '0');

export function parsePciDevices(output: string): PciDevice[] {
  const out: PciDevice[] = [];
  for (const line of output.split('\n')) {
    const f = line.split('|');
    if (f.length !== 9 || !PCI_ADDR.test(f[0]!)) continue;
    const [addr, vendor, device, cls, group, driver, module, override, up] = f as [string, ...string[]];
    out.push({
      addr,
      id: `${hex4(vendor!)}:${hex4(device!)}`,
      cls: cls!.trim().replace(/^0x/i, '').toLowerCase().padStart(6, '0'),
      group: group || null,
      driver: driver || null,
      module: module || null,
      override: override && override !== '(null)' ? override : null,
      netUp: up === '1',
    });
  }
  return out.sort((a, b) => a.addr.localeCompare(b.addr));
}
