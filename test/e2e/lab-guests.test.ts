/**
 * Hypervisors with guests (issue 12) on two lab VMs of their own brought up with `--guests` (the guests image:
 * libvirt, TCG inside the TCG VM, two nested guests per VM, a private LAN between the VMs), never the shared lab's.
 * In order, on the same two VMs:
 *   1. `rollgate check` on a lab VM shows both domains running, pt's hostdev (the e1000e 0000:01:00.0) and the PCI
 *      node devices libvirt enumerates (the `guests` line);
 *   2. refusals that change nothing: `rollgate run` with a bare `reboot` task, and a rollout whose policy says
 *      `with_devices: refuse` — the host with a running pt keeps its boot, its cmdline and its guests;
 *   3. the shipped `kernel-update.yml` as a staged rollout (canary lab1, then lab2) whose canary loses the binding
 *      (`no-vfio-after-boot`: the e1000e stays with its host driver and vfio-pci is withheld on the trial boot, so
 *      pt cannot start): movable-lab1 live-migrates to lab2, pt-lab1 shuts down, the trial fails verification, the
 *      canary rolls back to its kernel with pt-lab1 running with its device and movable-lab1 back; lab2 untouched;
 *   4. the same rollout without the fault: both hosts updated in two batches, each one's movable guest migrated to
 *      the other and back, pt shut down and started again with its device after the verified trial boot.
 * CI time: its own two VMs. Under a budget (ROLLGATE_E2E_END, `.ci/run`) or beside a running shared lab it waits for
 * its turn last in the shared lab's claim queue (priority 0, one shared host held read-only), and each step starts
 * only if its estimate fits, loudly skipped otherwise. Run beside the rollback paths in two CI runs of 2026-12-07 it
 * pushed the kill -9 points, stock GRUB and the kernel updates out of the budget (its lab up took 604 s there, its
 * first two steps 1252 s), so on two TCG cores it comes last; alone (`npm test` without a budget) every step runs.
 * Its lab: ROLLGATE_LAB_STATE (default ~/.local/state/rollgate/lab-e2e) + `-guests`; stopped at the end.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { budgetNote, type Claim } from './lab-claims.js';
import { ensureLab } from './lab-harness.js';
import { CONNECT_TIMEOUT_S, elapsed, ownLab, sharedLabUp } from './own-lab.js';
import { finishedOf, playbookFile, ROOT } from './rollout-support.js';

/**
 * Minutes from its turn to the end of step 2 on a loaded two-core TCG machine: lab up --guests of two VMs (cold
 * boots and the guests' first starts; a restore of their saved states takes seconds), check, the two refusals.
 * Alone on 2026-12-07 (load 2-3, restored): 130 s; in a CI run beside the rollback paths (load 10-13, cold): 1252 s.
 */
const ESTIMATE_MIN = 22;
/**
 * Minutes of step 3 (one host: apt, drain, trial boot, rollback boot, guests back) and step 4 (two hosts): alone
 * 413 s and 497 s; in CI about three times.
 */
const ROLLBACK_MIN = 20;
const UPDATE_MIN = 25;
const LABEL = 'lab guests: check, refusals, kernel update rolled back and staged, guests drained and restored';
const PT_NIC = '0000:01:00.0';

const lab = ownLab(LABEL, 'guests');
const { onVm, rollout, stepFits, inventory: INVENTORY } = lab;
const ownSettings = lab.settings;

const domains = async (host: string) => (await onVm(host, 'virsh list --name')).split('\n').filter(Boolean).sort();
const driverOf = (host: string) => onVm(host, `basename "$(readlink /sys/bus/pci/devices/${PT_NIC}/driver)"`);
const bootId = (host: string) => onVm(host, 'cat /proc/sys/kernel/random/boot_id');
/** What each host looks like to a person checking that nothing happened: boot, cmdline, kernel, guests, NIC. */
const untouched = async (host: string) => ({
  boot: await bootId(host),
  cmdline: await onVm(host, 'cat /proc/cmdline'),
  kernel: await onVm(host, 'uname -r'),
  domains: await domains(host),
  nic: await driverOf(host),
});
const guestLines = (events: RollgateEvent[], host: string) =>
  events.flatMap((e) => (e.type === 'host.guests' && e.host === host ? [e.message] : []));
const verification = (events: RollgateEvent[], host: string, against: 'candidate' | 'known_good') =>
  events.find((e) => e.type === 'rollout.verification' && e.host === host && e.against === against) as
    Extract<RollgateEvent, { type: 'rollout.verification' }> | undefined;

/** `rollgate ARGS` to its end: exit code and output. */
function rollgate(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'rollgate.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** pt runs on HOST with its device: libvirt says running, its XML holds the hostdev, the NIC is on vfio-pci. */
async function expectPtWithDevice(host: string): Promise<void> {
  expect(await domains(host)).toEqual([`movable-${host}`, `pt-${host}`]);
  expect(await onVm(host, `virsh dumpxml pt-${host}`)).toMatch(/<hostdev mode='subsystem' type='pci' managed='yes'>/);
  expect(await driverOf(host)).toBe('vfio-pci');
}

const REFUSE_PLAY = `- name: guests lab, pt refused
  hosts: all
  become: true
  rollout:
    guests: { movable: migrate, with_devices: refuse }
  tasks:
    - kernel_args: { present: [rollgate.e2e=refused] }
    - reboot: {}
`;
const BARE_REBOOT = `- name: a bare reboot
  hosts: lab1
  become: true
  tasks:
    - reboot: {}
`;

let started = false;
afterAll(async () => {
  if (started) await labDown(ownSettings(), { inventoryFile: INVENTORY, lockTimeoutMs: 120_000 });
});

describe('hypervisors with guests (lab up --guests)', () => {
  it('check shows the guests; bare reboots and refuse change nothing; a kernel update rolls a lost binding back and then updates both hosts, draining and restoring their guests', async (t) => {
    const budget = budgetNote(LABEL, ESTIMATE_MIN);
    if (budget) {
      console.warn(`[lab budget] ${budget}`);
      return t.skip(budget);
    }
    const turn = await takeTurn(t.skip);
    try {
      await steps();
    } finally {
      turn?.release();
    }
  });
});

/** The turn of this scenario: a claim on the shared lab when it runs beside it (last); undefined when alone. */
async function takeTurn(skip: (note: string) => void): Promise<Claim | undefined> {
  if (!process.env.ROLLGATE_E2E_END && !sharedLabUp()) return undefined;
  const shared = await ensureLab();
  return shared.claim({ any: 1, readOnly: true, priority: 0, label: LABEL, estimateMin: ESTIMATE_MIN, skip });
}

async function steps(): Promise<void> {
  const t0 = Date.now();
  started = true;
  const up = await labUp(ownSettings(), { hosts: 2, profile: 'intel', guests: true, inventoryFile: INVENTORY });
  const guestFigures = Object.entries(up.guestTimes).flatMap(([h, g]) =>
    Object.keys(g.start).map(
      (d) => `${h} ${d} start ${(g.start[d]! / 1000).toFixed(0)} s, ready ${((g.ready[d] ?? 0) / 1000).toFixed(0)} s`,
    ),
  );
  console.info(
    `[lab figures] ${LABEL}: lab up --guests ${elapsed(t0)}${guestFigures.length ? ` (${guestFigures.join('; ')})` : ' (restored)'}`,
  );
  const manifest = lab.manifest();
  for (const host of ['lab1', 'lab2']) {
    await expectPtWithDevice(host);
    expect(await onVm(host, 'uname -r')).toBe(manifest.kernel);
  }
  // pt's own console lists the e1000e (8086:10d3) among its PCI devices; movable's does not.
  expect(await onVm('lab1', 'cat /var/log/libvirt/qemu/pt-lab1-serial.log')).toMatch(
    /rollgate-lab-guest: pci \S+ 8086:10d3/,
  );
  expect(await onVm('lab1', 'cat /var/log/libvirt/qemu/movable-lab1-serial.log')).not.toMatch(/8086:10d3/);

  // 1. The hypervisor's view in check. A CI run (load 11-15, the VMs just cold-booted) once printed no guests
  //    line, and its output was lost: any output without one is printed, and check runs once more after a pause.
  const checkOnce = () =>
    rollgate(['check', '-i', INVENTORY, '--limit', 'lab1', '--connect-timeout', CONNECT_TIMEOUT_S]);
  const guestsLineOf = (out: string) => out.split('\n').find((l) => /^\s*guests \(/.test(l));
  let check = checkOnce();
  if (!guestsLineOf(check.out)) {
    console.warn(`[lab guests] rollgate check printed no guests line (exit ${check.code}):\n${check.out}`);
    await new Promise((r) => setTimeout(r, 30_000));
    check = checkOnce();
  }
  // e.g. `guests (qemu:///system): movable-lab1 running; pt-lab1 running [0000:01:00.0]; 14 PCI node devices`
  const guestsLine = guestsLineOf(check.out);
  console.info(`[lab figures] ${LABEL}: check: ${guestsLine?.trim() ?? '(no guests line)'}`);
  if (!guestsLine) throw new Error(`rollgate check printed no guests line (exit ${check.code}):\n${check.out}`);
  expect(guestsLine).toMatch(/movable-lab1 running/);
  expect(guestsLine).toMatch(/pt-lab1 running \[0000:01:00\.0\]/);
  expect(guestsLine).toMatch(/\d+ PCI node devices/);

  // 2. Refusals that change nothing. `rollgate run` with a bare reboot: refused before anything runs.
  const before = { lab1: await untouched('lab1'), lab2: await untouched('lab2') };
  const bare = rollgate([
    'run',
    playbookFile('guests-bare-reboot.yml', BARE_REBOOT),
    '-i',
    INVENTORY,
    '--connect-timeout',
    CONNECT_TIMEOUT_S,
  ]);
  expect(bare.code, bare.out.slice(-3000)).not.toBe(0);
  expect(bare.out).toMatch(/lab1 has 2 running guest\(s\) a reboot would kill: .*pt-lab1 \(holds 0000:01:00\.0\)/);
  expect(await untouched('lab1')).toEqual(before.lab1);
  //    A rollout whose policy refuses guests holding a device: the canary is refused (failed, nothing changed)
  //    and the rollout stops before lab2.
  const refused = await rollout('with_devices: refuse', playbookFile('guests-refuse.yml', REFUSE_PLAY));
  expect(finishedOf(refused.events), refused.story).toEqual({ lab1: 'failed' });
  expect(refused.story).toMatch(/lab1 has 1 running guest\(s\) a reboot would kill: pt-lab1 \(holds 0000:01:00\.0\)/);
  expect(refused.code).not.toBe(0);
  expect({ lab1: await untouched('lab1'), lab2: await untouched('lab2') }).toEqual(before);
  console.info(`[lab figures] ${LABEL}: steps 1-2 ${elapsed(t0)} from its turn`);

  if (!stepFits('the kernel update whose canary loses its binding', ROLLBACK_MIN)) return;
  // 3. kernel-update.yml, staged; the canary (lab1) loses its binding on the trial boot.
  const next = manifest.updateKernel;
  lab.fault('lab1', 'no-vfio-after-boot');
  const lost = await rollout(
    'kernel update, canary loses its binding',
    'playbooks/kernel-update.yml',
    '-e',
    `target_kernel=${next}`,
  );
  expect(finishedOf(lost.events), lost.story).toEqual({ lab1: 'rolled_back' });
  expect(lost.code).toBe(3);
  const failed = verification(lost.events, 'lab1', 'candidate');
  expect(failed?.ok, lost.story).toBe(false);
  expect(failed?.checks.find((c) => c.name === 'guest pt-lab1')).toMatchObject({ ok: false });
  expect(failed?.checks.find((c) => c.name.startsWith(`driver ${PT_NIC}`))).toMatchObject({
    ok: false,
    expected: 'vfio-pci',
  });
  expect(verification(lost.events, 'lab1', 'known_good')?.ok, lost.story).toBe(true);
  expect(lost.events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
    reason: 'canary_failed',
    untouched: ['lab2'],
  });
  // movable-lab1 goes to lab2 for the trial boot, comes back for the candidate's verification (return: true),
  // goes again for the reboot back to the known-good entry and comes back after it.
  expect(guestLines(lost.events, 'lab1').filter((m) => m.startsWith('migrating'))).toEqual([
    'migrating guest movable-lab1 to qemu+ssh://lab2/system',
    'migrating guest movable-lab1 to qemu:///system',
    'migrating guest movable-lab1 to qemu+ssh://lab2/system',
    'migrating guest movable-lab1 to qemu:///system',
  ]);
  expect(await onVm('lab1', 'uname -r')).toBe(manifest.kernel);
  expect(await onVm('lab1', `dpkg-query -W -f='\${Status}' linux-image-${next} 2>/dev/null || echo none`)).not.toMatch(
    /install ok installed/,
  );
  await expectPtWithDevice('lab1');
  expect((await untouched('lab2')).boot).toBe(before.lab2.boot);
  expect(await domains('lab2')).toEqual(['movable-lab2', 'pt-lab2']);
  lab.fault('lab1', 'clear');

  if (!stepFits('the staged kernel update of both hosts', UPDATE_MIN)) return;
  // 4. The same rollout without the fault: canary lab1, then lab2; each movable guest to the other host and back.
  //    pt's serial log is appended to at each start: its lines so far, to read only what the next start prints.
  const consoleLines = {
    lab1: Number(await onVm('lab1', 'wc -l < /var/log/libvirt/qemu/pt-lab1-serial.log')),
    lab2: Number(await onVm('lab2', 'wc -l < /var/log/libvirt/qemu/pt-lab2-serial.log')),
  };
  const update = await rollout(
    'kernel update, both hosts',
    'playbooks/kernel-update.yml',
    '-e',
    `target_kernel=${next}`,
  );
  expect(finishedOf(update.events), update.story).toEqual({ lab1: 'changed', lab2: 'changed' });
  expect(update.code).toBe(0);
  const order = update.events.flatMap((e) => (e.type === 'rollout.host_finished' ? [e.host] : []));
  expect(order).toEqual(['lab1', 'lab2']);
  for (const [host, peer] of [
    ['lab1', 'lab2'],
    ['lab2', 'lab1'],
  ] as const) {
    expect(guestLines(update.events, host).filter((m) => m.startsWith('migrating'))).toEqual([
      `migrating guest movable-${host} to qemu+ssh://${peer}/system`,
      `migrating guest movable-${host} to qemu:///system`,
    ]);
    const v = verification(update.events, host, 'candidate');
    expect(v?.ok, update.story).toBe(true);
    expect(v?.checks.find((c) => c.name === `guest pt-${host}`)).toMatchObject({ ok: true });
    expect(v?.checks.find((c) => c.name === `guest movable-${host}`)).toMatchObject({ ok: true });
    // Committed as kernel-update.test.ts's target update is: the new kernel from its own entry (the saved
    // default), the old one still installed, nothing of the trial boot left.
    expect(await onVm(host, 'uname -r')).toBe(next);
    expect(await onVm(host, 'grub-editenv list')).toMatch(
      new RegExp(
        `^saved_entry=gnulinux-advanced-[0-9a-f-]+>gnulinux-${next.replace(/\./g, '\\.')}-advanced-[0-9a-f-]+$`,
      ),
    );
    expect(await onVm(host, `dpkg-query -W -f='\${Status}' linux-image-${manifest.kernel}`)).toBe(
      'install ok installed',
    );
    expect(
      await onVm(host, 'ls /boot/grub/rollgate.cfg /etc/grub.d/06_rollgate /boot/rollgate 2>&1 || true'),
    ).not.toMatch(/^\/boot/m);
    await expectPtWithDevice(host);
    // pt's own console, from its start on the new kernel: it lists its device again, then says ready (within a
    // minute: the last host's guest may still be printing when the rollout ends).
    const log = `/var/log/libvirt/qemu/pt-${host}-serial.log`;
    const since = await onVm(
      host,
      `for i in $(seq 1 60); do tail -n +${consoleLines[host] + 1} ${log} | grep -q 'rollgate-lab-guest: ready' && break; sleep 1; done; tail -n +${consoleLines[host] + 1} ${log}`,
    );
    expect(since).toMatch(/rollgate-lab-guest: pci \S+ 8086:10d3[\s\S]*rollgate-lab-guest: ready/);
  }
  console.info(`[lab figures] ${LABEL}: ${elapsed(t0)} from its turn`);
}
