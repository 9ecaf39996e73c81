import { describe, expect, it } from 'vitest';
import { qemuArgs, checkQemuPath, MGMT_NIC_ID, type VmSpec } from '../../src/lab/qemu-args.js';
import { LAB_KINDS, kindFor, hostDriversById } from '../../src/lab/kinds.js';

function spec(iommu: 'intel' | 'amd'): VmSpec {
  return {
    name: 'lab1', kind: LAB_KINDS[iommu], accel: 'tcg', memoryMb: 1024, disk: '/s/vms/lab1/overlay.qcow2', sshPort: 40022,
    qmpSocket: '/s/vms/lab1/qmp.sock', consoleLog: '/s/vms/lab1/console.log', pidFile: '/s/vms/lab1/qemu.pid',
    hostKeyFile: '/s/vms/lab1/key', hostKeyPubFile: '/s/vms/lab1/key.pub', mac: '52:54:00:72:67:01',
  };
}

function devices(args: string[]): string[] {
  return args.flatMap((a, i) => (args[i - 1] === '-device' ? [a] : []));
}

describe('qemu command line of a lab VM', () => {
  it('puts the Intel IOMMU with interrupt remapping before every PCI device', () => {
    const args = qemuArgs(spec('intel'));
    expect(args.slice(args.indexOf('-machine'), args.indexOf('-machine') + 2)).toEqual(['-machine', 'q35,kernel-irqchip=split']);
    const devs = devices(args);
    expect(devs[0]).toBe('intel-iommu,intremap=on,caching-mode=on');
    expect(args).toContain('max,vendor=GenuineIntel,la57=off');
    expect(args[args.indexOf('-accel') + 1]).toBe('tcg,tb-size=128');
  });

  it('pins every device but the AMD IOMMU, whose PCI function takes the free slot 00:01.0', () => {
    const devs = devices(qemuArgs(spec('amd')));
    expect(devs[0]).toBe('amd-iommu,intremap=on');
    expect(devs.filter((d) => /addr=0x1[.,]|addr=0x1$/.test(d))).toEqual([]);
    const slots = devs.map((d) => /addr=(0x[0-9a-f]+)(\.\d)?/.exec(d)).filter(Boolean).map((m) => `${m![1]}${m![2] ?? '.0'}`);
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('places the GPU and its audio function in one slot, function 0 multifunction', () => {
    const devs = devices(qemuArgs(spec('intel')));
    expect(devs).toContain('bochs-display,addr=0x4.0,multifunction=on');
    expect(devs).toContain('ich9-intel-hda,addr=0x4.1');
    expect(devs).toContain('pcie-root-port,id=rp1,chassis=1,port=1,addr=0x1c');
    expect(devs).toContain('e1000e,bus=rp1,addr=0x0');
  });

  it('forwards SSH from loopback only on a restricted user network and names the NIC for set_link', () => {
    const args = qemuArgs(spec('intel'));
    expect(args).toContain('user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22');
    expect(devices(args)).toContain(`virtio-net-pci,netdev=mgmt,id=${MGMT_NIC_ID},mac=52:54:00:72:67:01,addr=0x3`);
    expect(args).toContain('unix:/s/vms/lab1/qmp.sock,server=on,wait=off');
    expect(args).toContain('file,id=serial0,path=/s/vms/lab1/console.log,append=on');
  });

  it('gives each kind its own SMBIOS product name', () => {
    const product = (iommu: 'intel' | 'amd') => qemuArgs(spec(iommu)).find((a) => a.startsWith('type=1,'));
    expect(product('intel')).toContain('product=rollgate-lab Intel GPU node');
    expect(product('amd')).toContain('product=rollgate-lab AMD GPU node');
  });

  it('alternates kinds in a mixed profile and knows every host driver', () => {
    expect([0, 1, 2].map((i) => kindFor('mixed', i).iommu)).toEqual(['intel', 'amd', 'intel']);
    expect([0, 1].map((i) => kindFor('amd', i).iommu)).toEqual(['amd', 'amd']);
    expect(Object.fromEntries(hostDriversById())).toEqual({ '1234:1111': 'bochs-drm', '8086:293e': 'snd_hda_intel', '8086:10d3': 'e1000e' });
  });

  it('boots a UEFI VM through read-only OVMF code and its own variable store, SeaBIOS otherwise', () => {
    expect(qemuArgs(spec('intel')).some((a) => a.startsWith('if=pflash'))).toBe(false);
    const args = qemuArgs({ ...spec('intel'), firmware: { code: '/ovmf/CODE.fd', vars: '/s/vms/lab1/OVMF_VARS.fd' } });
    const drives = args.flatMap((a, i) => (args[i - 1] === '-drive' && a.startsWith('if=pflash') ? [a] : []));
    expect(drives).toEqual(['if=pflash,format=raw,unit=0,readonly=on,file=/ovmf/CODE.fd', 'if=pflash,format=raw,unit=1,file=/s/vms/lab1/OVMF_VARS.fd']);
    expect(kindFor('systemd-boot', 1).iommu).toBe('intel');
  });

  it('refuses paths with a comma, which QEMU would split', () => {
    expect(() => checkQemuPath('/tmp/a,b/qmp.sock')).toThrow(/comma/);
  });
});
