/**
 * The main job on the lab VMs (runs in `npm test`): `enable-iommu-passthrough.yml` as a staged rollout over three
 * hosts of two hardware kinds (two Intel, one AMD: the mixed lab): one canary per kind (the Intel one, then the AMD
 * one), then a batch of the second Intel host; `intel_iommu=on iommu=pt` or `amd_iommu=on iommu=pt` applied through
 * GRUB, each host booted once on the trial entry, verified against its pre-change snapshot (IOMMU on — VT-d or the
 * emulated AMD-Vi —, default domain passthrough, interrupt remapping, groups, drivers, no new DMA faults) and
 * committed. While it runs, a second rollout on one of its hosts is refused by the lock and touches nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetSpent, type Claim } from './lab-claims.js';
import { ensureLab, type Lab } from './lab-harness.js';
import { cli, finishedOf, storyOf, onHost, runIdOf, show, GRUBENV } from './rollout-support.js';

let lab: Lab;
let claim: Claim | undefined;
let hosts: string[] = [];

beforeAll(async () => {
  lab = await ensureLab();
  // Two kinds: two canaries (one per kind, one after the other), then a batch of one.
  try {
    claim = await lab.claim({ intel: 2, amd: 1, label: 'rollout-main', estimateMin: 22, priority: 1 });
  } catch (err) {
    if (err instanceof BudgetSpent) {
      budgetSkip = err.message;
      return;
    }
    throw err;
  }
  // In inventory order (lab1, lab2, ...), as the rollout plans them.
  hosts = [...claim.hosts].sort((a, b) => lab.vm(a).index - lab.vm(b).index);
});
afterAll(() => claim?.release());

/** Past the run's e2e budget before this file got its hosts: its tests are skipped (lab-claims.ts). */
let budgetSkip: string | undefined;
beforeEach((t) => {
  if (budgetSkip) t.skip(budgetSkip);
});

describe('staged rollout of enable-iommu-passthrough.yml on three lab VMs', () => {
  it('a canary per hardware kind, then the batch: iommu=pt with the vendor switch applied, each host booted once on the trial entry, verified and committed; a second run is refused', async () => {
    const started = Date.now();
    const kind = (h: string) => lab.vm(h).iommu;
    const intelHosts = hosts.filter((h) => kind(h) === 'intel');
    const amd = hosts.find((h) => kind(h) === 'amd')!;
    expect([intelHosts.length, amd]).toEqual([2, expect.any(String)]);
    // The first host of each kind in inventory order is its canary; the second Intel host is the batch.
    const canaries = hosts.filter((h) => h === amd || h === intelHosts[0]);
    const b2 = intelHosts[1]!;
    const boots = Object.fromEntries(await Promise.all(hosts.map(async (h) => [h, await lab.bootId(h)] as const)));
    const run = cli([
      'rollout',
      'playbooks/enable-iommu-passthrough.yml',
      '-i',
      lab.inventoryFile,
      '--limit',
      hosts.join(','),
      '--boot-timeout',
      '1200',
    ]);
    await run.until((e) => e.type === 'rollout.batch_started');

    // Two runs against the same host: the second is refused by the lock, before touching anything.
    const second = cli(['rollout', 'playbooks/enable-iommu-passthrough.yml', '-i', lab.inventoryFile, '--limit', b2]);
    const refused = await second.done;
    expect(refused.code).toBe(5);
    expect(refused.events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      reason: 'lock_refused',
      untouched: [b2],
    });

    const { code, events } = await run.done;
    const runId = runIdOf(events);
    expect(finishedOf(events), storyOf(events, run.stderr())).toEqual(
      Object.fromEntries(hosts.map((h) => [h, 'changed'])),
    );
    expect(code).toBe(0);
    expect(events.filter((e) => e.type === 'rollout.batch_started').map((e) => [e.phase, e.hosts])).toEqual([
      ['canary', [canaries[0]]],
      ['canary', [canaries[1]]],
      ['batch', [b2]],
    ]);
    for (const h of hosts) {
      const v = events.find((e) => e.type === 'rollout.verification' && e.host === h);
      expect(v).toMatchObject({ against: 'candidate', ok: true });
      const names = (v as { checks: Array<{ name: string; ok: boolean }> }).checks
        .filter((c) => c.ok)
        .map((c) => c.name);
      expect(names).toEqual(
        expect.arrayContaining(['cmdline', 'iommu_active', 'default_domain', 'interrupt_remapping', 'dma_faults']),
      );
      expect(await onHost(lab, h, 'cat /proc/cmdline')).toMatch(
        kind(h) === 'amd' ? / amd_iommu=on iommu=pt / : / intel_iommu=on iommu=pt /,
      );
      // The vendor's IOMMU is the one the kernel brought up.
      expect(await onHost(lab, h, 'ls /sys/class/iommu/')).toMatch(kind(h) === 'amd' ? /^ivhd/m : /^dmar/m);
      expect(await onHost(lab, h, 'cat /sys/kernel/iommu_groups/*/type | sort -u')).toBe('identity\n');
      // Committed: the normal entry is the default again (no frozen entry, no one-shot pending), booted once.
      expect(await onHost(lab, h, GRUBENV)).toMatch(
        /^saved_entry=gnulinux-advanced-[0-9a-f-]+>gnulinux-[^>\s]+-advanced-[0-9a-f-]+\n$/,
      );
      expect(
        await onHost(lab, h, 'ls /boot/grub/rollgate.cfg /etc/grub.d/06_rollgate /boot/rollgate 2>&1 || true'),
      ).not.toMatch(/^\/boot/m);
      expect(await lab.bootId(h)).not.toBe(boots[h]);
    }
    const timeline = await show(runId, amd);
    expect(timeline).toMatch(new RegExp(`${amd}: changed`));
    expect(timeline).toMatch(/freeze the known-good boot entry/);
    expect(timeline).toMatch(/arm the trial boot: ok/);
    expect(timeline).toMatch(/verification against the pre-change snapshot and the play: passed/);
    console.log(
      `rollout-main: ${((Date.now() - started) / 1000).toFixed(0)} s for the rollout of 3 hosts of two kinds`,
    );
  });
});
