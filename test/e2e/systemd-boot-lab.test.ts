/**
 * The systemd-boot trial boot on a booted kernel, on a lab VM of its own (`--profile systemd-boot`: OVMF,
 * systemd-boot, kernel-install's Type #1 entries, /etc/kernel/cmdline), never on the shared lab's GRUB hosts:
 *   - a `kernel_args` change through /etc/kernel/cmdline + kernel-install is trial-booted once (`bootctl
 *     set-oneshot rollgate-trial.conf`, the frozen known-good entry the default), verified and committed: the
 *     kernel's own entry carries the argument and is the default, rollgate's entries and copies are gone;
 *   - a change whose verification cannot hold is rolled back: the host comes back on the frozen known-good entry
 *     (LoaderEntrySelected), verifies against its old snapshot, and the kernel's entry is the default again.
 * CI time: this scenario brings its own VM (an image derived from the GRUB image, then a UEFI cold boot: no saved
 * state), so it never runs beside the shared lab's scenarios. Under a budget (ROLLGATE_E2E_END, `.ci/run`) or
 * with the shared lab up, it waits in the shared lab's claim queue at the lowest priority as a `last` request
 * (served only when no other scenario waits, one shared host held read-only as its turn) and checks its budget
 * there; its image and VM come only after that. Run alone without a budget (`npx vitest run --project e2e
 * test/e2e/systemd-boot-lab.test.ts`) it goes straight to its own lab. Its lab: ROLLGATE_LAB_STATE (default
 * ~/.local/state/rollgate/lab-e2e) + `-systemd-boot`; stopped at the end.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labUp, connectLabHost } from '../../src/lab/lab.js';
import { labSettings, type LabSettings } from '../../src/lab/settings.js';
import { hostNames, labPaths, readLabState } from '../../src/lab/state.js';
import { vmPid } from '../../src/lab/vm.js';
import { LOADER_GUID } from '../../src/modules/boot/loader-vars.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { budgetNote, type Claim } from './lab-claims.js';
import { e2eSettings, ensureLab } from './lab-harness.js';
import { cli, finishedOf, playbookFile, ROOT, storyOf, VFIO_PLAY } from './rollout-support.js';

/**
 * Minutes from its turn to the end, on a loaded two-core TCG machine: the derived image (~30 s with the GRUB image
 * cached, 693 s at load 10-13), a UEFI cold boot (93-125 s, 543 s at load 10-13), two rollouts of three reboots in
 * all plus kernel-install's depmod under TCG (by hand: the commit 353 s, a rollback 722 s). Its first passing run
 * (2026-12-07, beside other scenarios at load 7-9) took 522 s from its turn (docs/lab.md, "systemd-boot profile"),
 * so 20 for a CI machine's load: under the CI budget it goes last and is skipped loudly when that no longer fits.
 */
const ESTIMATE_MIN = 28;
const LABEL = 'systemd-boot lab: kernel_args trial boot, commit and rollback';
const INVENTORY = resolve(import.meta.dirname, '..', '..', '.local-fleet', 'e2e-systemd-boot', 'lab.yml');
const HOST = 'lab1';
const ARG = 'rollgate.e2e=sdboot';
/**
 * SSH handshake budget of the rollouts, s: a run at load average 10-13 (a CI run and other VMs beside it) saw the
 * first handshake of the commit rollout miss the default 15 s on the VM that had just answered lab up's login.
 */
const CONNECT_TIMEOUT_S = '60';

function ownSettings(): LabSettings {
  return labSettings({ ...process.env, ROLLGATE_LAB_STATE: `${e2eSettings().stateDir}-systemd-boot` });
}

function sharedLabUp(): boolean {
  const state = readLabState(labPaths(e2eSettings().stateDir));
  return !!state && hostNames(state).some((h) => vmPid(state.hosts[h]!) !== undefined);
}

/** The turn of this scenario: a `last` claim on the shared lab when it runs beside it; undefined when alone. */
async function takeTurn(skip: (note: string) => void): Promise<Claim | undefined> {
  if (!process.env.ROLLGATE_E2E_END && !sharedLabUp()) return undefined;
  const shared = await ensureLab();
  return shared.claim({
    any: 1,
    readOnly: true,
    last: true,
    priority: -1,
    label: LABEL,
    estimateMin: ESTIMATE_MIN,
    skip,
  });
}

async function onVm(script: string): Promise<string> {
  const conn = await connectLabHost(ownSettings(), HOST);
  try {
    const r = await conn.exec(script, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new Error(`${HOST}: ${script}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  } finally {
    await conn.close();
  }
}

const efiVar = (name: string) =>
  onVm(
    `f=/sys/firmware/efi/efivars/${name}-${LOADER_GUID}; if [ -r "$f" ]; then cat "$f" | tail -c +5 | tr -d '\\000'; fi`,
  );
const verification = (events: RollgateEvent[], against: 'candidate' | 'known_good') =>
  events.find((e) => e.type === 'rollout.verification' && e.host === HOST && e.against === against) as
    Extract<RollgateEvent, { type: 'rollout.verification' }> | undefined;
const elapsed = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

let started = false;
afterAll(async () => {
  if (started) await labDown(ownSettings(), { inventoryFile: INVENTORY, lockTimeoutMs: 120_000 });
});

describe('systemd-boot on a booted kernel (a lab VM of its own)', () => {
  it('trial-boots a kernel_args change with bootctl set-oneshot, commits it, rolls back one that does not verify; the main job commits; a lost binding rolls back', async (t) => {
    const budget = budgetNote(LABEL, ESTIMATE_MIN);
    if (budget) {
      console.warn(`[lab budget] ${budget}`);
      return t.skip(budget);
    }
    const turn = await takeTurn(t.skip);
    try {
      const t0 = Date.now();
      started = true;
      const up = await labUp(ownSettings(), { hosts: 1, profile: 'systemd-boot', inventoryFile: INVENTORY });
      console.info(
        `[lab figures] ${LABEL}: lab up ${elapsed(t0)} (cold boot ${Math.round((up.bootMs[HOST] ?? 0) / 1000)} s)`,
      );
      const release = await onVm('uname -r');
      const entry = `rollgate-lab-${release}.conf`;
      expect(await efiVar('LoaderInfo')).toMatch(/^systemd-boot /);
      expect(await efiVar('LoaderEntrySelected')).toBe(entry);

      // 1. A change that verifies: trial boot on the one-shot entry, verified, committed.
      const t1 = Date.now();
      const good = cli([
        'rollout',
        playbookFile('sdboot-commit.yml', play(`kernel_args: { present: [${ARG}] }`, `cmdline_present: [${ARG}]`)),
        '-i',
        INVENTORY,
        '--boot-timeout',
        '1200',
        '--connect-timeout',
        CONNECT_TIMEOUT_S,
      ]);
      const a = await good.done;
      console.info(`[lab figures] ${LABEL}: commit rollout ${elapsed(t1)}`);
      expect(finishedOf(a.events), storyOf(a.events, good.stderr())).toEqual({ [HOST]: 'changed' });
      expect(a.code).toBe(0);
      expect(verification(a.events, 'candidate')?.ok).toBe(true);
      expect((await onVm('cat /proc/cmdline')).split(' ')).toContain(ARG);
      expect(await efiVar('LoaderEntrySelected')).toBe('rollgate-trial.conf');
      expect(await efiVar('LoaderEntryDefault')).toBe(entry);
      expect(await onVm(`grep '^options' /boot/efi/loader/entries/${entry}`)).toContain(ARG);
      expect(await onVm('ls /boot/efi/loader/entries; ls -d /boot/efi/rollgate 2>/dev/null || true')).toBe(entry);

      // 2. A change whose verification cannot hold: rolled back onto the frozen known-good entry.
      const t2 = Date.now();
      const bad = cli([
        'rollout',
        playbookFile(
          'sdboot-rollback.yml',
          play('kernel_args: { absent: [quiet] }', 'cmdline_present: [rollgate.e2e=never]'),
        ),
        '-i',
        INVENTORY,
        '--boot-timeout',
        '1200',
        '--connect-timeout',
        CONNECT_TIMEOUT_S,
      ]);
      const b = await bad.done;
      console.info(`[lab figures] ${LABEL}: rollback rollout ${elapsed(t2)}`);
      expect(finishedOf(b.events), storyOf(b.events, bad.stderr())).toEqual({ [HOST]: 'rolled_back' });
      expect(b.code).toBe(3);
      expect(verification(b.events, 'candidate')?.ok).toBe(false);
      expect(verification(b.events, 'known_good')?.ok).toBe(true);
      expect(await efiVar('LoaderEntrySelected')).toBe('rollgate-known-good.conf');
      expect(await efiVar('LoaderEntryDefault')).toBe(entry);
      const cmdline = (await onVm('cat /proc/cmdline')).split(' ');
      expect(cmdline).toEqual(expect.arrayContaining([ARG, 'quiet']));
      expect(await onVm(`grep '^options' /boot/efi/loader/entries/${entry}`)).toMatch(/ quiet /);
      expect(await onVm('cat /etc/kernel/cmdline')).toContain(' quiet ');
      expect(await onVm('ls /boot/efi/loader/entries; ls -d /boot/efi/rollgate 2>/dev/null || true')).toBe(entry);

      // 3. The main job, unchanged: intel_iommu=on iommu=pt through /etc/kernel/cmdline + kernel-install, committed.
      const t3 = Date.now();
      const main = cli([
        'rollout',
        'playbooks/enable-iommu-passthrough.yml',
        '-i',
        INVENTORY,
        '--boot-timeout',
        '1200',
        '--connect-timeout',
        CONNECT_TIMEOUT_S,
      ]);
      const c = await main.done;
      console.info(`[lab figures] ${LABEL}: main job ${elapsed(t3)}`);
      expect(finishedOf(c.events), storyOf(c.events, main.stderr())).toEqual({ [HOST]: 'changed' });
      expect(c.code).toBe(0);
      expect(await onVm('cat /proc/cmdline')).toMatch(/ intel_iommu=on iommu=pt( |$)/);
      expect(await onVm(`grep '^options' /boot/efi/loader/entries/${entry}`)).toMatch(/ intel_iommu=on iommu=pt( |$)/);
      expect(await efiVar('LoaderEntryDefault')).toBe(entry);
      expect(await onVm('cat /sys/kernel/iommu_groups/*/type | sort -u')).toBe('identity');

      // 4. A lost binding: the NIC bound to vfio-pci by the play, given back to e1000e at boot (no-vfio-after-boot):
      //    verification fails on the trial, the host is rolled back onto the frozen entry and verifies as before.
      execFileSync(process.execPath, [join(ROOT, 'bin', 'rollgate.js'), 'lab', 'fault', HOST, 'no-vfio-after-boot'], {
        env: { ...process.env, ROLLGATE_LAB_STATE: ownSettings().stateDir },
        timeout: 120_000,
      });
      const t4 = Date.now();
      const lost = cli([
        'rollout',
        playbookFile('sdboot-vfio.yml', VFIO_PLAY),
        '-i',
        INVENTORY,
        '--boot-timeout',
        '1200',
        '--connect-timeout',
        CONNECT_TIMEOUT_S,
      ]);
      const d = await lost.done;
      console.info(`[lab figures] ${LABEL}: lost binding rollback ${elapsed(t4)}`);
      expect(finishedOf(d.events), storyOf(d.events, lost.stderr())).toEqual({ [HOST]: 'rolled_back' });
      expect(d.code).toBe(3);
      expect(
        verification(d.events, 'candidate')?.checks.find((x) => x.name.startsWith('driver 0000:01:00.0')),
      ).toMatchObject({
        ok: false,
        expected: 'vfio-pci',
        actual: 'e1000e',
      });
      expect(verification(d.events, 'known_good')?.ok).toBe(true);
      expect(await efiVar('LoaderEntrySelected')).toBe('rollgate-known-good.conf');
      expect(await efiVar('LoaderEntryDefault')).toBe(entry);
      expect(await onVm('basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)"')).toBe('e1000e');
      console.info(`[lab figures] ${LABEL}: ${elapsed(t0)} from its turn`);
    } finally {
      turn?.release();
    }
  });
});

function play(change: string, verify: string): string {
  return `- name: systemd-boot lab
  hosts: all
  become: true
  tasks:
    - ${change}
    - reboot: {}
    - verify: { ${verify} }
`;
}
