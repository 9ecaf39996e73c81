/** Layer 2: the devices meant for guests are bound to vfio-pci now, and will be after the next boot. */
import { moduleName } from '../../facts/parsers/lsmod.js';
import { cannot, fail, pass, type FindingDraft, type Rule } from '../finding.js';
import { availableModules, companions, describeDevice, isVfio, lspciLine, passthroughDevices } from '../context.js';

const VFIO_MODULES = ['vfio', 'vfio_iommu_type1', 'vfio_pci'];

export const bindingRules: Rule[] = [
  {
    id: 'binding.device-missing',
    layer: 'binding',
    severity: 'error',
    title: 'a device named in passthrough_devices is not on the PCI bus',
    guide: 'guide 2, task 5',
    decision:
      'Check the id in passthrough_devices (lspci -nn shows it in brackets) and that the card is seated and enabled in firmware.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      const present = new Set(snap.pci.value.map((d) => d.id));
      return fail(
        ...desired.passthroughIds
          .filter((id) => !present.has(id))
          .map((id) => ({
            message: `no device with id ${id}`,
            evidence: [`lspci -nn: ${snap.pci.status === 'ok' ? snap.pci.value.length : 0} devices, none [${id}]`],
          })),
      );
    },
  },
  {
    id: 'binding.host-driver',
    layer: 'binding',
    severity: 'error',
    title: 'a passthrough device is bound to a host driver',
    guide: 'guide 2, tasks 5 and 9; mistake 2',
    decision:
      'Bind it to vfio-pci (options vfio-pci ids=..., vfio modules in the initramfs, softdep or blacklist of the host driver) before looking at groups.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      return fail(
        ...passthroughDevices(snap.pci.value, desired).flatMap((d): FindingDraft[] => {
          if (isVfio(d.driver)) return [];
          if (d.driver === null)
            return [
              {
                message: `${d.address} [${d.id}] has no driver bound`,
                evidence: [lspciLine(d)],
                severity: 'warning',
                device: d.address,
                decision: 'Nothing claims it: load vfio-pci (modprobe vfio-pci) and check its ids option.',
              },
            ];
          return [
            {
              message: `${describeDevice(d)} is driven by ${d.driver}, not vfio-pci`,
              evidence: [lspciLine(d)],
              device: d.address,
            },
          ];
        }),
      );
    },
  },
  {
    id: 'binding.companion-on-host',
    layer: 'binding',
    severity: 'error',
    title: 'another function of a passthrough device (GPU audio) stays on a host driver',
    guide: 'guide 2, task 5 and FAQ 4',
    decision:
      "Pass every function of the card through together: add the companion's id to passthrough_devices and vfio-pci ids.",
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      const pci = snap.pci.value;
      const seen = new Set<string>();
      return fail(
        ...passthroughDevices(pci, desired).flatMap((d) =>
          companions(pci, d)
            .filter(
              (c) =>
                !(c.id && desired.passthroughIds.includes(c.id)) &&
                c.driver !== null &&
                !isVfio(c.driver) &&
                !seen.has(c.address) &&
                seen.add(c.address),
            )
            .map((c) => ({
              message: `${describeDevice(c)} shares slot ${d.address.slice(0, -2)} with ${d.address} but is driven by ${c.driver}`,
              evidence: [lspciLine(d), lspciLine(c)],
              device: c.address,
            })),
        ),
      );
    },
  },
  {
    id: 'binding.unexpected-vfio',
    layer: 'binding',
    severity: 'warning',
    title: 'a device not meant for guests is bound to vfio-pci',
    guide: 'guide 1, task 5',
    decision:
      'If the host needs it (network, storage), take it back from vfio-pci: remove its id from vfio-pci ids and rebuild the initramfs.',
    evaluate({ snap, desired }) {
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      if (!desired.passthroughIds.length) return pass;
      return fail(
        ...snap.pci.value
          .filter((d) => isVfio(d.driver) && !(d.id && desired.passthroughIds.includes(d.id)))
          .map((d) => ({
            message: `${describeDevice(d)} is on vfio-pci but not in passthrough_devices`,
            evidence: [lspciLine(d)],
            device: d.address,
          })),
      );
    },
  },
  {
    id: 'binding.vfio-modules-not-loaded',
    layer: 'binding',
    severity: 'error',
    title: 'vfio modules are not loaded',
    guide: 'guide 2, task 8',
    decision:
      'Load vfio, vfio_iommu_type1 and vfio_pci and make them persistent (initramfs modules list); without vfio_iommu_type1 no device can be assigned.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      const mods = availableModules(snap);
      if (!mods) return cannot(snap.modules.loaded.status === 'unknown' ? snap.modules.loaded.reason : '');
      const missing = VFIO_MODULES.filter((m) => !mods.has(m));
      return missing.length
        ? fail({
            message: `not loaded: ${missing.join(', ')}`,
            evidence: [
              `/proc/modules: ${[...mods].filter((m) => /vfio|kvm/.test(m)).join(', ') || 'no vfio or kvm module'}`,
            ],
          })
        : pass;
    },
  },
  {
    id: 'binding.vfio-ids-missing',
    layer: 'binding',
    severity: 'warning',
    title: "a passthrough device id is not in vfio-pci's ids option",
    guide: 'guide 2, task 10',
    decision:
      'Add it to `options vfio-pci ids=...` in /etc/modprobe.d so the binding survives a reboot, then rebuild the initramfs.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      const m = snap.modules.modprobe;
      if (m.status !== 'ok') return cannot(m.reason);
      const missing = desired.passthroughIds.filter((id) => !m.value.vfioIds.includes(id));
      return missing.length
        ? fail({
            message: `vfio-pci ids lacks ${missing.join(', ')}`,
            evidence: [`modprobe.d vfio-pci ids: ${m.value.vfioIds.join(',') || '(none)'}`],
          })
        : pass;
    },
  },
  {
    id: 'binding.vfio-not-in-initramfs',
    layer: 'binding',
    severity: 'error',
    title: 'the initramfs of the running kernel holds no vfio-pci',
    guide: 'guide 2, task 10 and mini-story 1',
    decision:
      'Add vfio, vfio_iommu_type1 and vfio_pci to the initramfs module list and rebuild it (update-initramfs -u / dracut -f), or the host driver claims the device first at boot.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      const i = snap.modules.initramfs;
      if (i.status !== 'ok') return cannot(i.reason);
      const builtin = snap.modules.builtin.status === 'ok' ? snap.modules.builtin.value : [];
      const missing = VFIO_MODULES.filter((m) => !i.value.modules.includes(m) && !builtin.includes(m));
      if (!missing.length) return pass;
      const cfg = snap.modules.loadConfig.status === 'ok' ? snap.modules.loadConfig.value.initramfs : [];
      const configured = missing.every((m) => cfg.includes(m));
      return fail({
        message: `${i.value.image ?? 'the initramfs'} lacks ${missing.join(', ')}`,
        evidence: [
          `${i.value.tool}: ${i.value.modules.filter((m) => /vfio/.test(m)).join(', ') || 'no vfio module'}`,
          `initramfs module list: ${cfg.join(', ') || '(empty)'}`,
        ],
        ...(configured
          ? {
              decision:
                'The module list already names them: the initramfs was not rebuilt since. Rebuild it (update-initramfs -u / dracut -f).',
            }
          : {}),
      });
    },
  },
  {
    id: 'binding.host-driver-loads-first',
    layer: 'binding',
    severity: 'warning',
    title: 'nothing stops the host driver from claiming a passthrough device before vfio-pci',
    guide: 'guide 2, task 11',
    decision:
      'Add `softdep <driver> pre: vfio-pci` (or blacklist the driver when the host never needs it) so vfio-pci wins the race at boot.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      const m = snap.modules.modprobe;
      if (m.status !== 'ok') return cannot(m.reason);
      const guarded = new Set([...m.value.blacklisted, ...m.value.vfioSoftdeps]);
      return fail(
        ...passthroughDevices(snap.pci.value, desired).flatMap((d) => {
          const hostMods = d.modules.map(moduleName).filter((x) => x !== 'vfio_pci' && !guarded.has(x));
          return hostMods.length && !isVfio(d.driver)
            ? [
                {
                  message: `${d.address} [${d.id}] can be claimed by ${hostMods.join(', ')} with no softdep or blacklist`,
                  evidence: [
                    lspciLine(d),
                    `modprobe.d softdeps pre vfio-pci: ${m.value.vfioSoftdeps.join(', ') || '(none)'}; blacklisted: ${m.value.blacklisted.join(', ') || '(none)'}`,
                  ],
                  device: d.address,
                },
              ]
            : [];
        }),
      );
    },
  },
  {
    id: 'binding.vfio-lost-since-previous-boot',
    layer: 'binding',
    severity: 'warning',
    title: 'vfio-pci bound devices in the previous boot but not in this one',
    guide: 'guide 2, task 7',
    decision:
      'Something changed in the initramfs or modprobe configuration between boots: look there, not at firmware or ACS.',
    evaluate({ snap }) {
      const prev = snap.previousBoot;
      const cur = snap.iommu.log;
      if (prev.status !== 'ok') return cannot(prev.reason);
      if (cur.status !== 'ok') return cannot(cur.reason);
      const bound = (lines: string[]) => lines.filter((l) => /^vfio[-_]pci \S+:/.test(l));
      const before = bound(prev.value.iommu.vfioLines);
      if (!before.length || bound(cur.value.vfioLines).length) return pass;
      return fail({
        message: 'the previous boot bound devices to vfio-pci, this boot did not',
        evidence: before.slice(0, 3).map((l) => `journalctl -b -1: ${l}`),
      });
    },
  },
];
