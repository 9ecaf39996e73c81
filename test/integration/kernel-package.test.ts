import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelPackage } from '../../src/modules/actions/kernel-package.js';
import { moduleContext, useModuleHost } from './support/module-host.js';
import { put, type RootProfile, TEST_KERNEL } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';

const host = useModuleHost();

function root(profile: RootProfile = 'debian'): string {
  return host.root(`kpkg-${profile}`, profile);
}


describe('kernel_package on real sshd hosts', () => {
  it('apt: installs and holds a release, records the default entry and kernel set, undo unholds and removes it', async () => {
    const r = root();
    const { outcome } = await runContract(host.conn, r, kernelPackage, { version: '6.1.0-51-test', hold: true }, {
      afterApply: () => {
        expect(existsSync(join(r, 'boot/vmlinuz-6.1.0-51-test'))).toBe(true);
        expect(readFileSync(join(r, 'var/lib/rollgate-test/holds'), 'utf8')).toBe('linux-image-6.1.0-51-test\n');
        expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).toContain('vmlinuz-6.1.0-51-test');
      },
    });
    expect(outcome.preview.commands).toEqual([
      `DEBIAN_FRONTEND=noninteractive ROLLGATE_ROOT=${r} ${r}/usr/bin/apt-get install -y --no-install-recommends linux-image-6.1.0-51-test`,
      `ROLLGATE_ROOT=${r} ${r}/usr/bin/apt-mark hold linux-image-6.1.0-51-test`,
    ]);
    expect(outcome.undo.extra).toEqual({
      installed_kernels: [TEST_KERNEL],
      running_kernel: TEST_KERNEL,
      previous_default: { grubDefault: 'saved', savedEntry: `linux-${TEST_KERNEL}`, grubbyDefault: null },
    });
    expect(outcome.undo.files.map((f) => f.path)).toEqual([join(r, 'boot/grub/grubenv')]);
    expect(outcome.undo.rebuild).toEqual([]);
    expect(outcome.undo.reverse?.[0]).toContain('apt-mark unhold linux-image-6.1.0-51-test');
  });

  it('apt: state latest upgrades the meta package and names the new kernel as the target', async () => {
    const r = root();
    const { message } = await runContract(host.conn, r, kernelPackage, { state: 'latest' });
    expect(message).toBe('target kernel 6.1.0-51-test');
  });

  it('dnf: installs a kernel that makes itself the default; undo restores grubenv byte for byte', async () => {
    const r = root('fedora-bls');
    await runContract(host.conn, r, kernelPackage, { version: '6.5.7-300.fc39.x86_64', hold: true }, {
      afterApply: () => expect(readFileSync(join(r, 'boot/grub2/grubenv'), 'utf8')).toContain('saved_entry=test-6.5.7-300.fc39.x86_64'),
    });
    expect(readFileSync(join(r, 'boot/grub2/grubenv'), 'utf8')).toContain(`saved_entry=0000-${TEST_KERNEL}`);
  });

  it('adopt_newest names the newest installed kernel, or nothing when it already runs', async () => {
    const r = root();
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    expect(await kernelPackage.check(ctx, { state: 'adopt_newest' })).toMatchObject({ status: 'no_change' });
    put(r, 'boot/vmlinuz-6.2.0-test', 'k\n');
    await expect(kernelPackage.check(ctx, { state: 'adopt_newest' })).rejects.toThrow(/6.2.0-test is installed but has no initramfs/);
    put(r, 'boot/initrd.img-6.2.0-test', 'i\n');
    const out = await kernelPackage.check(ctx, { state: 'adopt_newest' });
    if (out.status !== 'change') throw new Error('expected change');
    expect(out.preview.summary).toBe(`adopt 6.2.0-test (installed, running ${TEST_KERNEL}) as the target kernel`);
    expect(await kernelPackage.apply(ctx, {}, out.change)).toEqual({ message: 'target kernel 6.2.0-test', data: { target_kernel: '6.2.0-test' } });
  });

  it('refuses a version that is not a release and an unknown package', async () => {
    const r = root();
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    await expect(kernelPackage.check(ctx, { version: '6.1; rm -rf /' })).rejects.toThrow(/is not a kernel release/);
    const out = await kernelPackage.check(ctx, { version: '9.9.9-nope' });
    if (out.status !== 'change') throw new Error('expected change');
    await expect(kernelPackage.apply(ctx, {}, out.change)).rejects.toThrow(/Unable to locate package linux-image-9.9.9-nope/);
  });
});
