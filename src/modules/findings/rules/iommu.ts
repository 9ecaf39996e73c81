/** Layer 1: is the IOMMU on, with the arguments and default domain the host is meant to have. */
import { argValues, formatArg, sameParam } from '../../facts/parsers/cmdline.js';
import { dmesgDomain } from '../../facts/parsers/dmesg-iommu.js';
import { cannot, fail, pass, type Rule } from '../finding.js';

const IOMMU_ARGS = ['iommu', 'intel_iommu', 'amd_iommu', 'iommu.passthrough', 'iommu.strict'];

export const iommuRules: Rule[] = [
  {
    id: 'cmdline.iommu-off',
    layer: 'iommu',
    severity: 'error',
    title: 'the kernel command line turns the IOMMU off',
    guide: 'guide 1, task 1',
    decision: 'Remove iommu=off / intel_iommu=off / amd_iommu=off from the boot configuration before anything else.',
    evaluate({ snap }) {
      if (snap.cmdline.status !== 'ok') return cannot(snap.cmdline.reason);
      const off = snap.cmdline.value.args.filter(
        (a) => IOMMU_ARGS.slice(0, 3).some((n) => sameParam(a.name, n)) && a.value?.split(',').includes('off'),
      );
      return fail(
        ...off.map((a) => ({
          message: `${formatArg(a)} is on the kernel command line`,
          evidence: [`/proc/cmdline: ${snap.cmdline.status === 'ok' ? snap.cmdline.value.raw : ''}`],
        })),
      );
    },
  },
  {
    id: 'cmdline.conflicting-iommu-args',
    layer: 'iommu',
    severity: 'error',
    title: 'an IOMMU argument is given twice with different values',
    guide: 'guide 1, task 1',
    decision: 'Keep one value per IOMMU argument in the bootloader configuration; the kernel silently takes the last.',
    evaluate({ snap }) {
      if (snap.cmdline.status !== 'ok') return cannot(snap.cmdline.reason);
      const c = snap.cmdline.value;
      return fail(
        ...IOMMU_ARGS.flatMap((name) => {
          const values = [...new Set(argValues(c, name).map(String))];
          return values.length > 1
            ? [{ message: `${name} is given as ${values.join(' and ')}`, evidence: [`/proc/cmdline: ${c.raw}`] }]
            : [];
        }),
      );
    },
  },
  {
    id: 'cmdline.wrong-vendor-arg',
    layer: 'iommu',
    severity: 'warning',
    title: 'intel_iommu= on an AMD host, or amd_iommu= on an Intel host',
    guide: 'guide 2, task 2',
    decision:
      "Use the argument of the host's own IOMMU (intel_iommu=on on Intel, amd_iommu on AMD); the other one does nothing.",
    evaluate({ snap }) {
      if (snap.cmdline.status !== 'ok') return cannot(snap.cmdline.reason);
      const vendor =
        snap.iommu.vendor.status === 'ok' && snap.iommu.vendor.value.value !== 'none'
          ? snap.iommu.vendor.value.value
          : snap.cpu.status === 'ok'
            ? snap.cpu.value.vendor === 'AuthenticAMD'
              ? 'amd'
              : snap.cpu.value.vendor === 'GenuineIntel'
                ? 'intel'
                : null
            : null;
      if (!vendor) return cannot('neither the IOMMU nor the CPU vendor is known');
      const wrong = vendor === 'amd' ? 'intel_iommu' : vendor === 'intel' ? 'amd_iommu' : null;
      const args = wrong ? snap.cmdline.value.args.filter((a) => sameParam(a.name, wrong)) : [];
      return fail(
        ...args.map((a) => ({
          message: `${formatArg(a)} on a host whose IOMMU is ${vendor === 'amd' ? 'AMD-Vi' : 'Intel VT-d'}`,
          evidence: [`/proc/cmdline: ${snap.cmdline.status === 'ok' ? snap.cmdline.value.raw : ''}`],
        })),
      );
    },
  },
  {
    id: 'cpu.no-virtualization',
    layer: 'iommu',
    severity: 'error',
    title: 'the CPU shows neither vmx nor svm',
    guide: 'guide 3, step 1',
    decision: 'Enable VT-x / AMD-V in the firmware; without it KVM cannot run guests at all.',
    evaluate({ snap }) {
      if (snap.cpu.status !== 'ok') return cannot(snap.cpu.reason);
      if (snap.cpu.value.virtualization) return pass;
      return fail({
        message: 'no vmx or svm flag in /proc/cpuinfo',
        evidence: [`cpu: ${snap.cpu.value.vendor ?? '?'} ${snap.cpu.value.model ?? ''}`.trim()],
      });
    },
  },
  {
    id: 'kernel.unexpected',
    layer: 'iommu',
    severity: 'warning',
    title: 'the running kernel is not the one expected',
    guide: 'guide 2, task 1',
    decision: 'Reboot into the kernel under suspicion before debugging; findings from another kernel mislead.',
    evaluate({ snap, desired }) {
      if (!desired.expectedKernel) return pass;
      if (snap.kernelRelease.status !== 'ok') return cannot(snap.kernelRelease.reason);
      if (snap.kernelRelease.value === desired.expectedKernel) return pass;
      return fail({
        message: `running ${snap.kernelRelease.value}, expected ${desired.expectedKernel}`,
        evidence: [`uname -r: ${snap.kernelRelease.value}`],
      });
    },
  },
  {
    id: 'iommu.not-active',
    layer: 'iommu',
    severity: 'error',
    title: 'the IOMMU is not active',
    guide: 'guide 2, tasks 3-4; guide 1, mistake 1',
    decision:
      'Enable VT-d / AMD-Vi in the firmware and fix the kernel arguments first; do not touch VFIO, libvirt or QEMU settings until groups exist.',
    evaluate({ snap }) {
      const a = snap.iommu.active;
      if (a.status !== 'ok') return cannot(a.reason);
      if (a.value.value) return pass;
      const log = snap.iommu.log.status === 'ok' ? snap.iommu.log.value : null;
      if (log?.initLine && !log.disabledLine) return pass; // initialised but no groups: iommu.no-groups says it
      return fail({ message: 'no IOMMU is translating DMA on this host', evidence: a.value.evidence });
    },
  },
  {
    id: 'iommu.no-groups',
    layer: 'iommu',
    severity: 'error',
    title: 'the kernel log says the IOMMU initialised but there are no IOMMU groups',
    guide: 'guide 1, task 3',
    decision:
      'Without groups VFIO cannot isolate anything: check that DMA remapping (not only interrupt remapping) is enabled in firmware and not disabled on the command line.',
    evaluate({ snap }) {
      const g = snap.iommu.groups;
      if (g.status !== 'ok') return cannot(g.reason);
      if (g.value.length) return pass;
      const log = snap.iommu.log.status === 'ok' ? snap.iommu.log.value : null;
      if (!log?.initLine || log.disabledLine) return pass;
      return fail({
        message: '/sys/kernel/iommu_groups is empty although the IOMMU announced itself',
        evidence: [`dmesg: ${log.initLine}`],
      });
    },
  },
  {
    id: 'iommu.default-domain',
    layer: 'iommu',
    severity: 'error',
    title: 'the default domain is not the one the host should have (iommu_mode)',
    guide: 'guide 1, tasks 2 and 6',
    decision:
      'You are not in the mode you think: check the kernel arguments (iommu=pt, iommu.strict) and the distribution default, then reboot and re-check.',
    evaluate({ snap, desired }) {
      if (!desired.iommuMode) return pass;
      const d = snap.iommu.defaultDomain;
      if (d.status !== 'ok') return cannot(d.reason);
      if (d.value.value === desired.iommuMode) return pass;
      return fail({
        message: `default domain is ${d.value.value}, iommu_mode asks for ${desired.iommuMode}`,
        evidence: d.value.evidence,
      });
    },
  },
  {
    id: 'iommu.domain-sources-disagree',
    layer: 'iommu',
    severity: 'warning',
    title: 'sysfs and the kernel log disagree about the default domain',
    guide: 'guide 1, task 6',
    decision: 'Trust sysfs (the state now); find what changed the domain after boot before relying on either.',
    evaluate({ snap }) {
      const d = snap.iommu.defaultDomain;
      const log = snap.iommu.log;
      if (d.status !== 'ok' || log.status !== 'ok')
        return cannot(d.status !== 'ok' ? d.reason : log.status === 'unknown' ? log.reason : '');
      const fromLog = dmesgDomain(log.value);
      if (!fromLog || !d.value.evidence.some((e) => e.startsWith('/sys'))) return pass;
      const same =
        fromLog === d.value.value || (fromLog === 'translated' && d.value.value === 'lazy' && !log.value.flushPolicy);
      return same
        ? pass
        : fail({
            message: `sysfs says ${d.value.value}, the boot log says ${fromLog}`,
            evidence: [...d.value.evidence, `dmesg: ${log.value.defaultDomain?.line ?? ''}`],
          });
    },
  },
  {
    id: 'iommu.passthrough-default',
    layer: 'iommu',
    severity: 'info',
    title: 'host devices run with a passthrough (identity) default domain',
    guide: 'guide 1, "what you gain vs. what you risk"',
    decision:
      'Host-owned devices are not DMA-isolated: keep this a documented decision and watch for DMA faults; devices given to guests still get translated domains.',
    evaluate({ snap }) {
      const d = snap.iommu.defaultDomain;
      if (d.status !== 'ok') return cannot(d.reason);
      return d.value.value === 'passthrough'
        ? fail({ message: 'default domain is passthrough (iommu=pt)', evidence: d.value.evidence })
        : pass;
    },
  },
  {
    id: 'iommu.interrupt-remapping-off',
    layer: 'iommu',
    severity: 'error',
    title: 'interrupt remapping is off',
    guide: 'guide 1, task 8; guide 2, task 12',
    decision:
      'Check the firmware (VT-d / interrupt remapping, x2APIC) and kernel arguments (intremap=off, nointremap); treat a platform without it as a risk for passthrough, not a knob to tweak.',
    evaluate({ snap, desired }) {
      const ir = snap.iommu.interruptRemapping;
      if (ir.status !== 'ok') return cannot(ir.reason);
      if (ir.value.value.enabled) return pass;
      const severity = desired.passthroughIds.length && desired.requireInterruptRemapping ? 'error' : 'warning';
      return fail({ message: 'interrupts are not remapped', evidence: ir.value.evidence, severity });
    },
  },
];
