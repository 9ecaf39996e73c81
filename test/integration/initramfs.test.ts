import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initramfs } from '../../src/modules/actions/initramfs.js';
import { vfioBind } from '../../src/modules/actions/vfio-bind.js';
import { applyUndo, applyUndos } from '../../src/modules/undo.js';
import { hashTree, moduleContext, useModuleHost } from './support/module-host.js';
import { double, LAB_PCI, put, runDouble, type RootProfile, TEST_KERNEL } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';

const host = useModuleHost();

function root(profile: RootProfile = 'debian'): string {
  return host.root(`initramfs-${profile}`, profile, { pci: LAB_PCI });
}

async function bindNic(r: string): Promise<void> {
  const ctx = moduleContext(host.conn, { rollgate_root: r });
  const out = await vfioBind.check(ctx, { ids: ['8086:10d3'] });
  if (out.status !== 'change') throw new Error('expected a vfio_bind change');
  await vfioBind.apply(ctx, { ids: ['8086:10d3'] }, out.change);
}

describe('initramfs on real sshd hosts', () => {
  it('rebuilds with update-initramfs after vfio_bind, proves the vfio modules are inside, restores the old image on undo', async () => {
    const r = root();
    await bindNic(r);
    const image = join(r, `boot/initrd.img-${TEST_KERNEL}`);
    const { outcome, message } = await runContract(
      host.conn,
      r,
      initramfs,
      {},
      {
        afterApply: () => {
          const manifest = readFileSync(image, 'utf8');
          expect(manifest).toContain(`path usr/lib/modules/${TEST_KERNEL}/kernel/drivers/vfio_pci.ko`);
          expect(manifest).toContain('conf rollgate-vfio.conf: options vfio-pci ids=8086:10d3');
        },
      },
    );
    expect(message).toBe(`initramfs rebuilt for ${TEST_KERNEL}; holds vfio, vfio_iommu_type1, vfio_pci`);
    expect(outcome.preview.commands[1]).toBe(`ROLLGATE_ROOT=${r} ${r}/usr/sbin/update-initramfs -u -k ${TEST_KERNEL}`);
    expect(existsSync(join(r, 'var/lib/rollgate'))).toBe(false);
  });

  it('undoing vfio_bind + initramfs as one run gives back the original image without rebuilding it again', async () => {
    const r = root();
    const before = hashTree(r);
    const image = join(r, `boot/initrd.img-${TEST_KERNEL}`);
    // Written a moment before the check, in the same second: undo must still see it as older than the change.
    const now = new Date();
    utimesSync(image, now, now);
    const mtime = statSync(image).mtimeMs;
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    const bind = await vfioBind.check(ctx, { ids: ['8086:10d3'] });
    if (bind.status !== 'change') throw new Error('expected a change');
    await vfioBind.apply(ctx, { ids: ['8086:10d3'] }, bind.change);
    const rebuild = await initramfs.check(ctx, {});
    if (rebuild.status !== 'change') throw new Error('expected a change');
    await initramfs.apply(ctx, {}, rebuild.change);
    const report = await applyUndos(host.conn, [rebuild.undo, bind.undo]);
    expect(report.failures).toEqual([]);
    expect(report.commands.map((c) => c.exitCode)).toEqual([0, 0]);
    expect(hashTree(r)).toBe(before);
    // The copied-back original (its own mtime), not a regenerated image.
    expect(statSync(image).mtimeMs).toBe(mtime);
  });

  it('fails, naming the file to edit, when the rebuilt image still lacks a required module', async () => {
    const r = root();
    const before = hashTree(r);
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    const out = await initramfs.check(ctx, {});
    expect(out.status).toBe('change');
    if (out.status !== 'change') return;
    await expect(initramfs.apply(ctx, {}, out.change)).rejects.toThrow(
      `/boot/initrd.img-${TEST_KERNEL} was rebuilt but lacks vfio, vfio_iommu_type1, vfio_pci; list them in /etc/initramfs-tools/modules`,
    );
    expect((await applyUndo(host.conn, out.undo)).failures).toEqual([]);
    expect(hashTree(r)).toBe(before);
  });

  it('on systemd-boot, refreshes the initrd copy the loader entry boots (kernel-install add), proves those bytes, undo gives image, copy and entry back', async () => {
    const r = root();
    // Debian's systemd-boot layout (the lab VM's): the entry on the ESP boots kernel-install's copy of /boot's image.
    put(r, 'etc/kernel/entry-token', 'tok\n');
    put(r, 'etc/kernel/cmdline', 'root=UUID=0000 ro quiet\n');
    mkdirSync(join(r, 'boot/efi/loader/entries'), { recursive: true });
    double(r, 'kernel-install', 'usr/bin');
    const image = `/boot/initrd.img-${TEST_KERNEL}`;
    runDouble(r, 'usr/bin/kernel-install', ['add', TEST_KERNEL, `/boot/vmlinuz-${TEST_KERNEL}`, image]);
    const copy = join(r, `boot/efi/tok/${TEST_KERNEL}/initrd.img-${TEST_KERNEL}`);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(join(r, image), 'utf8'));
    await bindNic(r);
    const { outcome, message } = await runContract(
      host.conn,
      r,
      initramfs,
      {},
      {
        afterApply: () => {
          const booted = readFileSync(copy, 'utf8');
          expect(booted).toBe(readFileSync(join(r, image), 'utf8'));
          expect(booted).toContain(`path usr/lib/modules/${TEST_KERNEL}/kernel/drivers/vfio_pci.ko`);
        },
      },
    );
    expect(message).toBe(
      `initramfs rebuilt for ${TEST_KERNEL} (the boot loader's copy the same bytes); holds vfio, vfio_iommu_type1, vfio_pci`,
    );
    expect(outcome.preview.summary).toContain(
      `refresh the copy the boot loader loads (/boot/efi/tok/${TEST_KERNEL}/initrd.img-${TEST_KERNEL})`,
    );
    expect(outcome.preview.commands.at(-1)).toBe(
      `if ! cmp -s ${r}${image} ${copy}; then ROLLGATE_ROOT=${r} ${r}/usr/bin/kernel-install add ${TEST_KERNEL} /boot/vmlinuz-${TEST_KERNEL} ${image}; fi`,
    );
    // Entries rollgate's own trial boot wrote are frozen on purpose: never refreshed, never backed up.
    expect(outcome.preview.commands.join('\n')).not.toContain('rollgate-known-good');
  });

  it('a loader copy left behind by an earlier rebuild is a change even when /boot holds the modules', async () => {
    const r = root();
    put(r, 'etc/kernel/entry-token', 'tok\n');
    mkdirSync(join(r, 'boot/efi/loader/entries'), { recursive: true });
    double(r, 'kernel-install', 'usr/bin');
    const image = `/boot/initrd.img-${TEST_KERNEL}`;
    runDouble(r, 'usr/bin/kernel-install', ['add', TEST_KERNEL, `/boot/vmlinuz-${TEST_KERNEL}`, image]);
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    const req = { require_modules: ['ext4'] };
    expect(await initramfs.check(ctx, req)).toMatchObject({ status: 'no_change' });
    // `dracut -f` (or update-initramfs without Debian's post-update hook) rebuilt /boot's image only.
    writeFileSync(join(r, `boot/efi/tok/${TEST_KERNEL}/initrd.img-${TEST_KERNEL}`), 'an older image\n');
    expect(await initramfs.check(ctx, req)).toMatchObject({ status: 'change' });
  });

  it('counts modules built into the kernel as present', async () => {
    const r = root();
    const out = await initramfs.check(moduleContext(host.conn, { rollgate_root: r }), {
      require_modules: ['pci-stub', 'ext4'],
    });
    expect(out).toMatchObject({ status: 'no_change' });
  });

  it('rebuilds with dracut on Fedora and proves through lsinitrd', async () => {
    const r = root('fedora-bls');
    await bindNic(r);
    const { outcome } = await runContract(host.conn, r, initramfs, { kernel: TEST_KERNEL });
    expect(outcome.preview.commands[1]).toBe(`ROLLGATE_ROOT=${r} ${r}/usr/bin/dracut -f --kver ${TEST_KERNEL}`);
  });

  it('refuses a kernel that is not installed', async () => {
    const r = root();
    await expect(initramfs.check(moduleContext(host.conn, { rollgate_root: r }), { kernel: '9.9.9' })).rejects.toThrow(
      /kernel 9.9.9 has no modules directory/,
    );
  });
});
