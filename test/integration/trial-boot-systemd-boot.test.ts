/**
 * The systemd-boot trial boot over real SSH, on real files: loader entries shaped as kernel-install's
 * 90-loaderentry.install writes them (test/fixtures/systemd-boot/README.md) on an ESP at /boot/efi. bootctl is a
 * test double (EFI variables cannot be written here; test/fixtures/doubles/bootctl): it writes the variables as
 * efivarfs files, which rollgate reads back as it does on a host. Nothing here boots: `bootSystemdBoot` does what
 * systemd-boot does at boot. The systemd-boot driver has not run on a booted kernel.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHostRoot } from '../../src/modules/host-root.js';
import { detectBootTooling } from '../../src/modules/boot/boot-tooling.js';
import { readRemoteFiles, toBackup } from '../../src/modules/host-files.js';
import { readBootInfo } from '../../src/modules/boot/reboot-proof.js';
import { applyUndos } from '../../src/modules/undo.js';
import type { UndoRecord } from '../../src/modules/module.js';
import { SdBootTrialBoot } from '../../src/trial-boot/sdboot-trial.js';
import { detectBootStack, trialBootFor } from '../../src/trial-boot/registry.js';
import { bootSide } from '../../src/trial-boot/trial-boot.js';
import { useModuleHost, hashTree } from './support/module-host.js';
import {
  SD_ARGS,
  SD_ENTRIES,
  SD_NEWER,
  SD_RUNNING,
  bootSystemdBoot,
  efiVar,
  sdId,
  setEfiVar,
  useSdBootFixtures,
} from './support/sdboot-root.js';

const host = useModuleHost();

function sdbootRoot(): string {
  const r = host.root('sdboot', 'systemd-boot');
  useSdBootFixtures(r);
  return r;
}
const entries = (r: string) => readdirSync(join(r, SD_ENTRIES)).sort();
const entry = (r: string, file: string) => readFileSync(join(r, SD_ENTRIES, file), 'utf8');
const side = async (r: string, state: Parameters<typeof bootSide>[1]) =>
  bootSide(await readBootInfo(host.conn, makeHostRoot(r)), state);

/** kernel_args on systemd-boot: /etc/kernel/cmdline, then `kernel-install add` rewrites the entry; undo first. */
async function kernelCmdline(r: string, add: string): Promise<UndoRecord> {
  const paths = ['etc/kernel/cmdline', `${SD_ENTRIES}/${sdId(SD_RUNNING)}`].map((p) => join(r, p));
  const before = await readRemoteFiles(host.conn, paths);
  writeFileSync(paths[0]!, `${SD_ARGS} ${add}\n`);
  writeFileSync(paths[1]!, readFileSync(paths[1]!, 'utf8').replace(/^(options\s+.*)$/m, `$1 ${add}`));
  return { files: before.map(toBackup), rebuild: [] };
}

describe('systemd-boot trial boot over real SSH, with kernel-install-shaped entries and a bootctl double', () => {
  it('is the driver the registry picks for a systemd-boot host', async () => {
    const r = sdbootRoot();
    expect(await detectBootStack(host.conn, makeHostRoot(r))).toBe('systemd-boot');
    expect(await trialBootFor(host.conn, makeHostRoot(r))).toBeInstanceOf(SdBootTrialBoot);
  });

  it('freezes a copy of the running entry as default, arms the trial once (no boot counter: systemd-boot 252 would not match its id), and commits the candidate', async () => {
    const r = sdbootRoot();
    const tb = new SdBootTrialBoot(host.conn, makeHostRoot(r));
    expect((await tb.preflight()).problems).toEqual([]);
    const undos: UndoRecord[] = [];
    const state = await tb.prepare((u) => undos.push(u));
    expect(undos[0]!.files.map((f) => [f.path.slice(r.length), f.contentBase64 === null])).toEqual([
      [`/${SD_ENTRIES}/rollgate-known-good.conf`, true],
      [`/${SD_ENTRIES}/rollgate-trial.conf`, true],
      [`/${SD_ENTRIES}/rollgate-trial+1.conf`, true],
      [`/${SD_ENTRIES}/rollgate-trial+0-1.conf`, true],
      ['/boot/efi/rollgate/linux', true],
      ['/boot/efi/rollgate/initrd', true],
    ]);
    expect(entry(r, 'rollgate-known-good.conf')).toBe(
      entry(r, sdId(SD_RUNNING))
        .replace(/^title .*$/m, `title      rollgate known-good (${SD_RUNNING})`)
        .replace(/^linux .*$/m, 'linux      /rollgate/linux')
        .replace(/^initrd .*$/m, 'initrd     /rollgate/initrd'),
    );
    expect(readFileSync(join(r, 'boot/efi/rollgate/linux'), 'utf8')).toBe(`kernel image ${SD_RUNNING}\n`);
    expect(efiVar(r, 'LoaderEntryDefault')).toBe('rollgate-known-good.conf');
    expect(state).toMatchObject({
      loader: 'systemd-boot',
      knownGoodRelease: SD_RUNNING,
      knownGoodRef: 'rollgate-known-good.conf',
    });

    expect(
      (await detectBootTooling(host.conn, makeHostRoot(r))).toolWrittenFiles.map((f) => f.slice(r.length)),
    ).toEqual([`/${SD_ENTRIES}/${sdId(SD_RUNNING)}`, `/${SD_ENTRIES}/${sdId(SD_NEWER).replace('.conf', '+3.conf')}`]);
    await kernelCmdline(r, 'iommu=pt');
    const armed = await tb.arm(state, { panicSec: 10 });
    expect(armed).toMatchObject({ candidateRef: sdId(SD_RUNNING), trialRef: 'rollgate-trial.conf' });
    expect(armed.trialArgs).toEqual([...SD_ARGS.split(' '), 'iommu=pt', 'panic=10']);
    expect(entry(r, 'rollgate-trial.conf')).toContain(`options    ${SD_ARGS} iommu=pt panic=10\n`);
    expect(efiVar(r, 'LoaderEntryOneShot')).toBe('rollgate-trial.conf');
    expect(efiVar(r, 'LoaderEntryDefault')).toBe('rollgate-known-good.conf');
    expect(readFileSync(join(r, 'var/log/bootctl.log'), 'utf8')).toBe(
      'set-default rollgate-known-good.conf\nset-default rollgate-known-good.conf\nset-oneshot rollgate-trial.conf\n',
    );

    expect(bootSystemdBoot(r)).toBe('rollgate-trial.conf');
    expect(efiVar(r, 'LoaderEntryOneShot')).toBeNull();
    expect(await side(r, armed)).toBe('trial');
    await tb.commit(armed);
    expect(efiVar(r, 'LoaderEntryDefault')).toBe(sdId(SD_RUNNING));
    expect(entries(r)).toEqual([sdId(SD_RUNNING), `${sdId(SD_NEWER).replace('.conf', '+3.conf')}`]);
    expect(existsSync(join(r, 'boot/efi/rollgate'))).toBe(false);
    expect(bootSystemdBoot(r)).toBe(sdId(SD_RUNNING));
    expect(readFileSync(join(r, 'proc/cmdline'), 'utf8')).toBe(`${SD_ARGS} iommu=pt\n`);
  });

  it("checks the trial boot by systemd-boot's own account; a candidate without efivarfs fails it, and a commit bootctl refuses keeps the frozen default", async () => {
    const r = sdbootRoot();
    const tb = new SdBootTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => {});
    await kernelCmdline(r, 'iommu=pt');
    const armed = await tb.arm(state, { panicSec: 10 });
    expect(bootSystemdBoot(r)).toBe('rollgate-trial.conf');
    expect(await tb.trialChecks(armed)).toEqual([
      expect.objectContaining({
        name: 'boot_loader',
        ok: true,
        expected: 'LoaderEntrySelected rollgate-trial.conf',
        actual: 'LoaderEntrySelected rollgate-trial.conf',
      }),
    ]);
    // The candidate kernel has no efivarfs (the lab's trimmed update kernel): nothing readable under efivars.
    const vars = join(r, 'sys/firmware/efi/efivars');
    const saved = readdirSync(vars).map((f) => [f, readFileSync(join(vars, f))] as const);
    for (const [f] of saved) rmSync(join(vars, f));
    expect(await tb.trialChecks(armed)).toEqual([
      expect.objectContaining({
        ok: false,
        actual: 'EFI variables unreadable (no efivarfs on this kernel): bootctl cannot commit',
      }),
    ]);
    for (const [f, bytes] of saved) writeFileSync(join(vars, f), bytes);
    // bootctl refuses (what it printed on that kernel): the commit stops before anything of the frozen boot goes.
    writeFileSync(
      join(r, 'usr/bin/bootctl'),
      '#!/bin/sh\necho "Not booted with a supported boot loader." >&2\nexit 1\n',
    );
    await expect(tb.commit(armed)).rejects.toThrow(/Not booted with a supported boot loader/);
    expect(efiVar(r, 'LoaderEntryDefault')).toBe('rollgate-known-good.conf');
    expect(entries(r)).toContain('rollgate-known-good.conf');
    expect(existsSync(join(r, 'boot/efi/rollgate/linux'))).toBe(true);
  });

  it('after a hang and a reset the frozen default boots by itself; undo plus release leave the files as they were', async () => {
    const r = sdbootRoot();
    const original = hashTree(r, ['proc', 'sys', 'var']);
    const tb = new SdBootTrialBoot(host.conn, makeHostRoot(r));
    const state = await tb.prepare(() => undefined);
    const change = await kernelCmdline(r, 'iommu=pt');
    const armed = await tb.arm(state, { panicSec: 10 });
    expect(bootSystemdBoot(r)).toBe('rollgate-trial.conf'); // hangs
    expect(bootSystemdBoot(r)).toBe('rollgate-known-good.conf'); // the reset: the one-shot was taken
    expect(readFileSync(join(r, 'proc/cmdline'), 'utf8')).toBe(`${SD_ARGS}\n`);
    expect(await side(r, armed)).toBe('fallback');
    expect((await applyUndos(host.conn, [change])).failures).toEqual([]);
    expect(await tb.release(armed)).toEqual({ defaultRef: sdId(SD_RUNNING) });
    expect(efiVar(r, 'LoaderEntryDefault')).toBe(sdId(SD_RUNNING));
    expect(hashTree(r, ['proc', 'sys', 'var'])).toBe(original);
  });

  it('trial-boots a newer kernel once, blesses its boot-counted entry only on commit, and makes it the default', async () => {
    const r = sdbootRoot();
    const tb = new SdBootTrialBoot(host.conn, makeHostRoot(r));
    const armed = await tb.arm(await tb.prepare(() => undefined), { release: SD_NEWER, panicSec: 5 });
    expect(armed).toMatchObject({ candidateRef: sdId(SD_NEWER), candidateRelease: SD_NEWER });
    expect(entry(r, 'rollgate-trial.conf')).toContain(
      `linux      /4d6b2a0f8c1e4b3a9f7d5c2e1a0b9c8d/${SD_NEWER}/linux\n`,
    );
    bootSystemdBoot(r);
    expect(entries(r)).toContain(sdId(SD_NEWER).replace('.conf', '+3.conf')); // not blessed before verification
    await tb.commit(armed);
    expect(entries(r)).toEqual([sdId(SD_RUNNING), sdId(SD_NEWER)]);
    expect(efiVar(r, 'LoaderEntryDefault')).toBe(sdId(SD_NEWER));
  });

  it('pins the default to the known-good kernel when the newer one fell back', async () => {
    const r = sdbootRoot();
    const tb = new SdBootTrialBoot(host.conn, makeHostRoot(r));
    const armed = await tb.arm(await tb.prepare(() => undefined), { release: SD_NEWER, panicSec: 5 });
    bootSystemdBoot(r);
    bootSystemdBoot(r);
    expect(await side(r, armed)).toBe('fallback');
    expect(await tb.release(armed)).toEqual({
      defaultRef: sdId(SD_RUNNING),
      note: `default pinned to ${SD_RUNNING}: ${SD_NEWER} is still installed and is not the known-good one`,
    });
    expect(entries(r)).toContain(sdId(SD_NEWER).replace('.conf', '+3.conf'));
  });

  it('undoing the preparation alone restores the files and the EFI variables through bootctl', async () => {
    const r = sdbootRoot();
    const original = hashTree(r, ['proc', 'var']);
    const undos: UndoRecord[] = [];
    await new SdBootTrialBoot(host.conn, makeHostRoot(r)).prepare((u) => undos.push(u));
    expect(hashTree(r, ['proc', 'var'])).not.toBe(original);
    expect((await applyUndos(host.conn, undos)).failures).toEqual([]);
    expect(efiVar(r, 'LoaderEntryDefault')).toBeNull();
    expect(hashTree(r, ['proc', 'var'])).toBe(original);
  });

  it('puts the EFI variables back when the controller died in the middle of the preparation', async () => {
    const r = sdbootRoot();
    const original = hashTree(r, ['proc', 'var']);
    const undos: UndoRecord[] = [];
    await new SdBootTrialBoot(host.conn, makeHostRoot(r)).prepare((u) => undos.push(u));
    const pending = undos.map((record) => ({ record, outcome: 'pending' as const }));
    expect((await applyUndos(host.conn, pending)).failures).toEqual([]);
    expect(hashTree(r, ['proc', 'var'])).toBe(original);
  });

  it('puts a default the host had before back on undo', async () => {
    const r = sdbootRoot();
    setEfiVar(r, 'LoaderEntryDefault', sdId(SD_RUNNING), 0x07);
    const undos: UndoRecord[] = [];
    const tb = new SdBootTrialBoot(host.conn, makeHostRoot(r));
    await tb.arm(await tb.prepare((u) => undos.push(u)), { panicSec: 5 });
    expect((await applyUndos(host.conn, undos)).failures).toEqual([]);
    expect(efiVar(r, 'LoaderEntryDefault')).toBe(sdId(SD_RUNNING));
    expect(efiVar(r, 'LoaderEntryOneShot')).toBeNull();
    expect(entries(r).filter((f) => f.startsWith('rollgate'))).toEqual([]);
  });

  it('refuses a host booted by another loader, without bootctl, or without an entry for the running kernel', async () => {
    const r = sdbootRoot();
    setEfiVar(r, 'LoaderInfo', 'GRUB 2.06-13+deb12u1');
    rmSync(join(r, 'usr/bin/bootctl'));
    rmSync(join(r, SD_ENTRIES, sdId(SD_RUNNING)));
    const pf = await new SdBootTrialBoot(host.conn, makeHostRoot(r)).preflight();
    expect(pf.problems.map((p) => p.check)).toEqual(['tool:bootctl', 'loader', 'running_entry']);
    expect(pf.problems[1]!.message).toBe('the running system was booted by "GRUB 2.06-13+deb12u1", not systemd-boot');
    rmSync(join(r, 'sys/firmware/efi'), { recursive: true });
    expect((await new SdBootTrialBoot(host.conn, makeHostRoot(r)).preflight()).problems.map((p) => p.check)).toContain(
      'efi',
    );
  });

  it("refuses a second run while the first one's frozen entry is booted, unless resuming", async () => {
    const r = sdbootRoot();
    await new SdBootTrialBoot(host.conn, makeHostRoot(r)).prepare(() => undefined);
    bootSystemdBoot(r);
    expect((await new SdBootTrialBoot(host.conn, makeHostRoot(r)).preflight()).problems.map((p) => p.check)).toEqual([
      'on_fallback',
    ]);
    expect((await new SdBootTrialBoot(host.conn, makeHostRoot(r), { resuming: true }).preflight()).ok).toBe(true);
  });
});
