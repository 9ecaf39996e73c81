import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeHostRoot } from '../../src/modules/host-root.js';
import { readRemoteFiles, toBackup } from '../../src/modules/host-files.js';
import { applyUndos } from '../../src/modules/undo.js';
import type { UndoRecord } from '../../src/modules/module.js';
import { GrubTrialBoot, HOOK_PATH } from '../../src/trial-boot/grub-trial.js';
import { bootSide } from '../../src/trial-boot/trial-boot.js';
import { useModuleHost, hashTree } from './support/module-host.js';
import { put, TEST_KERNEL } from './support/fake-root.js';
import { HALF_CP, toolDir, withPath } from './support/host-faults.js';
import { GRUB_ROOT_ARGS, updateGrub, useRealGrubTools } from './support/grub-root.js';

const ARGS = GRUB_ROOT_ARGS;
const host = useModuleHost();

/** A Debian-shaped root whose GRUB user tools are the real ones (grub-editenv, grub-reboot, grub-set-default). */
function debianRoot(): string {
  const r = host.root('trial', 'debian');
  useRealGrubTools(r, { grubenv: 'absent' });
  return r;
}
function grubenv(r: string): string {
  return existsSync(join(r, 'boot/grub/grubenv'))
    ? execFileSync('grub-editenv', [join(r, 'boot/grub/grubenv'), 'list'], { encoding: 'utf8' })
    : '(absent)';
}
/** What GRUB does when it boots a one-shot: clear next_entry; then the kernel's cmdline is what the entry said. */
function bootInto(r: string, bootImage: string, args: string): void {
  execFileSync('grub-editenv', [join(r, 'boot/grub/grubenv'), 'unset', 'next_entry']);
  put(r, 'proc/cmdline', `BOOT_IMAGE=${bootImage} ${args}\n`);
}
/** The change a kernel_args module makes, with its undo recorded first. */
async function changeArgs(r: string): Promise<UndoRecord> {
  const path = join(r, 'etc/default/grub');
  const [before] = await readRemoteFiles(host.conn, [path]);
  const undo: UndoRecord = {
    files: [toBackup(before!)],
    rebuild: [`ROLLGATE_ROOT=${r} ${join(r, 'usr/sbin/update-grub')}`],
  };
  writeFileSync(path, readFileSync(path, 'utf8').replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="iommu=pt"'));
  updateGrub(r);
  return undo;
}

describe('GRUB trial boot over real SSH, with the real grub-editenv / grub-reboot / grub-set-default', () => {
  it('freezes the known-good entry, arms a one-shot trial with panic=N, and commits the candidate as default', async () => {
    const r = debianRoot();
    const tb = new GrubTrialBoot(host.conn, makeHostRoot(r));
    expect((await tb.preflight()).problems).toEqual([]);
    const undos: UndoRecord[] = [];
    const state = await tb.prepare((u) => undos.push(u));
    expect(undos).toHaveLength(1);
    expect(undos[0]!.files.map((f) => [f.path.slice(r.length), f.contentBase64 === null])).toEqual([
      [HOOK_PATH, true],
      ['/boot/grub/rollgate.cfg', true],
      ['/boot/grub/grubenv', true],
      [`/boot/rollgate/vmlinuz-${TEST_KERNEL}`, true],
      [`/boot/rollgate/initrd.img-${TEST_KERNEL}`, true],
    ]);
    expect(readFileSync(join(r, 'boot/rollgate', `vmlinuz-${TEST_KERNEL}`), 'utf8')).toBe('kernel image\n');
    expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).toContain('source ${config_directory}/rollgate.cfg');
    expect(readFileSync(join(r, 'boot/grub/rollgate.cfg'), 'utf8')).toContain(
      `linux\t/boot/rollgate/vmlinuz-${TEST_KERNEL} ${ARGS}\n`,
    );
    expect(grubenv(r)).toBe('saved_entry=rollgate-known-good\n');
    expect(state).toMatchObject({
      knownGoodRelease: TEST_KERNEL,
      knownGoodArgs: ARGS.split(' '),
      bootImagePrefix: '/boot/rollgate/',
    });

    await changeArgs(r);
    const armed = await tb.arm(state, { panicSec: 10 });
    expect(armed).toMatchObject({
      candidateRef: `gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test`,
      trialRef: 'rollgate-trial',
      candidateRelease: TEST_KERNEL,
    });
    expect(armed.trialArgs).toEqual([
      'root=UUID=0000-test',
      'ro',
      'iommu=pt',
      'console=ttyS0,115200n8',
      'quiet',
      'panic=10',
    ]);
    expect(grubenv(r)).toBe('saved_entry=rollgate-known-good\nnext_entry=rollgate-trial\n');
    const cfg = readFileSync(join(r, 'boot/grub/rollgate.cfg'), 'utf8');
    expect(cfg).toContain("menuentry 'rollgate trial (6.1.0-test)' --id rollgate-trial {");
    expect(cfg).toContain('--id rollgate-known-good {');

    bootInto(r, `/boot/vmlinuz-${TEST_KERNEL}`, armed.trialArgs!.join(' '));
    expect(bootSide(readFileSync(join(r, 'proc/cmdline'), 'utf8'), armed)).toBe('trial');
    await tb.commit(armed);
    expect(grubenv(r)).toBe(`saved_entry=gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test\n`);
    expect(existsSync(join(r, 'boot/rollgate'))).toBe(false);
    expect(existsSync(join(r, HOOK_PATH))).toBe(false);
    expect(existsSync(join(r, 'boot/grub/rollgate.cfg'))).toBe(false);
    expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).not.toContain('rollgate');
  });

  it('after a fallback boot, the undo plus release leave the files as before and the normal entry as default', async () => {
    const r = debianRoot();
    const original = hashTree(r, ['proc']);
    const tb = new GrubTrialBoot(host.conn, makeHostRoot(r));
    const undos: UndoRecord[] = [];
    const state = await tb.prepare((u) => undos.push(u));
    const changeUndo = await changeArgs(r);
    const armed = await tb.arm(state, { panicSec: 10 });
    // The trial hung; a power reset made GRUB boot the saved default: the frozen copy with the old args.
    bootInto(r, `/boot/rollgate/vmlinuz-${TEST_KERNEL}`, ARGS);
    expect(bootSide(readFileSync(join(r, 'proc/cmdline'), 'utf8'), armed)).toBe('fallback');
    const report = await applyUndos(host.conn, [changeUndo]);
    expect(report.failures).toEqual([]);
    expect(await tb.release(armed)).toEqual({
      defaultRef: `gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test`,
    });
    expect(grubenv(r)).toBe(`saved_entry=gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test\n`);
    rmSync(join(r, 'boot/grub/grubenv'));
    expect(hashTree(r, ['proc'])).toBe(original);
  });

  it('pins the default to the known-good kernel when a newer one stays installed after the fallback', async () => {
    const r = debianRoot();
    const tb = new GrubTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => undefined);
    put(r, 'boot/vmlinuz-6.9.0-bad', 'bad kernel\n');
    put(r, 'boot/initrd.img-6.9.0-bad', 'initrd\n');
    updateGrub(r);
    const armed = await tb.arm(state, { release: '6.9.0-bad', panicSec: 5 });
    expect(armed.candidateRef).toBe('gnulinux-advanced-0000-test>gnulinux-6.9.0-bad-advanced-0000-test');
    expect(armed.candidateRelease).toBe('6.9.0-bad');
    bootInto(r, `/boot/rollgate/vmlinuz-${TEST_KERNEL}`, ARGS);
    const out = await tb.release(armed);
    expect(out.defaultRef).toBe(`gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test`);
    expect(out.note).toContain('default pinned to 6.1.0-test');
  });

  it('trial-boots the running kernel with the new args when the change names no kernel, though a newer one is installed', async () => {
    const r = debianRoot();
    const tb = new GrubTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => undefined);
    put(r, 'boot/vmlinuz-6.9.0-new', 'newer kernel, installed, never tried\n');
    put(r, 'boot/initrd.img-6.9.0-new', 'initrd\n');
    updateGrub(r);
    const armed = await tb.arm(state, { panicSec: 5 });
    expect(armed.candidateRelease).toBe(TEST_KERNEL);
    expect(armed.candidateRef).toBe(`gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test`);
    await tb.commit(armed);
    expect(grubenv(r)).toBe(`saved_entry=gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test\n`);
  });

  it('undoing the preparation alone restores the root byte for byte', async () => {
    const r = debianRoot();
    const original = hashTree(r, ['proc']);
    const undos: UndoRecord[] = [];
    await new GrubTrialBoot(host.conn, makeHostRoot(r)).prepare((u) => undos.push(u));
    expect(hashTree(r, ['proc'])).not.toBe(original);
    expect((await applyUndos(host.conn, undos)).failures).toEqual([]);
    expect(hashTree(r, ['proc'])).toBe(original);
  });

  it('refuses a known-good copy that does not match the running kernel; undo of the half-done preparation leaves the root as it was', async () => {
    const r = debianRoot();
    const original = hashTree(r, ['proc']);
    const bin = toolDir(join(host.root('bin-halfcp', 'debian'), 'faulty-bin'), [], { cp: HALF_CP });
    const undos: UndoRecord[] = [];
    await expect(
      new GrubTrialBoot(withPath(host.conn, `${bin}:$PATH`), makeHostRoot(r)).prepare((u) => undos.push(u)),
    ).rejects.toThrow(
      `the copy of ${join(r, 'boot/vmlinuz-' + TEST_KERNEL)} to ${join(r, 'boot/rollgate/vmlinuz-' + TEST_KERNEL)} does not match its source (sha256)`,
    );
    expect(existsSync(join(r, 'boot/rollgate', `vmlinuz-${TEST_KERNEL}`))).toBe(false);
    // The step never finished: undo gives it what is safe whatever it did (file bytes, its empty directory).
    expect(
      (
        await applyUndos(
          host.conn,
          undos.map((record) => ({ record, outcome: 'pending' as const })),
        )
      ).failures,
    ).toEqual([]);
    expect(hashTree(r, ['proc'])).toBe(original);
  });

  it('refuses hosts where a one-shot cannot work, naming each reason', async () => {
    const r = debianRoot();
    writeFileSync(
      join(r, 'etc/default/grub'),
      readFileSync(join(r, 'etc/default/grub'), 'utf8').replace(
        'GRUB_DEFAULT=saved',
        'GRUB_DEFAULT=0\nGRUB_SAVEDEFAULT=true',
      ),
    );
    writeFileSync(join(r, '.probe-abstraction'), 'lvm\n');
    writeFileSync(join(r, '.probe-fs'), 'btrfs\n');
    rmSync(join(r, 'usr/sbin/grub-reboot'));
    const pf = await new GrubTrialBoot(host.conn, makeHostRoot(r)).preflight();
    expect(pf.ok).toBe(false);
    expect(pf.problems.map((p) => p.check)).toEqual([
      'tool:reboot',
      'grub_default',
      'grub_savedefault',
      'grubenv_device',
      'grubenv_fs',
    ]);
    expect(pf.problems[3]!.message).toBe(
      "grubenv is on lvm: GRUB cannot write it at boot, so grub-reboot's one-shot would never be cleared",
    );
  });

  it('takes a host an earlier run rolled back (still running its released copy); refuses one whose run has not finished, unless resuming', async () => {
    const r = debianRoot();
    const tb = new GrubTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => undefined);
    const changeUndo = await changeArgs(r);
    const armed = await tb.arm(state, { panicSec: 10 });
    bootInto(r, `/boot/rollgate/vmlinuz-${TEST_KERNEL}`, ARGS);
    expect((await applyUndos(host.conn, [changeUndo])).failures).toEqual([]);
    await tb.release(armed);
    // Finished: the copies are gone, the normal entry is the default; the host runs the known-good kernel.
    expect(existsSync(join(r, 'boot/rollgate'))).toBe(false);
    expect((await new GrubTrialBoot(host.conn, makeHostRoot(r)).preflight()).problems).toEqual([]);
    // A new run froze its entry and was interrupted: its leftovers refuse a third run, not a resume.
    await new GrubTrialBoot(host.conn, makeHostRoot(r)).prepare(() => undefined);
    expect((await new GrubTrialBoot(host.conn, makeHostRoot(r)).preflight()).problems.map((p) => p.check)).toEqual([
      'on_fallback',
    ]);
    expect((await new GrubTrialBoot(host.conn, makeHostRoot(r), { resuming: true }).preflight()).ok).toBe(true);
    put(r, 'proc/cmdline', `BOOT_IMAGE=/boot/vmlinuz-${TEST_KERNEL} ${ARGS}\n`);
    expect((await new GrubTrialBoot(host.conn, makeHostRoot(r)).preflight()).problems.map((p) => p.check)).toEqual([
      'leftover',
    ]);
  });

  it("releases onto the normal entry when the known-good boot still carries an earlier trial's panic=N", async () => {
    const r = debianRoot();
    // An earlier run committed its trial; the host has not rebooted since, so /proc/cmdline keeps panic=10.
    put(r, 'proc/cmdline', `BOOT_IMAGE=/boot/vmlinuz-${TEST_KERNEL} ${ARGS} panic=10\n`);
    const tb = new GrubTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => undefined);
    expect(state.knownGoodArgs.at(-1)).toBe('panic=10');
    const changeUndo = await changeArgs(r);
    const armed = await tb.arm(state, { panicSec: 10 });
    bootInto(r, `/boot/rollgate/vmlinuz-${TEST_KERNEL}`, `${ARGS} panic=10`);
    expect((await applyUndos(host.conn, [changeUndo])).failures).toEqual([]);
    expect(await tb.release(armed)).toEqual({
      defaultRef: `gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test`,
    });
    expect(grubenv(r)).toBe(`saved_entry=gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test\n`);
  });
});
