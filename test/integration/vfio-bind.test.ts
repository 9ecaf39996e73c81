import { describe, expect, it } from 'vitest';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { vfioBind } from '../../src/modules/actions/vfio-bind.js';
import { applyUndo } from '../../src/modules/undo.js';
import { hashTree, moduleContext, useModuleHost } from './support/module-host.js';
import { INITRAMFS_MODULES, LAB_PCI, put, rebuildDerived, type RootProfile, TEST_KERNEL } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';
import { startFakeKernel } from './support/fake-kernel.js';

const host = useModuleHost();

function root(profile: RootProfile = 'debian'): string {
  return host.root(`vfio-${profile}`, profile, { pci: LAB_PCI });
}

const gpuPair = { ids: ['10de:1e87', '10de:10f8'] };

describe('vfio_bind on real sshd hosts', () => {
  it('binds a GPU and its audio function as a pair: ids, softdeps, initramfs module list; undo byte for byte', async () => {
    const r = root();
    const { outcome } = await runContract(host.conn, r, vfioBind, gpuPair);
    expect(outcome.preview.files).toEqual([
      {
        path: join(r, 'etc/modprobe.d/rollgate-vfio.conf'),
        before: null,
        after:
          '# Managed by rollgate (vfio_bind): PCI ids bound to vfio-pci at boot, and the drivers it must load before.\n' +
          'options vfio-pci ids=10de:1e87,10de:10f8\nsoftdep nouveau pre: vfio-pci\nsoftdep snd_hda_intel pre: vfio-pci\n',
      },
      {
        path: join(r, 'etc/initramfs-tools/modules'),
        before: INITRAMFS_MODULES,
        after: `${INITRAMFS_MODULES}vfio\nvfio_iommu_type1\nvfio_pci\n`,
      },
    ]);
    expect(outcome.preview.summary).toContain('(0000:02:00.0, 0000:02:00.1)');
    expect(outcome.preview.commands).toEqual([]);
    // Undo rebuilds only images regenerated after the change; this one never was, so nothing runs for it.
    expect(outcome.undo.rebuild).toEqual([
      expect.stringMatching(/^for i in \S+\/boot\/initrd\.img-\*; .*-newermt @\d+\.\d+ .*update-initramfs -u -k "\$k"/),
    ]);
  });

  it('refuses a GPU whose audio function shares the group but is not named (the bridge does not count)', async () => {
    const r = root();
    const before = hashTree(r);
    await expect(
      vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), { ids: ['10de:1e87'] }),
    ).rejects.toThrow(
      /IOMMU group 4 of 0000:02:00.0 also holds 0000:02:00.1 \[10de:10f8\] class 040300 \(driver snd_hda_intel\); name its id in ids/,
    );
    expect(hashTree(r)).toBe(before);
  });

  it('refuses the ICH9 SATA controller whose group holds the LPC bridge and SMBus, unless they are allowed', async () => {
    const r = root();
    await expect(
      vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), { ids: ['8086:2922'] }),
    ).rejects.toThrow(/0000:00:1f.0 .*0000:00:1f.3/);
    const allowed = await vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), {
      ids: ['8086:2922'],
      allow_group_members: ['0000:00:1f.0', '0000:00:1f.3'],
    });
    expect(allowed.status).toBe('change');
    await expect(
      vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), { ids: ['abcd:0001'] }),
    ).rejects.toThrow(/no PCI device with id abcd:0001/);
  });

  it('extends an existing ids line in place instead of adding a second one', async () => {
    const r = root();
    put(r, 'etc/modprobe.d/vfio.conf', 'options vfio-pci ids=10de:1e87 disable_vga=1\n# keep me\n');
    rebuildDerived(r);
    const { outcome } = await runContract(host.conn, r, vfioBind, gpuPair);
    expect(outcome.preview.files[0]).toEqual({
      path: join(r, 'etc/modprobe.d/vfio.conf'),
      before: 'options vfio-pci ids=10de:1e87 disable_vga=1\n# keep me\n',
      after:
        'options vfio-pci ids=10de:1e87,10de:10f8 disable_vga=1\n# keep me\nsoftdep nouveau pre: vfio-pci\nsoftdep snd_hda_intel pre: vfio-pci\n',
    });
  });

  it('dracut hosts get a dracut.conf.d drop-in', async () => {
    const r = root('fedora-bls');
    const { outcome } = await runContract(host.conn, r, vfioBind, { ids: ['8086:10d3'] });
    expect(outcome.preview.files.map((f) => [f.path.slice(r.length), f.after])).toContainEqual([
      '/etc/dracut.conf.d/rollgate-vfio.conf',
      '# Managed by rollgate (vfio_bind): load vfio-pci early so it claims its devices first.\nforce_drivers+=" vfio vfio_iommu_type1 vfio_pci "\n',
    ]);
    expect(outcome.undo.rebuild).toEqual([
      expect.stringMatching(/initramfs-\*\.img; .*-newermt @\d+\.\d+ .*\/usr\/bin\/dracut -f --kver "\$k"/),
    ]);
  });

  it('binds at runtime through driver_override, and undo gives the device back to its driver', async () => {
    const r = root();
    const kernel = startFakeKernel(r);
    try {
      const { outcome, message } = await runContract(
        host.conn,
        r,
        vfioBind,
        { ids: ['8086:10d3'], runtime: true },
        {
          exclude: ['sys'],
          afterApply: () => {
            expect(readlinkSync(join(r, 'sys/bus/pci/devices/0000:01:00.0/driver'))).toBe('../../drivers/vfio-pci');
            expect(readFileSync(join(r, 'sys/bus/pci/drivers/e1000e/unbind'), 'utf8')).toBe('0000:01:00.0');
          },
        },
      );
      expect(message).toContain('bound now: 0000:01:00.0');
      expect(outcome.preview.commands[0]).toBe(`ROLLGATE_ROOT=${r} ${r}/sbin/modprobe vfio-pci`);
      expect(readlinkSync(join(r, 'sys/bus/pci/devices/0000:01:00.0/driver'))).toBe('../../drivers/e1000e');
      expect(readFileSync(join(r, 'sys/bus/pci/devices/0000:01:00.0/driver_override'), 'utf8')).toBe('\n');
    } finally {
      kernel.stop();
    }
  });

  it('refuses a runtime unbind of a device whose network interface is up', async () => {
    const r = root();
    put(r, 'sys/bus/pci/devices/0000:01:00.0/net/enp1s0/operstate', 'up\n');
    await expect(
      vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), { ids: ['8086:10d3'], runtime: true }),
    ).rejects.toThrow(/network interface is up/);
    const atBoot = await vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), { ids: ['8086:10d3'] });
    expect(atBoot.status).toBe('change');
  });

  it('undoes into the initramfs too: rebuilt image equals the one before', async () => {
    const r = root();
    const image = join(r, `boot/initrd.img-${TEST_KERNEL}`);
    const before = readFileSync(image, 'utf8');
    const out = await vfioBind.check(moduleContext(host.conn, { rollgate_root: r }), gpuPair);
    if (out.status !== 'change') throw new Error('expected change');
    await vfioBind.apply(moduleContext(host.conn, { rollgate_root: r }), gpuPair, out.change);
    // Something rebuilds the initramfs after the change (the initramfs module, a kernel update ...).
    rebuildDerived(r);
    expect(readFileSync(image, 'utf8')).toContain('options vfio-pci ids=10de:1e87,10de:10f8');
    const report = await applyUndo(host.conn, out.undo);
    expect(report.failures).toEqual([]);
    expect(readFileSync(image, 'utf8')).toBe(before);
    expect(readFileSync(image, 'utf8')).not.toContain('vfio-pci');
  });
});
