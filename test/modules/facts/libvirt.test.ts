import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  parseDomainXml,
  parseDomstate,
  parseGuestsSection,
  parseNodedevList,
  parseVirshList,
} from '../../../src/modules/facts/parsers/libvirt.js';

const FIX = 'test/fixtures/formats/libvirt';
const read = (f: string) => readFileSync(`${FIX}/${f}`, 'utf8');

describe('virsh output', () => {
  it('reads the guests section of a real virsh (test driver)', () => {
    const g = parseGuestsSection(read('guests-section.txt'))!;
    expect(g.libvirt).toBe(true);
    expect(g.uri).toBe('test://FIXTURES/node.xml');
    expect(g.nodeDevices).toBeNull();
    expect(g.nodeDevicesError).toMatch(/Failed to list node devices/);
    expect(g.domains.map((d) => [d.name, d.state, d.reason, d.hostdevs, d.memoryKiB])).toEqual([
      ['movable', 'running', null, [], 131072],
      ['pt', 'running', null, [{ address: '0000:01:00.0', managed: true }], 262144],
      ['stopped pt', 'shut off', null, [{ address: '0000:00:02.0', managed: false }], 262144],
    ]);
  });
  it('says a host without virsh has no libvirt, and refuses text that is not the section', () => {
    expect(parseGuestsSection('# no-libvirt: virsh not installed\n')).toMatchObject({ libvirt: false, domains: [] });
    expect(parseGuestsSection('error: failed to connect to the hypervisor')).toBeNull();
  });
  it('reads list --all with a name holding a space', () => {
    expect(parseVirshList(read('virsh-list-all.txt'))).toEqual([
      { id: 1, name: 'movable', state: 'running' },
      { id: 2, name: 'pt', state: 'running' },
      { id: null, name: 'stopped pt', state: 'shut off' },
    ]);
  });
  it("reads a domain's PCI host devices from dumpxml", () => {
    expect(parseDomainXml(read('dumpxml-pt.xml'))).toEqual({
      name: 'pt',
      memoryKiB: 262144,
      hostdevs: [{ address: '0000:01:00.0', managed: true }],
    });
    // A USB hostdev and a GiB memory unit; an attribute called domain next to the element called domain.
    const xml = `<domain type='kvm'><name>gpu</name><memory unit='GiB'>4</memory><devices>
      <hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x1234'/></source></hostdev>
      <hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0001' bus='0x41' slot='0x1f' function='0x7'/></source></hostdev>
    </devices></domain>`;
    expect(parseDomainXml(xml)).toEqual({
      name: 'gpu',
      memoryKiB: 4 * 1024 * 1024,
      hostdevs: [{ address: '0001:41:1f.7', managed: false }],
    });
    expect(parseDomainXml('not xml <<')).toBeNull();
  });
  it('reads domstate --reason', () => {
    expect(parseDomstate('shut off (failed)')).toEqual({ state: 'shut off', reason: 'failed' });
    expect(parseDomstate('running (booted)\n')).toEqual({ state: 'running', reason: 'booted' });
    expect(parseDomstate('running (unknown)')).toEqual({ state: 'running', reason: null });
    expect(parseDomstate('in shutdown')).toEqual({ state: 'in shutdown', reason: null });
  });
  it('reads nodedev-list plain and --tree (the guides print both)', () => {
    expect(parseNodedevList('pci_0000_01_00_0\npci_0000_01_00_1\n')).toEqual(['0000:01:00.0', '0000:01:00.1']);
    const tree = `  +- net_lo_00_00_00_00_00_00\n  +- pci_0000_00_00_0\n  +- pci_0000_00_14_0\n  |   |\n  |   +- usb_usb1\n  +- pci_0000_00_1f_3\n`;
    expect(parseNodedevList(tree)).toEqual(['0000:00:00.0', '0000:00:14.0', '0000:00:1f.3']);
    expect(parseNodedevList('computer\nnet_lo_00_00_00_00_00_00\n')).toEqual([]);
    expect(parseNodedevList('error: failed to connect')).toBeNull();
  });
});
