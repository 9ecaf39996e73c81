/**
 * Rollouts that must end before any reboot, on the lab VMs, side by side (no reboot in either, so they are cheap):
 *   - GRUB's environment block made immutable (chattr +i): grub-editenv cannot write it, so the trial-boot preflight
 *     refuses the host before any change, naming the cause and the fix (exit 1); nothing changed, same boot.
 *   - issue 11's rollback step selection on a real kernel: kernel args changed, then `mkdir` of a directory that
 *     is already there fails; the host is rolled back by itself (files byte-identical, grubenv as before), the
 *     directory and its file stay, the `rm -rf` undo of the failed step is held back and reported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLab, type Lab } from './lab-harness.js';
import { cli, FILES_HASH, finishedOf, storyOf, GRUBENV, onHost, playbookFile } from './rollout-support.js';
import { elapsed, ofHost, onClaimed } from './connectivity-support.js';

let lab: Lab;

const DATA_PLAY = `- name: Kernel args, then a data directory
  hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.e2e=data] }
    - name: make the data dir
      command:
        cmd: mkdir /var/lib/rg-e2e-data
        undo: rm -rf /var/lib/rg-e2e-data
    - reboot: {}
`;

const state = async (host: string) => ({
  files: await onHost(lab, host, FILES_HASH),
  env: await onHost(lab, host, GRUBENV),
  boot: await lab.bootId(host),
});

beforeAll(async () => {
  lab = await ensureLab();
});

describe.concurrent('rollouts that end before any reboot, on lab VMs', () => {
  it('an immutable grubenv is refused by the preflight before any change, naming chattr -i', (t) =>
    onClaimed(
      lab,
      { skip: t.skip, any: 1, label: 'rollout-before-boot immutable grubenv', estimateMin: 5, priority: 1 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        await onHost(lab, host, 'chattr +i /boot/grub/grubenv');
        try {
          const before = await state(host);
          // What the one-shot would meet: grub-editenv (as grub-reboot and grub-set-default run it) fails.
          expect(
            await onHost(lab, host, 'grub-editenv /boot/grub/grubenv set rollgate_probe=1 2>&1; echo "exit $?"'),
          ).toMatch(/cannot open `\/boot\/grub\/grubenv': Operation not permitted\.\nexit 1\n$/);
          const run = cli([
            'rollout',
            'playbooks/enable-iommu-passthrough.yml',
            '-i',
            lab.inventoryFile,
            '--limit',
            host,
          ]);
          const out = await run.done;
          console.log(`rollout-before-boot immutable grubenv: ${elapsed(t)}`);
          expect(finishedOf(out.events), storyOf(out.events, run.stderr())).toEqual({ [host]: 'failed' });
          expect(out.code).toBe(1);
          const end = ofHost(out.events, host).find((e) => e.type === 'rollout.host_finished') as { message: string };
          expect(end.message).toContain(
            'preflight refused: /boot/grub/grubenv is immutable (chattr +i; Operation not permitted): grub-editenv cannot write it',
          );
          expect(end.message).toContain('(chattr -i /boot/grub/grubenv, once you know why it was set)');
          expect(
            ofHost(out.events, host)
              .filter((e) => e.type === 'rollout.host_step')
              .map((e) => (e as { step: string }).step),
          ).toEqual(['pre-change snapshot']);
          expect(out.events.some((e) => e.type === 'task.result' && e.status === 'changed')).toBe(false);
          expect(await state(host)).toEqual(before);
        } finally {
          await onHost(lab, host, 'chattr -i /boot/grub/grubenv');
        }
      },
    ));

  it('a failed mkdir after a kernel-args change: rolled back by itself before any reboot, the directory that was there keeps its file', (t) =>
    onClaimed(
      lab,
      { skip: t.skip, any: 1, label: 'rollout-before-boot failed mkdir', estimateMin: 10, priority: 1 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        await onHost(
          lab,
          host,
          'mkdir -p /var/lib/rg-e2e-data && echo "five years of measurements" > /var/lib/rg-e2e-data/keep && sync',
        );
        const before = { ...(await state(host)), cmdline: await onHost(lab, host, 'cat /proc/cmdline') };
        const run = cli([
          'rollout',
          playbookFile(`data-dir-${host}.yml`, DATA_PLAY),
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
        ]);
        const out = await run.done;
        console.log(`rollout-before-boot failed mkdir: ${elapsed(t)}`);
        const events = ofHost(out.events, host);
        expect(finishedOf(out.events), storyOf(out.events, run.stderr())).toEqual({ [host]: 'rolled_back' });
        expect(out.code).toBe(3);
        expect(
          events
            .filter((e) => e.type === 'task.result')
            .map((e) => [(e as { module: string }).module, (e as { status: string }).status]),
        ).toEqual([
          ['kernel_args', 'changed'],
          ['command', 'failed'],
        ]);
        expect(
          events.find((e) => e.type === 'rollout.host_step' && e.step === 'held back: rm -rf /var/lib/rg-e2e-data'),
        ).toMatchObject({
          status: 'skipped',
          message: expect.stringMatching(
            /^step \d+ "make the data dir" did not finish \(failed\): this undo command assumes the change happened$/,
          ),
        });
        // No reboot was needed: the failure came before it; the kernel args and the frozen entry are undone in place.
        expect(events.some((e) => e.type === 'rollout.host_step' && e.step.startsWith('reboot ('))).toBe(false);
        expect({ ...(await state(host)), cmdline: await onHost(lab, host, 'cat /proc/cmdline') }).toEqual(before);
        expect(
          await onHost(lab, host, 'cat /var/lib/rg-e2e-data/keep; test -e /boot/rollgate && echo leftovers || true'),
        ).toBe('five years of measurements\n');
      },
    ));
});
