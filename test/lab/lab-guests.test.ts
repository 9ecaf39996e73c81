import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import {
  GUEST_MEMORY_MB, guestDomainXml, labGuests, lanAddress, lanKnownHosts, lanMac, lanMcast,
} from '../../src/lab/lab-guests.js';
import { renderLabInventory } from '../../src/lab/inventory-file.js';
import { qemuArgs, type VmSpec } from '../../src/lab/qemu-args.js';
import { LAB_KINDS } from '../../src/lab/kinds.js';
import { savedStateKey } from '../../src/lab/saved-state.js';
import { labPaths, type LabState } from '../../src/lab/state.js';
import { vmRecord } from '../../src/lab/vm.js';

function spec(lan?: VmSpec['lan']): VmSpec {
  return {
    name: 'lab1', kind: LAB_KINDS.intel, accel: 'tcg', memoryMb: 1024, disk: '/s/d.qcow2', sshPort: 40022, qmpSocket: '/s/q.sock',
    consoleLog: '/s/c.log', pidFile: '/s/p', hostKeyFile: '/s/k', hostKeyPubFile: '/s/k.pub', mac: '52:54:00:72:67:01',
    ...(lan ? { lan } : {}),
  };
}

describe('lab guests (lab up --guests)', () => {
  it('names two guests per host, only pt holding the root-port NIC', () => {
    expect(labGuests('lab2')).toEqual([
      { name: 'movable-lab2', role: 'movable' },
      { name: 'pt-lab2', role: 'pt', hostdev: '0000:01:00.0' },
    ]);
  });

  it('writes a diskless movable guest: guest.elf booted directly, serial to a file, no hostdev, no reboot', () => {
    const xml = guestDomainXml(labGuests('lab1')[0]!);
    expect(xml).toContain(`<domain type='qemu'>`);
    expect(xml).toContain('<name>movable-lab1</name>');
    expect(xml).toContain(`<memory unit='MiB'>${GUEST_MEMORY_MB}</memory>`);
    expect(xml).toContain('<kernel>/var/lib/rollgate-lab/guests/guest.elf</kernel>');
    expect(xml).not.toContain('<initrd');
    expect(xml).toContain(`<source path='/var/log/libvirt/qemu/movable-lab1-serial.log' append='on'/>`);
    expect(xml).toContain('<on_reboot>destroy</on_reboot>');
    expect(xml).toContain(`<tb-cache unit='MiB'>16</tb-cache>`);
    expect(xml).not.toContain('<disk');
    expect(xml).not.toContain('<interface');
    expect(xml).not.toContain('<hostdev');
  });

  it("gives pt a managed PCI hostdev of the lab VM's e1000e", () => {
    const xml = guestDomainXml(labGuests('lab1')[1]!);
    expect(xml).toContain(`<hostdev mode='subsystem' type='pci' managed='yes'>`);
    expect(xml).toContain(`<source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>`);
    expect(() => guestDomainXml({ name: 'x', role: 'pt', hostdev: '01:00.0' })).toThrow(/bad PCI address 01:00.0/);
  });

  it('escapes a guest name for XML', () => {
    expect(guestDomainXml({ name: "a<b>&'", role: 'movable' })).toContain('<name>a&lt;b&gt;&amp;&apos;</name>');
  });

  it('numbers the LAN from lab1 = 10.77.0.1 and keys the multicast port to the state dir', () => {
    expect(lanAddress(0)).toBe('10.77.0.1');
    expect(lanAddress(7)).toBe('10.77.0.8');
    expect(lanMac(1)).toBe('52:54:00:77:00:02');
    expect(lanMcast('/a')).toMatch(/^230\.77\.0\.1:(4|5)\d{4}$/);
    expect(lanMcast('/a')).toBe(lanMcast('/a'));
    expect(lanMcast('/a')).not.toBe(lanMcast('/b'));
  });

  it('writes known_hosts lines under the host name and its LAN address', () => {
    expect(lanKnownHosts([{ name: 'lab2', index: 1, hostPublicKey: 'ssh-ed25519 AAAA' }])).toBe('lab2,10.77.0.2 ssh-ed25519 AAAA\n');
  });

  it('adds the LAN NIC at 00:05.0 on a multicast socket of the loopback only when asked', () => {
    const without = qemuArgs(spec());
    expect(without.join(' ')).not.toContain('lan');
    const args = qemuArgs(spec({ mac: '52:54:00:77:00:01', mcast: '230.77.0.1:45000' }));
    expect(args[args.indexOf('socket,id=lan,mcast=230.77.0.1:45000,localaddr=127.0.0.1') - 1]).toBe('-netdev');
    expect(args).toContain('virtio-net-pci,netdev=lan,id=lan-nic,mac=52:54:00:77:00:01,addr=0x5');
    // Never the management NIC's slot, nor the user network's hostfwd.
    expect(args.filter((a) => a.includes('addr=0x5,') || a.endsWith('addr=0x5'))).toHaveLength(1);
  });

  it('keys saved states by the LAN NIC but not by the LAN port (it follows the state dir)', () => {
    const rec = (mcast?: string) =>
      vmRecord('/s/vms', 'lab1', 0, 'intel', 40001, false, mcast ? { mac: lanMac(0), mcast } : undefined);
    const key = (mcast?: string) => savedStateKey({ imageHash: 'i', rec: rec(mcast), accel: 'tcg', memoryMb: 1024, qemuVersion: 'q' });
    expect(key('230.77.0.1:40001')).toBe(key('230.77.0.1:50002'));
    expect(key('230.77.0.1:40001')).not.toBe(key());
  });

  it('says in the inventory which guests each host runs and its LAN address', () => {
    const paths = labPaths('/st');
    const state: LabState = {
      version: 1, profile: 'intel', accel: 'tcg', imageHash: 'abc', imageBase: '/c/base.qcow2', guests: true,
      hosts: { lab1: vmRecord(paths.vmsDir, 'lab1', 0, 'intel', 40001), lab2: vmRecord(paths.vmsDir, 'lab2', 1, 'intel', 40002) },
    };
    const hosts = (s: LabState) =>
      (load(renderLabInventory(s, paths)) as { all: { children: { lab: { hosts: Record<string, Record<string, unknown>> } } } }).all.children.lab.hosts;
    expect(hosts(state).lab2).toMatchObject({
      lab_guests: ['movable-lab2', 'pt-lab2'], lab_lan_address: '10.77.0.2', rollgate_cluster: 'lab', rollgate_migrate_uri: 'qemu+ssh://lab2/system',
    });
    expect(hosts({ ...state, guests: undefined }).lab1).not.toHaveProperty('lab_guests');
  });
});
