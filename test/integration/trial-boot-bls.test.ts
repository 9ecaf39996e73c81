/**
 * The GRUB + BLS trial boot (Fedora/RHEL) over real SSH, on real files: entry files shaped as Fedora's
 * 20-grub.install writes them and a grub.cfg as grub2-mkconfig writes it with GRUB_ENABLE_BLSCFG=true
 * (test/fixtures/bls/README.md), a grubenv read and written by the real grub-editenv. grubby is a test double
 * (not packaged for Debian; test/fixtures/doubles/grubby). Nothing here boots: `bootBls` does what GRUB's
 * 00_header and blscfg do at boot. The BLS driver has not run on a booted Fedora kernel.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeHostRoot } from '../../src/modules/host-root.js';
import { detectBootTooling } from '../../src/modules/boot/boot-tooling.js';
import { readRemoteFiles, toBackup } from '../../src/modules/host-files.js';
import { applyUndos } from '../../src/modules/undo.js';
import type { UndoRecord } from '../../src/modules/module.js';
import { BlsTrialBoot } from '../../src/trial-boot/bls-trial.js';
import { detectBootStack, trialBootFor } from '../../src/trial-boot/registry.js';
import { bootSide } from '../../src/trial-boot/trial-boot.js';
import { useModuleHost, hashTree } from './support/module-host.js';
import { runDouble } from './support/fake-root.js';
import { BLS_ARGS, BLS_NEWER, BLS_RUNNING, blsId, bootBls, grubenvOf, useBlsFixtures } from './support/bls-root.js';

const host = useModuleHost();
const ENTRIES = 'boot/loader/entries';

function fedoraRoot(): string {
  const r = host.root('bls', 'fedora-bls');
  useBlsFixtures(r);
  return r;
}
const entry = (r: string, id: string) => readFileSync(join(r, ENTRIES, `${id}.conf`), 'utf8');
const cmdline = (r: string) => readFileSync(join(r, 'proc/cmdline'), 'utf8');

/** kernel_args on a grubby host: `grubby --update-kernel=ALL --args=...` over every entry, undo recorded first. */
async function grubbyArgs(r: string, args: string): Promise<UndoRecord> {
  const dir = join(r, ENTRIES);
  const paths = ['', ...['rollgate-known-good', blsId(BLS_RUNNING), blsId(BLS_NEWER)]]
    .filter((id) => id !== '')
    .map((id) => join(dir, `${id}.conf`));
  const before = await readRemoteFiles(host.conn, paths);
  runDouble(r, 'usr/sbin/grubby', ['--update-kernel=ALL', `--args=${args}`]);
  return { files: before.map(toBackup), rebuild: [] };
}

describe('GRUB + BLS trial boot over real SSH, with the real grub-editenv and Fedora-shaped entries', () => {
  it('is the driver the registry picks for a GRUB_ENABLE_BLSCFG host', async () => {
    const r = fedoraRoot();
    expect(await detectBootStack(host.conn, makeHostRoot(r))).toBe('grub-bls');
    expect(await trialBootFor(host.conn, makeHostRoot(r))).toBeInstanceOf(BlsTrialBoot);
  });

  it('freezes a copy of the running entry, arms the trial as next_entry and commits the candidate entry through grubby', async () => {
    const r = fedoraRoot();
    const tb = new BlsTrialBoot(host.conn, makeHostRoot(r));
    expect((await tb.preflight()).problems).toEqual([]);
    const undos: UndoRecord[] = [];
    const state = await tb.prepare((u) => undos.push(u));
    expect(undos[0]!.files.map((f) => [f.path.slice(r.length), f.contentBase64 === null])).toEqual([
      [`/${ENTRIES}/rollgate-known-good.conf`, true],
      [`/${ENTRIES}/rollgate-trial.conf`, true],
      ['/boot/grub2/grubenv', false],
      [`/boot/rollgate/vmlinuz-${BLS_RUNNING}`, true],
      [`/boot/rollgate/initramfs-${BLS_RUNNING}.img`, true],
    ]);
    expect(entry(r, 'rollgate-known-good')).toBe(
      [
        `title rollgate known-good (${BLS_RUNNING})`,
        `version ${BLS_RUNNING}`,
        `linux /rollgate/vmlinuz-${BLS_RUNNING}`,
        `initrd /rollgate/initramfs-${BLS_RUNNING}.img`,
        `options ${BLS_ARGS}`,
        'grub_users $grub_users',
        'grub_arg --unrestricted',
        'grub_class fedora',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(r, 'boot/rollgate', `vmlinuz-${BLS_RUNNING}`), 'utf8')).toBe(
      `kernel image ${BLS_RUNNING}\n`,
    );
    expect(grubenvOf(r)).toBe('saved_entry=rollgate-known-good\n');
    expect(state).toMatchObject({ loader: 'grub-bls', knownGoodRelease: BLS_RUNNING, bootImagePrefix: '/rollgate/' });

    // A change's undo backs up the kernels' entries, never rollgate's (an undo after the commit would revive it).
    expect(
      (await detectBootTooling(host.conn, makeHostRoot(r))).toolWrittenFiles.map((f) => f.slice(r.length)),
    ).toEqual([
      `/${ENTRIES}/${blsId(BLS_RUNNING)}.conf`,
      `/${ENTRIES}/${blsId(BLS_NEWER)}.conf`,
      '/boot/grub2/grubenv',
    ]);
    // The real grubby edits every entry, the frozen one too; arming writes the frozen entry back.
    await grubbyArgs(r, 'iommu=pt');
    expect(entry(r, 'rollgate-known-good')).toContain('rhgb quiet iommu=pt');
    const armed = await tb.arm(state, { panicSec: 10 });
    expect(entry(r, 'rollgate-known-good')).toBe(state.frozenEntry);
    expect(armed).toMatchObject({
      candidateRef: blsId(BLS_RUNNING),
      candidateRelease: BLS_RUNNING,
      trialRef: 'rollgate-trial',
    });
    expect(armed.trialArgs).toEqual([...BLS_ARGS.split(' '), 'iommu=pt', 'panic=10']);
    expect(entry(r, 'rollgate-trial')).toContain(`linux /vmlinuz-${BLS_RUNNING}\n`);
    expect(entry(r, 'rollgate-trial')).toContain(`options ${BLS_ARGS} iommu=pt panic=10\n`);
    expect(grubenvOf(r)).toBe('saved_entry=rollgate-known-good\nnext_entry=rollgate-trial\n');

    expect(bootBls(r)).toBe('rollgate-trial');
    expect(grubenvOf(r)).toBe('saved_entry=rollgate-known-good\n');
    expect(bootSide(cmdline(r), armed)).toBe('trial');
    await tb.commit(armed);
    expect(grubenvOf(r)).toBe(`saved_entry=${blsId(BLS_RUNNING)}\n`);
    expect(existsSync(join(r, 'boot/rollgate'))).toBe(false);
    expect(existsSync(join(r, ENTRIES, 'rollgate-known-good.conf'))).toBe(false);
    expect(existsSync(join(r, ENTRIES, 'rollgate-trial.conf'))).toBe(false);
    expect(bootBls(r)).toBe(blsId(BLS_RUNNING));
    expect(cmdline(r)).toBe(`BOOT_IMAGE=(hd0,gpt2)/vmlinuz-${BLS_RUNNING} ${BLS_ARGS} iommu=pt\n`);
  });

  it('after a hang and a reset the frozen entry boots; undo plus release leave the root byte for byte as it was', async () => {
    const r = fedoraRoot();
    const original = hashTree(r, ['proc']);
    const tb = new BlsTrialBoot(host.conn, makeHostRoot(r));
    const undos: UndoRecord[] = [];
    const state = await tb.prepare((u) => undos.push(u));
    const change = await grubbyArgs(r, 'iommu=pt');
    const armed = await tb.arm(state, { panicSec: 10 });
    expect(bootBls(r)).toBe('rollgate-trial'); // hangs
    expect(bootBls(r)).toBe('rollgate-known-good'); // the reset: next_entry was consumed
    expect(cmdline(r)).toBe(`BOOT_IMAGE=(hd0,gpt2)/rollgate/vmlinuz-${BLS_RUNNING} ${BLS_ARGS}\n`);
    expect(bootSide(cmdline(r), armed)).toBe('fallback');
    expect((await applyUndos(host.conn, [change])).failures).toEqual([]);
    expect(await tb.release(armed)).toEqual({ defaultRef: blsId(BLS_RUNNING) });
    expect(grubenvOf(r)).toBe(`saved_entry=${blsId(BLS_RUNNING)}\n`);
    expect(hashTree(r, ['proc'])).toBe(original);
  });

  it('trial-boots a newer kernel once and pins the default to the known-good one after the fallback', async () => {
    const r = fedoraRoot();
    const tb = new BlsTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => undefined);
    // Installing the kernel made it the saved default, as Fedora's 20-grub.install does (UPDATEDEFAULT=yes).
    execFileSync('grub-editenv', [join(r, 'boot/grub2/grubenv'), 'set', `saved_entry=${blsId(BLS_NEWER)}`]);
    const armed = await tb.arm(state, { release: BLS_NEWER, panicSec: 5 });
    expect(grubenvOf(r)).toBe('saved_entry=rollgate-known-good\nnext_entry=rollgate-trial\n');
    expect(armed).toMatchObject({ candidateRef: blsId(BLS_NEWER), candidateRelease: BLS_NEWER });
    expect(entry(r, 'rollgate-trial')).toContain(`linux /vmlinuz-${BLS_NEWER}\n`);
    expect(bootBls(r)).toBe('rollgate-trial');
    expect(cmdline(r)).toBe(`BOOT_IMAGE=(hd0,gpt2)/vmlinuz-${BLS_NEWER} ${BLS_ARGS} panic=5\n`);
    expect(bootBls(r)).toBe('rollgate-known-good');
    expect(await tb.release(armed)).toEqual({
      defaultRef: blsId(BLS_RUNNING),
      note: `default pinned to ${BLS_RUNNING}: ${BLS_NEWER} is still installed and is not the known-good one`,
    });
  });

  it('undoing the preparation alone restores the root byte for byte', async () => {
    const r = fedoraRoot();
    const original = hashTree(r, ['proc']);
    const undos: UndoRecord[] = [];
    await new BlsTrialBoot(host.conn, makeHostRoot(r)).prepare((u) => undos.push(u));
    expect(hashTree(r, ['proc'])).not.toBe(original);
    expect((await applyUndos(host.conn, undos)).failures).toEqual([]);
    expect(hashTree(r, ['proc'])).toBe(original);
  });

  it('commits through grub-editenv where grubby is missing', async () => {
    const r = fedoraRoot();
    rmSync(join(r, 'usr/sbin/grubby'));
    const tb = new BlsTrialBoot(host.conn, makeHostRoot(r));
    const armed = await tb.arm(await tb.prepare(() => undefined), { release: BLS_NEWER, panicSec: 5 });
    bootBls(r);
    await tb.commit(armed);
    expect(grubenvOf(r)).toBe(`saved_entry=${blsId(BLS_NEWER)}\n`);
  });

  it('refuses hosts where the one-shot cannot work, naming each reason', async () => {
    const r = fedoraRoot();
    const running = join(r, ENTRIES, `${blsId(BLS_RUNNING)}.conf`);
    // Fedora 30-33: options from the grubenv variable kernelopts.
    writeFileSync(running, readFileSync(running, 'utf8').replace(/^options .*$/m, 'options $kernelopts'));
    writeFileSync(
      join(r, 'boot/grub2/grub.cfg'),
      readFileSync(join(r, 'boot/grub2/grub.cfg'), 'utf8').replace(/^blscfg$/m, ''),
    );
    writeFileSync(join(r, '.probe-fs'), 'btrfs\n');
    rmSync(join(r, 'usr/bin/grub2-editenv'));
    const pf = await new BlsTrialBoot(host.conn, makeHostRoot(r)).preflight();
    expect(pf.problems.map((p) => p.check)).toEqual(['tool:editenv', 'blscfg', 'grubenv_fs', 'entry_options']);
    expect(pf.problems[3]!.message).toBe(
      `${blsId(BLS_RUNNING)}.conf takes its options from a GRUB variable ($kernelopts): a frozen copy could not keep them`,
    );
  });

  it("refuses a second run while the first one's frozen entry and copies are there, unless resuming", async () => {
    const r = fedoraRoot();
    await new BlsTrialBoot(host.conn, makeHostRoot(r)).prepare(() => undefined);
    bootBls(r);
    const pf = await new BlsTrialBoot(host.conn, makeHostRoot(r)).preflight();
    expect(pf.problems.map((p) => p.check)).toEqual(['on_fallback']);
    expect((await new BlsTrialBoot(host.conn, makeHostRoot(r), { resuming: true }).preflight()).ok).toBe(true);
  });
});
