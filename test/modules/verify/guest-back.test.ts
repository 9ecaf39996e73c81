/**
 * The post-boot check `guest NAME` on what a lab VM with guests printed (test/fixtures/lab/intel-guests*,
 * scripts/capture-lab-guests-fixtures.sh): a guest that ran before runs again with the same host devices, and its
 * QEMU (libvirt's pid file) holds each device's VFIO group open.
 */
import { describe, expect, it } from 'vitest';
import { guestBack } from '../../../src/modules/verify/judges.js';
import type { GuestDomain, GuestsView } from '../../../src/modules/facts/parsers/libvirt.js';
import type { HostSnapshot } from '../../../src/modules/facts/snapshot.js';
import { labSnapshot } from '../facts/lab-snapshot.js';

const running = labSnapshot('intel-guests', { base: 'intel-default' });
const broken = labSnapshot('intel-guests-broken', { base: 'intel-default' });
const viewOf = (s: HostSnapshot): GuestsView => {
  if (s.guests?.status !== 'ok') throw new Error('no guests view in the capture');
  return s.guests.value;
};
const pt = viewOf(running).domains.find((d) => d.name === 'pt-lab1')!;
const movable = viewOf(running).domains.find((d) => d.name === 'movable-lab1')!;
const groupOfNic = () => {
  if (running.iommu.groups.status !== 'ok') throw new Error('no IOMMU groups in the capture');
  return running.iommu.groups.value.find((g) => g.devices.some((d) => d.address === '0000:01:00.0'))!.id;
};
/** The same host with the guests view changed. */
const withView = (s: HostSnapshot, change: (v: GuestsView) => GuestsView): HostSnapshot => ({
  ...s,
  guests: { status: 'ok', value: change(viewOf(s)) },
});

describe('guest NAME after the boot, on the lab capture', () => {
  it('reads the QEMU pid of each running guest from libvirt, and the VFIO group pt-lab1 holds', () => {
    expect(pt.pid).toBeGreaterThan(0);
    expect(movable.pid).toBeGreaterThan(0);
    expect(viewOf(running).vfioHolders).toContainEqual({
      pid: pt.pid,
      comm: 'qemu-system-x86',
      group: String(groupOfNic()),
    });
  });

  it('holds for pt-lab1 running with its device, its QEMU holding the NIC’s group; and for movable-lab1', () => {
    const j = guestBack(running, pt);
    expect(j).toMatchObject({ holds: true, expected: 'running with 0000:01:00.0' });
    expect(j.evidence).toContain(`its QEMU (pid ${pt.pid}) holds /dev/vfio/${groupOfNic()} (0000:01:00.0)`);
    expect(guestBack(running, movable)).toMatchObject({ holds: true, expected: 'running' });
  });

  it('fails when libvirt says running but its QEMU does not hold the device’s group', () => {
    const j = guestBack(
      withView(running, (v) => ({ ...v, vfioHolders: v.vfioHolders.filter((h) => h.pid !== pt.pid) })),
      pt,
    );
    expect(j.holds).toBe(false);
    expect(j.found).toBe(
      `running (booted) with 0000:01:00.0, but its QEMU (pid ${pt.pid}) does not hold /dev/vfio/${groupOfNic()} (0000:01:00.0)`,
    );
  });

  it('does not ask for the hold where libvirt keeps no pid file here (a session or remote libvirt)', () => {
    const noPid = withView(running, (v) => ({
      ...v,
      vfioHolders: [],
      domains: v.domains.map((d): GuestDomain => ({ ...d, pid: null })),
    }));
    expect(guestBack(noPid, pt)).toMatchObject({ holds: true });
  });

  it('fails for pt-lab1 after the boot that lost vfio-pci: it did not start', () => {
    expect(guestBack(broken, pt)).toMatchObject({ holds: false, found: 'shut off (failed) with 0000:01:00.0' });
  });
});
