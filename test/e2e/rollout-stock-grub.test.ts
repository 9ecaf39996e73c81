/**
 * Hosts as they come (issue 13): a lab VM given GRUB's stock defaults (GRUB_DEFAULT=0, no saved entry, the recordfail
 * wait as shipped: src/lab/stock-grub.ts, what `rollgate lab up --profile stock-grub` gives every VM) and the main
 * job's rollout, unchanged, on it:
 *   - without the operator's consent the trial-boot preflight refuses the host before any change, naming
 *     `--prepare-boot`; nothing on the host changed and it did not reboot;
 *   - with `--prepare-boot` the rollout makes GRUB trial-boot ready (boot_default, journaled with its undo), changes
 *     the kernel arguments, boots the trial entry once, verifies and commits: the IOMMU arguments are on the running
 *     kernel's command line and GRUB_DEFAULT is saved;
 *   - `rollgate undo` of that run gives /etc/default/grub back byte for byte (GRUB_DEFAULT=0 again).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STOCK_GRUB_SCRIPT } from '../../src/lab/stock-grub.js';
import { ensureLab, type Lab } from './lab-harness.js';
import { cli, finishedOf, storyOf, onHost, runIdOf, GRUBENV } from './rollout-support.js';
import { elapsed, ofHost, onClaimed, rollgatePlain } from './connectivity-support.js';

let lab: Lab;

const DEFAULTS =
  'sha256sum /etc/default/grub | cut -d" " -f1; grep -E "^GRUB_(DEFAULT|RECORDFAIL_TIMEOUT)=" /etc/default/grub';

beforeAll(async () => {
  lab = await ensureLab();
});

describe('the main job on a host with stock GRUB defaults', () => {
  it('is refused before any change without consent; with --prepare-boot it is prepared, trial-booted, verified and committed; undo gives the stock defaults back', (t) =>
    onClaimed(
      lab,
      { skip: t.skip, intel: 1, label: 'rollout-stock-grub', estimateMin: 18, priority: 1 },
      async ([h]) => {
        const host = h!;
        const started = Date.now();
        await onHost(lab, host, STOCK_GRUB_SCRIPT);
        const stock = await onHost(lab, host, DEFAULTS);
        expect(stock).toMatch(/^[0-9a-f]{64}\nGRUB_DEFAULT=0\n$/);
        expect(await onHost(lab, host, GRUBENV)).not.toContain('saved_entry=');
        const boot = await lab.bootId(host);

        // No consent: refused by the preflight, before any change.
        const refused = cli([
          'rollout',
          'playbooks/enable-iommu-passthrough.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
        ]);
        const r1 = await refused.done;
        expect(finishedOf(r1.events), storyOf(r1.events, refused.stderr())).toEqual({ [host]: 'failed' });
        expect(r1.code).toBe(1);
        const end = ofHost(r1.events, host).find((e) => e.type === 'rollout.host_finished') as { message: string };
        expect(end.message).toContain('preflight refused: GRUB_DEFAULT is "0", not saved');
        expect(end.message).toContain('rollgate rollout --prepare-boot');
        expect(r1.events.some((e) => e.type === 'task.result' && e.status === 'changed')).toBe(false);
        expect(await onHost(lab, host, DEFAULTS)).toBe(stock);
        expect(await lab.bootId(host)).toBe(boot);

        // With consent: prepared, then the play as usual.
        const run = cli([
          'rollout',
          'playbooks/enable-iommu-passthrough.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
          '--prepare-boot',
          '--boot-timeout',
          '1200',
        ]);
        const r2 = await run.done;
        console.log(`rollout-stock-grub: prepared rollout ended after ${elapsed(started)}`);
        expect(finishedOf(r2.events), storyOf(r2.events, run.stderr())).toEqual({ [host]: 'changed' });
        expect(r2.code).toBe(0);
        const steps = ofHost(r2.events, host)
          .filter((e) => e.type === 'rollout.host_step' && (e as { status: string }).status === 'ok')
          .map((e) => (e as { step: string }).step);
        expect(steps).toContain('prepare the boot loader (boot_default)');
        expect(await lab.bootId(host)).not.toBe(boot);
        expect(await onHost(lab, host, 'cat /proc/cmdline')).toMatch(/\bintel_iommu=on\b.*\biommu=pt\b/);
        expect(await onHost(lab, host, 'grep -E "^GRUB_DEFAULT=" /etc/default/grub')).toBe('GRUB_DEFAULT=saved\n');
        // Committed: the default is the kernel's own entry again, not one of rollgate's.
        expect(await onHost(lab, host, GRUBENV)).toMatch(/^saved_entry=gnulinux-advanced-.*>gnulinux-[^\n]*$/m);
        expect(
          await onHost(
            lab,
            host,
            'ls /boot/grub/rollgate.cfg 2>/dev/null; grep -c rollgate /boot/grub/grub.cfg || true',
          ),
        ).toBe('0\n');

        // Undo of the whole run: the stock defaults come back byte for byte (no reboot needed to see the files).
        const undo = await rollgatePlain(
          ['undo', runIdOf(r2.events), '-i', lab.inventoryFile, '--limit', host, '-b'],
          20 * 60_000,
        );
        expect(undo.code, undo.stdout + undo.stderr).toBe(0);
        expect(await onHost(lab, host, DEFAULTS)).toBe(stock);
        expect(await onHost(lab, host, 'grep -c "iommu=pt" /boot/grub/grub.cfg || true')).toBe('0\n');
        console.log(`rollout-stock-grub: ${elapsed(started)} in all`);
      },
    ));
});
