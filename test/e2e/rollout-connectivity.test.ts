/**
 * Hosts that stop answering during a rollout, on the lab VMs, side by side:
 *   - link-down on a batch host after its change and before its reboot: it is reported unreachable (its state
 *     unknown) and keeps its lock, the other batch host ends changed and verified, the run stops per threshold
 *     (exit 4); after the link is back, `rollgate resume RUN` takes the cut host's changes back.
 *   - a host with no power driver whose trial boot never answers (link-down as GRUB starts the trial): the rollout
 *     warned about it while planning, before any change; it needs a person with the evidence (exit 6) and keeps its
 *     lock until `rollgate unlock RUN --host H`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { Journal } from '../../src/journal/journal.js';
import { ensureLab, type Lab } from './lab-harness.js';
import {
  cli,
  FILES_HASH,
  finishedOf,
  storyOf,
  GRUBENV,
  JOURNAL,
  onHost,
  playbookFile,
  runIdOf,
} from './rollout-support.js';
import { elapsed, inventoryWithoutPower, ofHost, onClaimed, rollgatePlain } from './connectivity-support.js';

let lab: Lab;

const MARKER_PLAY = `- name: Add a marker argument
  hosts: all
  become: true
  max_fail_percentage: 0
  tasks:
    - kernel_args: { present: [rollgate.e2e=link] }
    - reboot: {}
    - verify: { cmdline_present: [rollgate.e2e=link] }
`;
// The cheapest change a trial boot must prove (no update-grub): a command with an undo.
const TOUCH_PLAY = `- name: A change proven by a trial boot
  hosts: all
  become: true
  tasks:
    - command: { cmd: touch /var/lib/rg-e2e-power, undo: rm -f /var/lib/rg-e2e-power }
    - reboot: {}
`;

const state = async (host: string) => ({
  files: await onHost(lab, host, FILES_HASH),
  env: await onHost(lab, host, GRUBENV),
  boot: await lab.bootId(host),
});
const hostLocks = async (runId: string) => {
  const journal = Journal.open(JOURNAL);
  try {
    return [
      ...new Set((await journal.fleetLock().listHostLocks()).filter((l) => l.runId === runId).map((l) => l.host)),
    ];
  } finally {
    journal.close();
  }
};

beforeAll(async () => {
  lab = await ensureLab();
});

describe.concurrent('hosts that stop answering during a rollout, on lab VMs', () => {
  it('link-down on a batch host after its change: unreachable, the others consistent, the run stopped; resume takes the change back', (t) =>
    onClaimed(
      lab,
      { skip: t.skip, sameKind: 3, label: 'rollout-connectivity link-down', estimateMin: 18, priority: 2 },
      async (hosts) => {
        const t = Date.now();
        const before = Object.fromEntries(await Promise.all(hosts.map(async (h) => [h, await state(h)] as const)));
        const run = cli([
          'rollout',
          playbookFile('marker-link.yml', MARKER_PLAY),
          '-i',
          lab.inventoryFile,
          '--limit',
          hosts.join(','),
          '--boot-timeout',
          '1200',
        ]);
        const started = (await run.until((e) => e.type === 'rollout.started', 10 * 60_000)) as Extract<
          RollgateEvent,
          { type: 'rollout.started' }
        >;
        expect(started.batches.map((b) => [b.phase, b.hosts.length])).toEqual([
          ['canary', 1],
          ['batch', 2],
        ]);
        const canary = started.batches[0]!.hosts[0]!;
        const [other, cut] = started.batches[1]!.hosts as [string, string];
        // The change is on the host; its link goes at once, before the reboot task gets far.
        await run.until(
          (e) => e.type === 'task.result' && e.host === cut && e.module === 'kernel_args' && e.status === 'changed',
          30 * 60_000,
        );
        await lab.arm(cut, 'link-down');
        const cutAt = Date.now();
        const first = await run.done;
        const runId = runIdOf(first.events);
        console.log(
          `rollout-connectivity link-down: rollout ${elapsed(t)} (cut host reported ${Math.round(((ofHost(first.events, cut).find((e) => e.type === 'rollout.host_finished')?.at ?? cutAt) - cutAt) / 1000)} s after the cut)`,
        );

        expect(finishedOf(first.events), storyOf(first.events, run.stderr())).toEqual({
          [canary]: 'changed',
          [other]: 'changed',
          [cut]: 'unreachable',
        });
        expect(first.code).toBe(4);
        const lost = ofHost(first.events, cut).find((e) => e.type === 'rollout.host_finished') as { message: string };
        expect(lost.message).toContain(
          `its changes may be in place: it keeps its lock, and once it answers \`rollgate resume ${runId}\` takes them back`,
        );
        expect(
          ofHost(first.events, cut).some(
            (e) => e.type === 'rollout.host_step' && e.step.startsWith('reboot (') && e.status === 'started',
          ),
        ).toBe(false);
        expect(first.events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
          reason: 'max_fail_percentage',
          untouched: [],
        });
        expect(await hostLocks(runId)).toEqual([cut]);
        // The others are whole: changed, verified on their trial boot, committed.
        for (const h of [canary, other]) {
          expect(
            first.events.find((e) => e.type === 'rollout.verification' && e.host === h && e.against === 'candidate'),
          ).toMatchObject({ ok: true });
          expect(await onHost(lab, h, 'cat /proc/cmdline')).toMatch(/ rollgate\.e2e=link /);
          const env = await onHost(lab, h, `${GRUBENV}; test -e /boot/rollgate && echo leftovers || true`);
          // The committed default is the kernel's own entry (never the top-level one that boots whatever is newest).
          expect(env).toMatch(/^saved_entry=gnulinux-advanced-[0-9a-f-]+>gnulinux-[^>\s]+-advanced-/);
          expect(env).not.toMatch(/rollgate|leftovers|next_entry=\S/);
        }

        await lab.clear(cut);
        const resume = cli(['resume', runId]);
        const second = await resume.done;
        console.log(`rollout-connectivity link-down: with clear + resume ${elapsed(t)}`);
        // Found on its old boot, mid-change: every change taken back without a reboot; files and grubenv as before.
        expect(finishedOf(second.events), storyOf(second.events, resume.stderr())).toEqual({ [cut]: 'rolled_back' });
        expect(second.code).toBe(3);
        expect(await state(cut)).toEqual(before[cut]);
        expect(
          await onHost(lab, cut, 'cat /proc/cmdline; test -e /boot/rollgate && echo leftovers || true'),
        ).not.toMatch(/rollgate\.e2e=link|leftovers/);
        expect(await hostLocks(runId)).toEqual([]);
      },
    ));

  it('a host with no power driver whose trial boot never answers: warned before any change, then needs a person with evidence', (t) =>
    onClaimed(
      lab,
      { skip: t.skip, any: 1, label: 'rollout-connectivity no power driver', estimateMin: 15, priority: 1 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        const inventory = inventoryWithoutPower(lab, host);
        const run = cli([
          'rollout',
          playbookFile(`touch-${host}.yml`, TOUCH_PLAY),
          '-i',
          inventory,
          '--limit',
          host,
          '--boot-timeout',
          '120',
        ]);
        await run.until(
          (e) =>
            e.type === 'rollout.host_step' &&
            e.host === host &&
            e.step.startsWith('reboot (') &&
            e.status === 'started',
          20 * 60_000,
        );
        const mark = lab.consoleMark(host);
        // GRUB starts the one-shot trial; its network never comes up.
        await lab.waitConsole(host, mark, /Booting `rollgate trial/, 10 * 60_000);
        await lab.arm(host, 'link-down');
        const out = await run.done;
        const runId = runIdOf(out.events);
        console.log(`rollout-connectivity no power driver: ${elapsed(t)}`);
        try {
          // Warned while planning, before the first step on the host.
          const events = out.events;
          const warning = events.findIndex((e) => e.type === 'rollout.warning' && e.host === host);
          expect(events[warning]).toMatchObject({
            code: 'no_power_driver',
            message: `${host} has no power driver (rollgate_power): if a boot hangs, rollgate cannot power-reset it and the host will need a person`,
          });
          expect(warning).toBeLessThan(events.findIndex((e) => e.type === 'rollout.host_step'));
          expect(finishedOf(events), storyOf(events, run.stderr())).toEqual({ [host]: 'needs_person' });
          expect(out.code).toBe(6);
          const person = events.find((e) => e.type === 'rollout.needs_person') as {
            reason: string;
            evidence: Record<string, string>;
          };
          expect(person.reason).toMatch(/not back within 120 s .*and no power driver is configured \(rollgate_power\)/);
          expect(person.evidence).toMatchObject({
            journal: `rollgate show ${runId} --host ${host}`,
            serialLog: lab.vm(host).consoleLog,
            lastSnapshot: expect.stringMatching(/^pre-change snapshot #\d+$/),
          });
          expect(await hostLocks(runId)).toEqual([host]);
        } finally {
          // The operator's way out, whatever the assertions above said. The guest is left as it is (its trial boot
          // may still be coming up without a link): the claim is released dirty, and the next claim restores it.
          const unlock = await rollgatePlain(['unlock', runId, '--host', host]);
          expect(unlock.code, unlock.stderr).toBe(0);
          expect(unlock.stdout).toMatch(
            new RegExp(`^${host}: host lock of run ${runId} released \\(held since \\S+\\)\n$`),
          );
          expect(await hostLocks(runId)).toEqual([]);
        }
      },
    ));
});
