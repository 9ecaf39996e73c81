import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelArgs } from '../../src/modules/actions/kernel-args.js';
import { hashTree, moduleContext, useModuleHost } from './support/module-host.js';
import { put, rebuildDerived, type RootProfile, TEST_KERNEL } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';

const host = useModuleHost();

function root(profile: RootProfile, cpu: 'intel' | 'amd' = 'intel'): string {
  return host.root(profile, profile, { cpu });
}

const enable = { present: ['intel_iommu=on', 'iommu=pt'] };

describe('kernel_args on real sshd hosts', () => {
  it('Debian GRUB: edits GRUB_CMDLINE_LINUX in place, runs update-grub, undoes byte for byte', async () => {
    const r = root('debian');
    const { outcome } = await runContract(host.conn, r, kernelArgs, enable, {
      afterApply: () => {
        const cfg = readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8');
        expect(cfg).toContain(
          `linux /boot/vmlinuz-${TEST_KERNEL} root=UUID=0000 ro intel_iommu=on iommu=pt console=ttyS0,115200n8 quiet`,
        );
      },
    });
    expect(outcome.preview.files).toEqual([
      {
        path: join(r, 'etc/default/grub'),
        before: expect.stringContaining('GRUB_CMDLINE_LINUX=""\n'),
        after: expect.stringContaining('GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n'),
      },
    ]);
    expect(outcome.preview.commands).toEqual([`ROLLGATE_ROOT=${r} ${r}/usr/sbin/update-grub`]);
    expect(outcome.rebootRequired).toBe(true);
  });

  it('Debian GRUB: removes an argument from a grub.d drop-in and from GRUB_CMDLINE_LINUX_DEFAULT', async () => {
    const r = root('debian');
    put(r, 'etc/default/grub.d/50-cloud.cfg', 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX iommu=soft"\n');
    rebuildDerived(r);
    const { outcome } = await runContract(host.conn, r, kernelArgs, { present: ['iommu=pt'], absent: ['quiet'] });
    expect(outcome.preview.files.map((f) => [f.path.slice(r.length), f.after])).toEqual([
      ['/etc/default/grub', readFileSync(join(r, 'etc/default/grub'), 'utf8').replace('115200n8 quiet"', '115200n8"')],
      ['/etc/default/grub.d/50-cloud.cfg', 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX iommu=pt"\n'],
    ]);
  });

  it('refreshes a stale grub.cfg even when /etc/default/grub already has the arguments', async () => {
    const r = root('debian');
    const grub = join(r, 'etc/default/grub');
    writeFileSync(grub, readFileSync(grub, 'utf8').replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="iommu=pt"'));
    const out = await kernelArgs.check(moduleContext(host.conn, { rollgate_root: r }), { present: ['iommu=pt'] });
    expect(out.status === 'change' && out.preview).toMatchObject({
      files: [],
      commands: [`ROLLGATE_ROOT=${r} ${r}/usr/sbin/update-grub`],
    });
  });

  it('Fedora BLS: grubby --update-kernel=ALL, /etc/default/grub kept in step, entries restored on undo', async () => {
    const r = root('fedora-bls');
    const { outcome } = await runContract(
      host.conn,
      r,
      kernelArgs,
      { present: ['intel_iommu=on', 'iommu=pt'], absent: ['rhgb'] },
      {
        afterApply: () => {
          const entry = readFileSync(join(r, `boot/loader/entries/0000-${TEST_KERNEL}.conf`), 'utf8');
          expect(entry).toContain('options root=UUID=0000 ro quiet intel_iommu=on iommu=pt\n');
        },
      },
    );
    expect(outcome.preview.commands).toEqual([
      `ROLLGATE_ROOT=${r} ${r}/usr/sbin/grubby --update-kernel=ALL --remove-args=rhgb`,
      `ROLLGATE_ROOT=${r} ${r}/usr/sbin/grubby --update-kernel=ALL '--args=intel_iommu=on iommu=pt'`,
    ]);
    expect(outcome.undo.files.map((f) => f.path.slice(r.length)).sort()).toEqual([
      '/boot/grub2/grubenv',
      '/boot/loader/entries/0000-0-rescue.conf',
      `/boot/loader/entries/0000-${TEST_KERNEL}.conf`,
      '/etc/default/grub',
    ]);
  });

  it('Fedora without BLS (third guide): grub2-mkconfig -o /boot/efi/EFI/fedora/grub.cfg', async () => {
    const r = root('fedora-legacy');
    const { outcome } = await runContract(
      host.conn,
      r,
      kernelArgs,
      { present: ['intel_iommu=on'] },
      {
        afterApply: () =>
          expect(readFileSync(join(r, 'boot/efi/EFI/fedora/grub.cfg'), 'utf8')).toContain(
            'ro rhgb quiet intel_iommu=on',
          ),
      },
    );
    expect(outcome.preview.commands).toEqual([
      `ROLLGATE_ROOT=${r} ${r}/usr/sbin/grub2-mkconfig -o /boot/efi/EFI/fedora/grub.cfg`,
    ]);
  });

  it('systemd-boot: /etc/kernel/cmdline, then kernel-install add for each kernel', async () => {
    const r = root('systemd-boot');
    const { outcome } = await runContract(
      host.conn,
      r,
      kernelArgs,
      { present: ['amd_iommu=on', 'iommu=pt'], force: true },
      {
        afterApply: () =>
          expect(readFileSync(join(r, `boot/loader/entries/test-${TEST_KERNEL}.conf`), 'utf8')).toContain(
            'options root=UUID=0000 rw quiet amd_iommu=on iommu=pt\n',
          ),
      },
    );
    expect(outcome.preview.files.map((f) => f.after)).toEqual(['root=UUID=0000 rw quiet amd_iommu=on iommu=pt\n']);
  });

  // Debian's kernel packages keep no image under /usr/lib/modules/RELEASE/: found on the systemd-boot lab VM, where
  // the kernel_args change wrote /etc/kernel/cmdline and then refreshed no loader entry at all. Debian's own hook
  // (/etc/kernel/postinst.d/zz-systemd-boot) passes /boot/vmlinuz-RELEASE and its initramfs-tools initrd.
  it("systemd-boot on Debian: kernel-install add with /boot/vmlinuz-RELEASE and its initrd, as Debian's hook does", async () => {
    const r = root('systemd-boot');
    rmSync(join(r, `usr/lib/modules/${TEST_KERNEL}/vmlinuz`));
    put(r, `boot/vmlinuz-${TEST_KERNEL}`, 'kernel image\n');
    put(r, `boot/initrd.img-${TEST_KERNEL}`, 'initrd\n');
    // The entry as the double writes it from Debian's hook's arguments (so the undo's rebuild writes it back alike).
    put(
      r,
      `boot/loader/entries/test-${TEST_KERNEL}.conf`,
      `title Linux ${TEST_KERNEL}\nlinux /boot/vmlinuz-${TEST_KERNEL}\noptions root=UUID=0000 rw quiet\n`,
    );
    const { outcome } = await runContract(host.conn, r, kernelArgs, { present: ['iommu=pt'] });
    expect(outcome.preview.commands).toEqual([
      `ROLLGATE_ROOT=${r} ${r}/usr/bin/kernel-install add ${TEST_KERNEL} /boot/vmlinuz-${TEST_KERNEL} /boot/initrd.img-${TEST_KERNEL}`,
    ]);
  });

  it('Proxmox: /etc/kernel/cmdline, then proxmox-boot-tool refresh', async () => {
    const r = root('proxmox', 'amd');
    const { outcome } = await runContract(host.conn, r, kernelArgs, { present: ['amd_iommu=on', 'iommu=pt'] });
    expect(outcome.preview.commands).toEqual([`ROLLGATE_ROOT=${r} ${r}/usr/sbin/proxmox-boot-tool refresh`]);
    expect(outcome.preview.summary).toContain('via proxmox');
  });

  it('refuses intel_iommu=on on an AMD host and amd_iommu=on on an Intel host unless forced, touching nothing', async () => {
    const amd = root('debian', 'amd');
    const before = hashTree(amd);
    await expect(kernelArgs.check(moduleContext(host.conn, { rollgate_root: amd }), enable)).rejects.toThrow(
      /intel_iommu=on is for Intel CPUs but this host's CPU is AMD/,
    );
    const intel = root('debian', 'intel');
    await expect(
      kernelArgs.check(moduleContext(host.conn, { rollgate_root: intel }), { present: ['amd_iommu=on'] }),
    ).rejects.toThrow(/use intel_iommu or set force: true/);
    const forced = await kernelArgs.check(moduleContext(host.conn, { rollgate_root: amd }), { ...enable, force: true });
    expect(forced.status).toBe('change');
    expect(hashTree(amd)).toBe(before);
  });
});
