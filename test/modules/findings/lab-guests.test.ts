/**
 * The guests findings on what real virsh printed on a lab VM with libvirt guests (`rollgate lab up --guests`),
 * captured by scripts/capture-lab-guests-fixtures.sh into test/fixtures/lab/intel-guests*:
 *   - intel-guests: movable-lab1 and pt-lab1 running, pt holding the e1000e 0000:01:00.0 on vfio-pci;
 *   - intel-guests-broken: the boot after no-vfio-after-boot (the NIC on e1000e, vfio-pci withheld), where
 *     `virsh start pt-lab1` failed; pt-unmanaged (pt's XML, managed='no') and ghost (a host device at 0000:02:00.0,
 *     which the VM does not have) defined beside it.
 * Each of the four guests rules fires on one of them, from the captured text alone.
 */
import { describe, expect, it } from 'vitest';
import { evaluateFindings } from '../../../src/modules/findings/evaluate.js';
import { desiredStateFrom } from '../../../src/modules/findings/desired.js';
import { labSnapshot, LAB_PASSTHROUGH } from '../facts/lab-snapshot.js';
import { expectValidSnapshot } from '../../helpers/snapshot-schema.js';

const desired = desiredStateFrom('lab1', { passthrough_devices: LAB_PASSTHROUGH }).desired;
/** The guests capture over the pristine Intel capture (the sources the guests capture does not retake). */
const findingsOf = (set: string) => {
  const snap = labSnapshot(set, { base: 'intel-default' });
  expectValidSnapshot(snap);
  return { snap, result: evaluateFindings(snap, desired) };
};
const guestsFindings = (set: string) =>
  findingsOf(set)
    .result.findings.filter((f) => f.layer === 'guests')
    .map((f) => ({ rule: f.rule, severity: f.severity, message: f.message }));

describe('the guests lab capture with both guests running', () => {
  const { snap, result } = findingsOf('intel-guests');

  it('reads both domains, pt-lab1 holding 0000:01:00.0, the node devices and /dev/vfio held by its QEMU', () => {
    expect(snap.guests).toMatchObject({ status: 'ok' });
    const view = snap.guests?.status === 'ok' ? snap.guests.value : null;
    expect(view?.libvirt).toBe(true);
    expect(
      view?.domains.map((d) => [d.name, d.state, d.reason, d.hostdevs.map((h) => [h.address, h.managed])]),
    ).toEqual([
      ['movable-lab1', 'running', 'booted', []],
      ['pt-lab1', 'running', 'booted', [['0000:01:00.0', true]]],
    ]);
    expect(view?.nodeDevices).toContain('0000:01:00.0');
    expect(view?.vfioHolders.map((v) => v.comm)).toContain('qemu-system-x86');
  });

  it('says only that the running pt holds its device: nothing to fix in the guests layer', () => {
    expect(guestsFindings('intel-guests')).toEqual([
      { rule: 'guests.holds-device', severity: 'info', message: 'running guest pt-lab1 holds 0000:01:00.0' },
    ]);
    expect(result.undecided.filter((u) => u.rule.startsWith('guests.'))).toEqual([]);
  });
});

describe('the guests lab capture after a boot that lost vfio-pci', () => {
  const { snap, result } = findingsOf('intel-guests-broken');

  it('finds the failed start with its error, the unmanaged device on e1000e and the device that does not exist', () => {
    const found = guestsFindings('intel-guests-broken');
    expect(found).toContainEqual({
      rule: 'guests.start-failed',
      severity: 'warning',
      message: 'guest pt-lab1 failed to start',
    });
    expect(found).toContainEqual({
      rule: 'guests.hostdev-not-vfio',
      severity: 'warning',
      message:
        'guest pt-unmanaged will not start: its unmanaged host device 0000:01:00.0 is driven by e1000e, not vfio-pci',
    });
    expect(found).toContainEqual({
      rule: 'guests.hostdev-not-vfio',
      severity: 'warning',
      message: "guest ghost's host device 0000:02:00.0 is not on the PCI bus",
    });
    expect(found).toContainEqual({
      rule: 'guests.not-enumerated',
      severity: 'error',
      message: 'libvirt does not list 0000:02:00.0 (pci_0000_02_00_0) among its node devices',
    });
    // pt-lab1 does not run, so nothing holds a device.
    expect(found.filter((f) => f.rule === 'guests.holds-device')).toEqual([]);
  });

  it("gives the failed start libvirt's own words, not its bookkeeping line", () => {
    const failed = result.findings.find((f) => f.rule === 'guests.start-failed')!;
    expect(failed.evidence.join('\n')).toMatch(/virsh domstate pt-lab1: shut off \(failed\)/);
    expect(failed.evidence.join('\n')).toMatch(/Failed to load PCI stub module vfio-pci/);
    expect(failed.evidence.join('\n')).not.toMatch(/shutting down, reason=failed/);
  });

  it('reads every domain shut off, pt-lab1 failed (virsh says `shut off (unknown)` for the others: no reason)', () => {
    const view = snap.guests?.status === 'ok' ? snap.guests.value : null;
    expect(view?.domains.map((d) => `${d.name} ${d.state} (${d.reason})`)).toEqual([
      'ghost shut off (null)',
      'movable-lab1 shut off (null)',
      'pt-lab1 shut off (failed)',
      'pt-unmanaged shut off (null)',
    ]);
  });
});
