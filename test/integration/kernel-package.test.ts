import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelPackage } from '../../src/modules/actions/kernel-package.js';
import { moduleContext, useModuleHost } from './support/module-host.js';
import { put, rebuildDerived, type RootProfile, TEST_KERNEL } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';
import { applyUndo, applyUndos } from '../../src/modules/undo.js';

const host = useModuleHost();

function root(profile: RootProfile = 'debian'): string {
  return host.root(`kpkg-${profile}`, profile);
}

/** What a reboot into `release` changes in the throwaway root: the running kernel. */
const bootInto = (r: string, release: string) => put(r, 'proc/sys/kernel/osrelease', `${release}\n`);
const savedEntry = (r: string, file = 'boot/grub/grubenv') =>
  /^saved_entry=(.*)$/m.exec(readFileSync(join(r, file), 'utf8'))?.[1];

describe('kernel_package on real sshd hosts', () => {
  it('apt: installs and holds a release, records the default entry and kernel set, undo unholds and removes it', async () => {
    const r = root();
    const { outcome } = await runContract(
      host.conn,
      r,
      kernelPackage,
      { version: '6.1.0-51-test', hold: true },
      {
        exclude: ['proc'],
        afterApply: () => {
          expect(existsSync(join(r, 'boot/vmlinuz-6.1.0-51-test'))).toBe(true);
          expect(readFileSync(join(r, 'var/lib/rollgate-test/holds'), 'utf8')).toBe('linux-image-6.1.0-51-test\n');
          expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).toContain('vmlinuz-6.1.0-51-test');
          // GRUB_DEFAULT=saved kept the old entry: the new kernel is made the default, so the reboot runs it.
          expect(savedEntry(r)).toBe('linux-6.1.0-51-test');
          bootInto(r, '6.1.0-51-test');
        },
      },
    );
    expect(outcome.preview.commands).toEqual([
      `DEBIAN_FRONTEND=noninteractive ROLLGATE_ROOT=${r} ${r}/usr/bin/apt-get install -y --no-install-recommends linux-image-6.1.0-51-test`,
      `ROLLGATE_ROOT=${r} ${r}/usr/bin/apt-mark hold linux-image-6.1.0-51-test`,
    ]);
    expect(outcome.undo.extra).toEqual({
      installed_kernels: [TEST_KERNEL],
      running_kernel: TEST_KERNEL,
      previous_default: {
        grubDefault: 'saved',
        savedEntry: `linux-${TEST_KERNEL}`,
        grubbyDefault: null,
        loaderInfo: null,
        loaderEntryDefault: null,
      },
    });
    expect(outcome.undo.files.map((f) => f.path)).toEqual([join(r, 'boot/grub/grubenv')]);
    expect(outcome.undo.rebuild).toEqual([]);
    expect(outcome.undo.reverse ?? []).toEqual([]);
    expect(outcome.undo.restore).toEqual([
      `if [ -e ${r}/boot/vmlinuz-6.1.0-51-test ]; then { ROLLGATE_ROOT=${r} ${r}/usr/bin/apt-mark unhold linux-image-6.1.0-51-test || true; }; DEBIAN_FRONTEND=noninteractive ROLLGATE_ROOT=${r} ${r}/usr/bin/apt-get remove -y linux-image-6.1.0-51-test; fi`,
    ]);
  });

  it('a step that failed after the package manager ran leaves no kernel behind: undo removes what it installed', async () => {
    const r = root();
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    const out = await kernelPackage.check(ctx, { version: '6.1.0-51-test', hold: true });
    if (out.status !== 'change') throw new Error('expected a change');
    // The package manager ran, then making the default failed (what the systemd-boot lab VM showed before
    // kernel_package knew bootctl): the step ends failed, its kernel installed and held.
    for (const c of out.change.commands) expect((await host.conn.exec(c)).exitCode).toBe(0);
    expect(existsSync(join(r, 'boot/vmlinuz-6.1.0-51-test'))).toBe(true);
    const report = await applyUndos(host.conn, [{ record: out.undo, outcome: 'failed' }]);
    expect(report.failures).toEqual([]);
    expect(existsSync(join(r, 'boot/vmlinuz-6.1.0-51-test'))).toBe(false);
    const holds = join(r, 'var/lib/rollgate-test/holds');
    expect(existsSync(holds) ? readFileSync(holds, 'utf8') : '').toBe('');
    // The same undo for a step that never reached the package manager: the guard finds no kernel, removes nothing.
    const again = await applyUndos(host.conn, [{ record: out.undo, outcome: 'failed' }]);
    expect(again.failures).toEqual([]);
    expect(again.commands.map((c) => c.exitCode)).toEqual([0]);
  });

  it('apt: state latest upgrades the meta package and names the new kernel as the target', async () => {
    const r = root();
    const { message } = await runContract(
      host.conn,
      r,
      kernelPackage,
      { state: 'latest' },
      { exclude: ['proc'], afterApply: () => bootInto(r, '6.1.0-51-test') },
    );
    expect(message).toBe('target kernel 6.1.0-51-test');
  });

  it('dnf: installs a kernel that makes itself the default; undo restores grubenv byte for byte', async () => {
    const r = root('fedora-bls');
    await runContract(
      host.conn,
      r,
      kernelPackage,
      { version: '6.5.7-300.fc39.x86_64', hold: true },
      {
        exclude: ['proc'],
        afterApply: () => {
          expect(readFileSync(join(r, 'boot/grub2/grubenv'), 'utf8')).toContain(
            'saved_entry=test-6.5.7-300.fc39.x86_64',
          );
          bootInto(r, '6.5.7-300.fc39.x86_64');
        },
      },
    );
    expect(readFileSync(join(r, 'boot/grub2/grubenv'), 'utf8')).toContain(`saved_entry=0000-${TEST_KERNEL}`);
  });

  it('adopt_newest names the newest installed kernel, or nothing when it already runs', async () => {
    const r = root();
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    expect(await kernelPackage.check(ctx, { state: 'adopt_newest' })).toMatchObject({ status: 'no_change' });
    put(r, 'boot/vmlinuz-6.2.0-test', 'k\n');
    await expect(kernelPackage.check(ctx, { state: 'adopt_newest' })).rejects.toThrow(
      /6.2.0-test is installed but has no initramfs/,
    );
    put(r, 'boot/initrd.img-6.2.0-test', 'i\n');
    rebuildDerived(r);
    const out = await kernelPackage.check(ctx, { state: 'adopt_newest' });
    if (out.status !== 'change') throw new Error('expected change');
    expect(out.preview.summary).toBe(
      `adopt 6.2.0-test (installed, running ${TEST_KERNEL}): make it the default boot entry (the default boots ${TEST_KERNEL} now); reboot to run it`,
    );
    expect(await kernelPackage.apply(ctx, {}, out.change)).toEqual({
      message: 'target kernel 6.2.0-test',
      data: { target_kernel: '6.2.0-test' },
    });
    expect(savedEntry(r)).toBe('linux-6.2.0-test');
  });

  it('a release installed but not running: made the default boot entry (undo: the previous one), then a true no-op once it runs', async () => {
    const r = root();
    put(r, 'boot/vmlinuz-6.1.0-51-test', 'k\n');
    put(r, 'boot/initrd.img-6.1.0-51-test', 'i\n');
    rebuildDerived(r);
    const grubenv = readFileSync(join(r, 'boot/grub/grubenv'));
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    const out = await kernelPackage.check(ctx, { version: '6.1.0-51-test' });
    if (out.status !== 'change') throw new Error(`expected a change, got ${JSON.stringify(out)}`);
    expect(out.rebootRequired).toBe(true);
    expect(out.preview).toEqual({
      summary: `boot kernel 6.1.0-51-test (installed, running ${TEST_KERNEL}): make it the default boot entry (the default boots ${TEST_KERNEL} now); reboot to run it`,
      files: [],
      commands: [`ROLLGATE_ROOT=${r} ${r}/usr/sbin/grub-set-default --boot-directory=${r}/boot linux-6.1.0-51-test`],
    });
    expect(out.undo.extra).toMatchObject({
      previous_default: { grubDefault: 'saved', savedEntry: `linux-${TEST_KERNEL}` },
    });
    expect(out.undo.files).toEqual([
      expect.objectContaining({ path: join(r, 'boot/grub/grubenv'), contentBase64: grubenv.toString('base64') }),
    ]);
    expect(await kernelPackage.apply(ctx, { version: '6.1.0-51-test' }, out.change)).toMatchObject({
      data: { target_kernel: '6.1.0-51-test' },
    });
    expect(savedEntry(r)).toBe('linux-6.1.0-51-test');
    // Default now, not running yet: still a change (the reboot), with nothing left to run before it.
    expect(await kernelPackage.check(ctx, { version: '6.1.0-51-test' })).toMatchObject({
      status: 'change',
      rebootRequired: true,
      preview: { commands: [], summary: expect.stringContaining('it is already the default boot entry') },
    });
    bootInto(r, '6.1.0-51-test');
    expect(await kernelPackage.check(ctx, { version: '6.1.0-51-test' })).toEqual({
      status: 'no_change',
      reason: 'kernel 6.1.0-51-test is installed and running',
    });
    bootInto(r, TEST_KERNEL);
    expect((await applyUndo(host.conn, out.undo)).failures).toEqual([]);
    expect(readFileSync(join(r, 'boot/grub/grubenv')).equals(grubenv)).toBe(true);
  });

  it('leaves the default to a staged rollout that holds it: the trial boot arms the target', async () => {
    const r = root();
    put(r, 'boot/vmlinuz-6.1.0-51-test', 'k\n');
    put(r, 'boot/initrd.img-6.1.0-51-test', 'i\n');
    rebuildDerived(r);
    put(r, 'boot/grub/grubenv', `# GRUB Environment Block\nsaved_entry=rollgate-known-good\n${'#'.repeat(64)}\n`);
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    const out = await kernelPackage.check(ctx, { version: '6.1.0-51-test' });
    expect(out).toMatchObject({
      status: 'change',
      rebootRequired: true,
      preview: {
        commands: [],
        summary: expect.stringContaining('the trial boot runs it once (a staged rollout holds the default entry)'),
      },
    });
  });

  it('refuses to guess when GRUB_DEFAULT is not saved and boots another kernel', async () => {
    const r = root();
    put(r, 'boot/vmlinuz-6.0.0-old', 'k\n');
    put(r, 'boot/initrd.img-6.0.0-old', 'i\n');
    put(
      r,
      'etc/default/grub',
      readFileSync(join(r, 'etc/default/grub'), 'utf8').replace('GRUB_DEFAULT=saved', 'GRUB_DEFAULT=0'),
    );
    rebuildDerived(r);
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    await expect(kernelPackage.check(ctx, { version: '6.0.0-old' })).rejects.toThrow(
      `GRUB_DEFAULT=0 boots ${TEST_KERNEL}, not 6.0.0-old: set GRUB_DEFAULT=saved`,
    );
  });

  it('refuses a version that is not a release and an unknown package', async () => {
    const r = root();
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    await expect(kernelPackage.check(ctx, { version: '6.1; rm -rf /' })).rejects.toThrow(/is not a kernel release/);
    const out = await kernelPackage.check(ctx, { version: '9.9.9-nope' });
    if (out.status !== 'change') throw new Error('expected change');
    await expect(kernelPackage.apply(ctx, {}, out.change)).rejects.toThrow(
      /Unable to locate package linux-image-9.9.9-nope/,
    );
  });
});
