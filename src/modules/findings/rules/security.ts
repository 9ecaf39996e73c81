/** Still layer 2: what keeps drivers (and so bindings) from loading, and who may open /dev/vfio. */
import { cannot, fail, pass, type Rule } from '../finding.js';
import { groupOf, isVfio, passthroughDevices } from '../context.js';

export const securityRules: Rule[] = [
  {
    id: 'binding.unsigned-modules-under-lockdown',
    layer: 'binding',
    severity: 'error',
    title: 'lockdown or Secure Boot refuses unsigned modules the host relies on',
    guide: 'guide 2, task 18',
    decision:
      'Sign the out-of-tree modules and enrol the key (MOK), or stop depending on them on the host; expect fallback drivers to take devices otherwise.',
    evaluate({ snap }) {
      const log = snap.security.log;
      const lockdown = snap.security.lockdown.status === 'ok' ? snap.security.lockdown.value : null;
      const sb =
        snap.security.secureBoot.status === 'ok'
          ? snap.security.secureBoot.value.state
          : log.status === 'ok'
            ? (log.value.secureBoot?.state ?? null)
            : null;
      const locked =
        (lockdown !== null && lockdown !== 'none') ||
        sb === 'enabled' ||
        (log.status === 'ok' && log.value.lockdown.length > 0);
      if (!locked)
        return lockdown === null && sb === null && log.status !== 'ok'
          ? cannot('neither lockdown, Secure Boot state nor the kernel log could be read')
          : pass;
      const unsigned =
        snap.modules.loaded.status === 'ok'
          ? snap.modules.loaded.value.filter((m) => /[OE]/.test(m.taints ?? '')).map((m) => `${m.name} (${m.taints})`)
          : [];
      const problems = log.status === 'ok' ? log.value.signatureProblems : [];
      if (!problems.length && !unsigned.length) return pass;
      return fail({
        message: `kernel is locked down (lockdown ${lockdown ?? '?'}, Secure Boot ${sb ?? '?'}) and out-of-tree or unsigned modules are involved`,
        evidence: [
          ...problems.map((l) => `dmesg: ${l}`),
          ...(unsigned.length ? [`/proc/modules: ${unsigned.join(', ')}`] : []),
          ...(log.status === 'ok' ? log.value.lockdown.slice(0, 2).map((l) => `dmesg: ${l}`) : []),
        ],
      });
    },
  },
  {
    id: 'binding.kernel-tainted',
    layer: 'binding',
    severity: 'info',
    title: 'the kernel is tainted by proprietary, out-of-tree or unsigned modules',
    guide: 'guide 2, task 18',
    decision:
      'Know which modules taint the kernel before a kernel update: they are the ones that may fail to load after it.',
    evaluate({ snap }) {
      const t = snap.security.tainted;
      if (t.status !== 'ok') return cannot(t.reason);
      const relevant = t.value.flags.filter((f) => 'POEFC'.includes(f));
      return relevant.length
        ? fail({
            message: `tainted: ${relevant.join('')} (${t.value.meanings.filter((_, i) => 'POEFC'.includes(t.value.flags[i]!)).join(', ')})`,
            evidence: [`/proc/sys/kernel/tainted: ${t.value.value}`],
          })
        : pass;
    },
  },
  {
    id: 'binding.dev-vfio-world-writable',
    layer: 'binding',
    severity: 'error',
    title: 'a /dev/vfio group node is writable by every local user',
    guide: 'guide 2, task 17',
    decision: "Give group nodes to root and the hypervisor's group (udev rule, mode 0660); never chmod 666 them.",
    evaluate({ snap }) {
      const v = snap.devVfio;
      if (v.status !== 'ok') return cannot(v.reason);
      // /dev/vfio/vfio (the container) is 0666 by design; group nodes are what grant device access.
      return fail(
        ...v.value.nodes
          .filter((n) => n.name !== 'vfio' && n.mode.startsWith('c') && n.worldWritable)
          .map((n) => ({
            message: `/dev/vfio/${n.name} is ${n.mode} ${n.owner}:${n.group}`,
            evidence: [`ls -l /dev/vfio: ${n.mode} ${n.owner} ${n.group} ${n.name}`],
          })),
      );
    },
  },
  {
    id: 'binding.dev-vfio-missing',
    layer: 'binding',
    severity: 'warning',
    title: 'a device is bound to vfio-pci but its /dev/vfio group node is missing',
    guide: 'guide 2, task 17',
    decision: 'Check udev and the vfio module: QEMU opens /dev/vfio/<group>, and without it the VM cannot start.',
    evaluate({ snap, desired }) {
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      const v = snap.devVfio;
      if (v.status !== 'ok') return cannot(v.reason);
      const names = new Set(v.value.nodes.map((n) => n.name));
      return fail(
        ...passthroughDevices(snap.pci.value, desired)
          .filter((d) => isVfio(d.driver))
          .flatMap((d) => {
            const g = groupOf(snap, d.address);
            return g && g.id !== null && !names.has(String(g.id))
              ? [
                  {
                    message: `${d.address} is on vfio-pci but /dev/vfio/${g.id} does not exist`,
                    evidence: [`ls /dev/vfio: ${[...names].join(' ') || '(absent)'}`],
                    device: d.address,
                  },
                ]
              : [];
          }),
      );
    },
  },
];
