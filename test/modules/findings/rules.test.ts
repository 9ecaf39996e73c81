import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hostSnapshot, HEALTHY } from '../facts/host-fixture.js';
import { evaluateFindings } from '../../../src/modules/findings/evaluate.js';
import { desiredStateFrom } from '../../../src/modules/findings/desired.js';
import { rules } from '../../../src/modules/findings/registry.js';
import type { SectionResult } from '../../../src/modules/facts/script.js';
import type { HostSnapshot } from '../../../src/modules/facts/snapshot.js';
import { expectValidSnapshot } from '../../helpers/snapshot-schema.js';

const VARS = { passthrough_devices: ['8086:10d3'], iommu_mode: 'pt' };
const healthyText = (name: string) => readFileSync(`${HEALTHY}/${name}.txt`, 'utf8');
const LSPCI = healthyText('lspci');
const DMESG = healthyText('dmesg');

type Changes = Record<string, string | Partial<SectionResult> | null>;
interface Case {
  rule: string;
  changes?: Changes;
  vars?: Record<string, unknown>;
  profile?: (s: HostSnapshot) => void;
  severity?: 'error' | 'warning' | 'info';
  /** Text the finding's message must contain. */
  says: string;
}

const profile =
  (over: Partial<NonNullable<HostSnapshot['profile']>> = {}) =>
  (s: HostSnapshot) => {
    s.profile = {
      seconds: 5,
      softirqShare: {
        status: 'ok',
        value: [
          { cpu: 'cpu0', softPct: 2 },
          { cpu: 'cpu1', softPct: 3 },
        ],
      },
      softirqs: { status: 'ok', value: { cpus: 2, counts: {} } },
      threads: { status: 'ok', value: [] },
      perf: { status: 'ok', value: { samples: 1000, symbols: [], mappingPct: 1, mappingSymbols: [] } },
      ...over,
    };
  };
// The guests section real virsh printed (test/fixtures/formats/libvirt): pt runs with 0000:01:00.0 (vfio-pci
// here), 'stopped pt' is shut off with 0000:00:02.0 (virtio-pci here) unmanaged; node devices not listable.
const GUESTS = readFileSync('test/fixtures/formats/libvirt/guests-section.txt', 'utf8');
const NODEDEV_WITHOUT_0100 = GUESTS.replace(
  /^@@nodedev-error .*$/m,
  '@@nodedev\ncomputer\npci_0000_00_00_0\npci_0000_00_02_0',
);
const FAILED_START = GUESTS.replace(
  /(@@domain stopped pt\n@@state\n)shut off \(unknown\)/,
  '$1shut off (failed)',
).replace(
  /\n$/,
  '\n@@domain gpu\n@@state\nshut off (failed)\n@@lasterror 2026-02-04T10:20:01.123456Z qemu-system-x86_64: -device vfio-pci,host=0000:01:00.0: vfio 0000:01:00.0: failed to setup container for group 14: Failed to set iommu for container: Operation not permitted\n',
);
const translated = { iommu_group_types: '/sys/kernel/iommu_groups/0/type:DMA-FQ\n' };

const cases: Case[] = [
  { rule: 'cmdline.iommu-off', changes: { cmdline: 'root=/dev/sda1 ro intel_iommu=off' }, says: 'intel_iommu=off' },
  {
    rule: 'cmdline.conflicting-iommu-args',
    changes: { cmdline: 'root=/dev/sda1 iommu=pt intel_iommu=on iommu=nopt' },
    says: 'iommu is given as pt and nopt',
  },
  {
    rule: 'cmdline.wrong-vendor-arg',
    changes: { cmdline: 'root=/dev/sda1 amd_iommu=on iommu=pt' },
    says: 'amd_iommu=on on a host whose IOMMU is Intel VT-d',
  },
  {
    rule: 'cpu.no-virtualization',
    changes: { cpuinfo: 'vendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse\n' },
    says: 'no vmx or svm',
  },
  {
    rule: 'kernel.unexpected',
    vars: { ...VARS, expected_kernel: '6.1.0-51-amd64' },
    says: 'running 6.1.0-50-amd64, expected 6.1.0-51-amd64',
  },
  {
    rule: 'iommu.not-active',
    changes: {
      iommu_groups: '',
      iommu_group_types: '',
      dmesg: '# first: [    0.000000] Linux version 6.1.0\n[    0.02] DMAR: IOMMU disabled\n',
    },
    says: 'no IOMMU is translating DMA',
  },
  {
    rule: 'iommu.no-groups',
    changes: { iommu_groups: '', iommu_group_types: '' },
    says: 'iommu_groups is empty although',
  },
  {
    rule: 'iommu.default-domain',
    changes: translated,
    says: 'default domain is lazy, iommu_mode asks for passthrough',
  },
  {
    rule: 'iommu.domain-sources-disagree',
    changes: translated,
    says: 'sysfs says lazy, the boot log says passthrough',
  },
  { rule: 'iommu.passthrough-default', severity: 'info', says: 'default domain is passthrough' },
  {
    rule: 'iommu.interrupt-remapping-off',
    changes: {
      dmesg: DMESG.replace('DMAR-IR: Enabled IRQ remapping in x2apic mode', 'DMAR-IR: IRQ remapping disabled'),
    },
    severity: 'error',
    says: 'interrupts are not remapped',
  },
  {
    rule: 'binding.device-missing',
    vars: { ...VARS, passthrough_devices: ['8086:10d3', '10de:1e87'] },
    says: 'no device with id 10de:1e87',
  },
  {
    rule: 'binding.host-driver',
    changes: { lspci: LSPCI.replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e') },
    says: 'is driven by e1000e, not vfio-pci',
  },
  {
    rule: 'binding.companion-on-host',
    changes: {
      lspci:
        LSPCI +
        '0000:01:00.1 Audio device [0403]: Intel Corporation HD Audio [8086:293e]\n\tKernel driver in use: snd_hda_intel\n',
      iommu_groups: healthyText('iommu_groups') + '/sys/kernel/iommu_groups/4/devices/0000:01:00.1\n',
    },
    says: 'shares slot 0000:01:00 with 0000:01:00.0 but is driven by snd_hda_intel',
  },
  {
    rule: 'binding.unexpected-vfio',
    changes: { lspci: LSPCI.replace('Kernel driver in use: ahci', 'Kernel driver in use: vfio-pci') },
    says: '0000:00:1f.2 SATA controller [8086:2922]',
  },
  {
    rule: 'binding.vfio-modules-not-loaded',
    changes: { modules: 'kvm_intel 380928 0 - Live 0x0\nkvm 1146880 1 kvm_intel, Live 0x0\n' },
    says: 'not loaded: vfio, vfio_iommu_type1, vfio_pci',
  },
  {
    rule: 'binding.vfio-ids-missing',
    changes: { modprobe_d: '/etc/modprobe.d/vfio.conf:softdep e1000e pre: vfio-pci\n' },
    says: 'vfio-pci ids lacks 8086:10d3',
  },
  {
    rule: 'binding.vfio-not-in-initramfs',
    changes: {
      initramfs:
        '# image /boot/initrd.img-6.1.0-50-amd64\nusr/lib/modules/6.1.0-50-amd64/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko\n',
    },
    says: 'lacks vfio, vfio_iommu_type1, vfio_pci',
  },
  {
    rule: 'binding.host-driver-loads-first',
    changes: {
      lspci: LSPCI.replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e'),
      modprobe_d: '/etc/modprobe.d/vfio.conf:options vfio-pci ids=8086:10d3\n',
    },
    says: 'can be claimed by e1000e',
  },
  {
    rule: 'binding.vfio-lost-since-previous-boot',
    changes: { dmesg: DMESG.replace(/^.*vfio-pci 0000.*$/m, '') },
    says: 'the previous boot bound devices to vfio-pci',
  },
  {
    rule: 'binding.unsigned-modules-under-lockdown',
    changes: {
      lockdown: 'none [integrity] confidentiality\n',
      dmesg:
        DMESG +
        '[    5.0] nvidia: module verification failed: signature and/or required key missing - tainting kernel\n',
    },
    says: 'kernel is locked down (lockdown integrity',
  },
  { rule: 'binding.kernel-tainted', severity: 'info', changes: { tainted: '12289\n' }, says: 'tainted: POE' },
  {
    rule: 'binding.dev-vfio-world-writable',
    changes: {
      dev_vfio: 'crw-rw-rw- 1 root root 243, 0 Feb  4 10:20 4\ncrw-rw-rw- 1 root root 10, 196 Feb  4 10:20 vfio\n',
    },
    says: '/dev/vfio/4 is crw-rw-rw-',
  },
  {
    rule: 'binding.dev-vfio-missing',
    changes: { dev_vfio: 'crw-rw-rw- 1 root root 10, 196 Feb  4 10:20 vfio\n' },
    says: '/dev/vfio/4 does not exist',
  },
  {
    rule: 'groups.shared-with-outsiders',
    changes: {
      iommu_groups: healthyText('iommu_groups').replace(
        '/sys/kernel/iommu_groups/3/devices/0000:00:1f.3',
        '/sys/kernel/iommu_groups/4/devices/0000:00:1f.3',
      ),
    },
    severity: 'error',
    says: 'IOMMU group 4 of 0000:01:00.0 also holds 0000:00:1f.3',
  },
  {
    rule: 'groups.acs-missing-upstream',
    changes: {
      lspci_vv: healthyText('lspci_vv').replace(/\tCapabilities: \[148 v1\] Access Control Services\n.*\n.*\n/, ''),
    },
    says: '0000:00:01.0 (Root Port) has no ACS capability',
  },
  {
    rule: 'groups.acs-override',
    changes: { cmdline: 'root=/dev/sda1 intel_iommu=on iommu=pt pcie_acs_override=downstream,multifunction' },
    severity: 'warning',
    says: 'pcie_acs_override=downstream,multifunction',
  },
  {
    rule: 'faults.dma-fault',
    changes: {
      dmesg:
        DMESG +
        '[ 600.1] DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x7f3c0000 [fault reason 0x06] PTE Read access is not set\n',
    },
    says: '1 fault from 0000:01:00.0 (a passthrough device): DMA read at 0x7f3c0000',
  },
  {
    rule: 'faults.previous-boot',
    changes: {
      dmesg_previous_boot:
        '[ 9.1] vfio-pci 0000:01:00.0: enabling device\n[ 90.2] DMAR: [DMA Write] Request device [01:00.0] fault addr 7f3a4000 [fault reason 05] PTE Write access is not set\n',
    },
    says: '1 fault from 0000:01:00.0 in the previous boot',
  },
  {
    rule: 'faults.no-flr',
    changes: { lspci_vv: healthyText('lspci_vv').replace('RBE+ FLReset+', 'RBE+ FLReset-') },
    says: '0000:01:00.0 [8086:10d3] has FLReset-',
  },
  {
    rule: 'perf.swiotlb-in-use',
    changes: {
      dmesg: DMESG + '[ 8123.2] swiotlb buffer is full (sz: 65536 bytes), total 32768 (slots), used 32704 (slots)\n',
    },
    says: 'SWIOTLB ran full 1 time(s)',
  },
  {
    rule: 'perf.irq-single-cpu',
    changes: {
      interrupts:
        '           CPU0       CPU1\n 128:   0   9912300  IR-PCI-MSIX-0000:00:02.0  0-edge  virtio0-input.0\n',
    },
    says: '0000:00:02.0: 100% of 9912300 interrupts on CPU1',
  },
  {
    rule: 'perf.hugepages-exhausted',
    changes: {
      meminfo:
        'HugePages_Total:    4096\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugepagesize:    2048 kB\n',
    },
    says: '4096 hugepages, 0 free',
  },
  {
    rule: 'perf.fix-affinity-first',
    profile: profile({
      threads: {
        status: 'ok',
        value: [
          { pid: 23144, tid: 23150, cpu: 7, pcpu: 95, name: 'CPU 0/KVM', role: 'vcpu' },
          { pid: 1402, tid: 1402, cpu: 7, pcpu: 32.1, name: 'vhost-23144', role: 'vhost' },
        ],
      },
    }),
    says: 'vhost-23144 runs on CPU 7 with CPU 0/KVM',
  },
  {
    rule: 'perf.iommu-pt-decision',
    changes: translated,
    vars: { passthrough_devices: ['8086:10d3'] },
    profile: profile({
      perf: {
        status: 'ok',
        value: { samples: 18000, symbols: [], mappingPct: 17.14, mappingSymbols: [{ pct: 5.21, symbol: 'iommu_map' }] },
      },
    }),
    severity: 'info',
    says: 'iommu=pt is a justified experiment',
  },
  {
    rule: 'guests.not-enumerated',
    changes: { guests: NODEDEV_WITHOUT_0100 },
    says: 'libvirt does not list 0000:01:00.0 (pci_0000_01_00_0) among its node devices',
  },
  {
    rule: 'guests.hostdev-not-vfio',
    changes: { guests: GUESTS },
    severity: 'warning',
    says: 'guest stopped pt will not start: its unmanaged host device 0000:00:02.0 is driven by virtio-pci, not vfio-pci',
  },
  {
    rule: 'guests.holds-device',
    changes: { guests: GUESTS },
    severity: 'info',
    says: 'running guest pt holds 0000:01:00.0',
  },
  { rule: 'guests.start-failed', changes: { guests: FAILED_START }, says: 'guest gpu failed to start' },
];

function findingsFor(c: Pick<Case, 'changes' | 'vars' | 'profile'>) {
  const snap = hostSnapshot(HEALTHY, c.changes ?? {});
  c.profile?.(snap);
  expectValidSnapshot(snap);
  return evaluateFindings(snap, desiredStateFrom('hv01', c.vars ?? VARS).desired);
}

describe('finding rules on a healthy Intel passthrough host', () => {
  const healthy = findingsFor({});
  it('raises no error or warning', () => {
    expect(healthy.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(healthy.fixFirst).toBeNull();
  });
  it('says why the profile rules could not decide', () => {
    expect(healthy.undecided).toEqual([
      { rule: 'perf.fix-affinity-first', reason: 'no profile: run with --profile' },
      { rule: 'perf.iommu-pt-decision', reason: 'no profile: run with --profile' },
    ]);
  });
  it('has a test case for every rule', () => {
    expect(new Set(cases.map((c) => c.rule))).toEqual(new Set(rules.map((r) => r.id)));
  });
});

describe('each rule fires on the fault it is about', () => {
  for (const c of cases) {
    it(`${c.rule}: ${c.says}`, () => {
      const r = findingsFor(c);
      const hit = r.findings.filter((f) => f.rule === c.rule);
      expect(hit.map((f) => f.message).join('\n')).toContain(c.says);
      if (c.severity) expect(hit[0]!.severity).toBe(c.severity);
      expect(hit[0]!.evidence.length).toBeGreaterThan(0);
      expect(hit[0]!.decision.length).toBeGreaterThan(20);
    });
  }
});

describe('diagnosis order', () => {
  it('tells to fix the IOMMU layer before binding and groups', () => {
    const r = findingsFor({
      changes: {
        cmdline: 'root=/dev/sda1 intel_iommu=off',
        lspci: LSPCI.replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e'),
      },
    });
    expect(r.fixFirst).toBe('iommu');
    expect(r.findings[0]!.layer).toBe('iommu');
    expect(r.summary).toMatch(/fix IOMMU active and configured first/);
  });
  it('holds the guests layer back until the binding is right', () => {
    const r = findingsFor({
      changes: {
        guests: NODEDEV_WITHOUT_0100,
        lspci: LSPCI.replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e'),
      },
    });
    expect(r.fixFirst).toBe('binding');
    expect(r.findings.map((f) => f.layer).indexOf('guests')).toBeGreaterThan(
      r.findings.map((f) => f.layer).indexOf('binding'),
    );
  });
  it('a running guest whose host device lost vfio-pci is an error; the failed start shows its QEMU log line', () => {
    const lost = findingsFor({
      changes: {
        guests: GUESTS,
        lspci: LSPCI.replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e'),
      },
    });
    expect(lost.findings).toContainEqual(
      expect.objectContaining({
        rule: 'guests.hostdev-not-vfio',
        severity: 'error',
        message: 'running guest pt has 0000:01:00.0, which is driven by e1000e, not vfio-pci',
      }),
    );
    const failed = findingsFor({ changes: { guests: FAILED_START } }).findings.find(
      (f) => f.message === 'guest gpu failed to start',
    )!;
    expect(failed.evidence.join('\n')).toMatch(/failed to setup container for group 14/);
  });
  it('cannot decide the guests rules when libvirt does not answer, and passes a host without libvirt', () => {
    const r = findingsFor({
      changes: { guests: { exitCode: 1, stderr: 'error: failed to connect to the hypervisor' } },
    });
    expect(r.undecided).toContainEqual({
      rule: 'guests.holds-device',
      reason: 'error: failed to connect to the hypervisor',
    });
    expect(
      findingsFor({})
        .undecided.map((u) => u.rule)
        .filter((x) => x.startsWith('guests.')),
    ).toEqual([]);
  });
  it('reports rules it cannot decide instead of passing them when a source is unknown', () => {
    const r = findingsFor({ changes: { lspci: { exitCode: 127, stderr: 'lspci not installed (pciutils)' } } });
    expect(r.undecided).toContainEqual({ rule: 'binding.host-driver', reason: 'lspci not installed (pciutils)' });
  });
});
