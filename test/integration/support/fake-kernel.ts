/**
 * A stand-in for the kernel's PCI probe in a throwaway root: when something writes an address to
 * sys/bus/pci/drivers_probe, the device's `driver` link is pointed at its driver_override (when set) or back at
 * the driver it had at the start, as the kernel would bind it. Lets runtime binds be tested without hardware.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export function startFakeKernel(root: string): { stop(): void } {
  const devices = join(root, 'sys/bus/pci/devices');
  const original = new Map<string, string | null>();
  const linkOf = (addr: string): string | null => {
    const l = join(devices, addr, 'driver');
    return existsSync(l) ? readlinkSync(l) : null;
  };
  const probe = () => {
    const addr = readFileSync(join(root, 'sys/bus/pci/drivers_probe'), 'utf8').trim();
    if (!addr || !existsSync(join(devices, addr))) return;
    if (!original.has(addr)) original.set(addr, linkOf(addr));
    const override = readFileSync(join(devices, addr, 'driver_override'), 'utf8').trim();
    const target = override && override !== '(null)' ? `../../drivers/${override}` : (original.get(addr) ?? null);
    rmSync(join(devices, addr, 'driver'), { force: true });
    if (target) {
      mkdirSync(join(devices, addr, target), { recursive: true });
      symlinkSync(target, join(devices, addr, 'driver'));
    }
  };
  const watcher: FSWatcher = watch(join(root, 'sys/bus/pci/drivers_probe'), () => {
    try {
      probe();
    } catch {
      // A half-written file: the next event sees it whole.
    }
  });
  return { stop: () => watcher.close() };
}
