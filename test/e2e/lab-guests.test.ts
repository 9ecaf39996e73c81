/**
 * Hypervisors with guests (issue 12) on two lab VMs of their own brought up with `--guests` (the guests image:
 * libvirt, TCG inside the TCG VM, two nested guests per VM, a private LAN between the VMs), never the shared lab's:
 * profile `mixed`, so lab1 is Intel and lab2 AMD, two hardware kinds, each its kind's canary.
 * In order, on the same two VMs, the most telling first (under the CI budget a later step starts only if it fits):
 *   1. `rollgate check` on a lab VM shows both domains running, pt's hostdev (the e1000e 0000:01:00.0) and the PCI
 *      node devices libvirt enumerates (the `guests` line);
 *   2. refusals that change nothing: `rollgate run` with a bare `reboot` task, and a rollout whose policy says
 *      `with_devices: refuse` — the host with a running pt keeps its boot, its cmdline and its guests (cheap, so
 *      before the rollout: every CI run that gets past step 1 proves them);
 *   3. the shipped `kernel-update.yml` as a staged rollout, canary lab1 then canary lab2, with `no-vfio-after-boot`
 *      armed on lab2 (the e1000e stays with its host driver and vfio-pci is withheld on its trial boot, so pt cannot
 *      start): lab1 is updated — movable-lab1 live-migrated to lab2 and back, pt-lab1 shut down and started again
 *      with its device after the verified trial boot; lab2 fails verification on a device the inventory never
 *      declares and rolls back to its kernel with pt-lab2 running with its device and movable-lab2 back (it went to
 *      lab1, already on the new kernel). One rollout, both outcomes: the two rollouts this took before (a canary
 *      rolled back, then both hosts updated) were more VM time than a CI run had left.
 * CI time: its own two VMs, brought up at once (beside the shared lab's image build and cold boots; its image is
 * derived right after the shared one), so that its rollout runs beside the rollback paths: draining guests is among
 * what every CI run must prove, with rollback and resume. The systemd-boot lab takes a turn in the shared lab's queue
 * instead. Each later step starts only if its estimate still fits the budget (ROLLGATE_E2E_END, `.ci/run`).
 * Its lab: ROLLGATE_LAB_STATE (default ~/.local/state/rollgate/lab-e2e) + `-guests`; stopped at the end.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { CONNECT_TIMEOUT_S, elapsed, ownLab } from './own-lab.js';
import { finishedOf, playbookFile, ROOT } from './rollout-support.js';

/**
 * Minutes from its turn to the end of step 1 on a loaded two-core TCG machine: lab up --guests of two VMs (in CI two
 * cold boots and the guests' first starts, the image derived before the shared lab; a restore of their saved states
 * takes seconds), then one check. Alone on 2026-12-07 (image built and derived in it): 343 s.
 */
const ESTIMATE_MIN = 9;
/**
 * Minutes of step 2 (a refused run and a refused rollout) and step 3 (lab1: apt, drain, trial boot, verification,
 * commit, guests back; lab2 the same with a rollback boot). Alone on 2026-12-07: the refusals 42 s, the rollout
 * 624 s, the step with its checks 683 s. In the CI runs of 2026-12-07 the rollout took 1809-2048 s beside the
 * rollback paths (load 7-12); it starts with 25 minutes left, and at the end of a CI run the machine is quieter.
 */
const REFUSALS_MIN = 3;
const UPDATE_MIN = 25;
const LABEL = 'lab guests: check, refusals, a staged kernel update (one host updated, one rolled back)';
const PT_NIC = '0000:01:00.0';

const lab = ownLab(LABEL, 'guests');
const { onVm, rollout, stepFits, inventory: INVENTORY } = lab;
const ownSettings = lab.settings;

const domains = async (host: string) => (await onVm(host, 'virsh list --name')).split('\n').filter(Boolean).sort();
const driverOf = (host: string) => onVm(host, `basename "$(readlink /sys/bus/pci/devices/${PT_NIC}/driver)"`);
/** What each host looks like to a person checking that nothing happened: boot, cmdline, kernel, guests, NIC. */
/** (One SSH login: each costs a TCG VM a second or two of its CPU.) */
const untouched = async (host: string) => {
  const [boot, cmdline, kernel, nic, ...names] = (
    await onVm(
      host,
      `cat /proc/sys/kernel/random/boot_id /proc/cmdline; uname -r; basename "$(readlink /sys/bus/pci/devices/${PT_NIC}/driver)"; virsh list --name`,
    )
  ).split('\n');
  return { boot, cmdline, kernel, domains: names.filter(Boolean).sort(), nic };
};
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
  it('check shows the guests; bare reboots and refuse change nothing; a staged kernel update drains and restores them, updating one host and rolling back the one that lost its binding', async (t) => {
    // At once, beside the shared lab's image build and cold boots rather than after them: in the CI run of 2026-12-07
    // (after the shared lab was up) its lab up took 383 s and its rollout 1809 s, ending with the budget.
    if (lab.overBudget(ESTIMATE_MIN, t.skip)) return;
    await steps();
  });
});

async function steps(): Promise<void> {
  const t0 = Date.now();
  started = true;
  const up = await labUp(ownSettings(), { hosts: 2, profile: 'mixed', guests: true, inventoryFile: INVENTORY });
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

  console.info(`[lab figures] ${LABEL}: step 1 ${elapsed(t0)} from its turn`);

  if (!stepFits('the refusals', REFUSALS_MIN)) return;
  // 2. Refusals that change nothing, on both hosts with their guests running (cheap: no boot, one snapshot), before
  //    the rollout so that every CI run that gets this far proves them.
  const now = { lab1: await untouched('lab1'), lab2: await untouched('lab2') };
  expect(now.lab1.domains).toEqual(['movable-lab1', 'pt-lab1']);
  //    `rollgate run` with a bare reboot: refused before anything runs.
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
  expect(await untouched('lab1')).toEqual(now.lab1);
  //    A rollout whose policy refuses guests holding a device: the canary is refused (failed, nothing changed)
  //    and the rollout stops before lab2.
  const refused = await rollout('with_devices: refuse', playbookFile('guests-refuse.yml', REFUSE_PLAY));
  expect(finishedOf(refused.events), refused.story).toEqual({ lab1: 'failed' });
  expect(refused.story).toMatch(/lab1 has 1 running guest\(s\) a reboot would kill: pt-lab1 \(holds 0000:01:00\.0\)/);
  expect(refused.code).not.toBe(0);
  expect({ lab1: await untouched('lab1'), lab2: await untouched('lab2') }).toEqual(now);
  console.info(`[lab figures] ${LABEL}: steps 1-2 ${elapsed(t0)} from its turn`);

  if (!stepFits('the staged kernel update (lab1 updated, lab2 loses its binding)', UPDATE_MIN)) return;
  // 3. kernel-update.yml, staged: canary lab1 (Intel), then canary lab2 (AMD), which loses its binding on its trial
  //    boot (`no-vfio-after-boot`: the e1000e stays with its host driver and vfio-pci is withheld, so pt cannot start).
  //    lab1 is updated: movable-lab1 to lab2 and back, pt-lab1 shut down and started again with its device after
  //    the verified trial boot. lab2 fails verification and rolls back to its kernel: movable-lab2 to lab1 (already
  //    on the new kernel) and back, twice; pt-lab2 runs again with its device. One rollout proves both outcomes.
  const next = manifest.updateKernel;
  const before = { lab1: await untouched('lab1'), lab2: await untouched('lab2') };
  // pt's serial log is appended to at each start: its lines so far, to read only what the next start prints.
  const consoleLines = Number(await onVm('lab1', 'wc -l < /var/log/libvirt/qemu/pt-lab1-serial.log'));
  lab.fault('lab2', 'no-vfio-after-boot');
  const update = await rollout(
    'kernel update, lab1 updated, lab2 loses its binding',
    'playbooks/kernel-update.yml',
    '-e',
    `target_kernel=${next}`,
  );
  expect(finishedOf(update.events), update.story).toEqual({ lab1: 'changed', lab2: 'rolled_back' });
  expect(update.code, update.story).toBe(3);
  const order = update.events.flatMap((e) => (e.type === 'rollout.host_finished' ? [e.host] : []));
  expect(order).toEqual(['lab1', 'lab2']);
  // Two hardware kinds (lab1 Intel, lab2 AMD): each host is its kind's canary, one after the other.
  const plan = update.events.find((e) => e.type === 'rollout.started');
  expect(plan?.type === 'rollout.started' ? plan.batches.map((b) => [b.phase, b.hosts]) : null).toEqual([
    ['canary', ['lab1']],
    ['canary', ['lab2']],
  ]);

  // lab1: updated with its guests drained and restored.
  expect(guestLines(update.events, 'lab1').filter((m) => m.startsWith('migrating'))).toEqual([
    'migrating guest movable-lab1 to qemu+ssh://lab2/system',
    'migrating guest movable-lab1 to qemu:///system',
  ]);
  const ok = verification(update.events, 'lab1', 'candidate');
  expect(ok?.ok, update.story).toBe(true);
  expect(ok?.checks.find((c) => c.name === 'guest pt-lab1')).toMatchObject({ ok: true });
  expect(ok?.checks.find((c) => c.name === 'guest movable-lab1')).toMatchObject({ ok: true });
  // Committed as kernel-update.test.ts's target update is: the new kernel from its own entry (the saved default),
  // the old one still installed, nothing of the trial boot left.
  expect(await onVm('lab1', 'uname -r')).toBe(next);
  expect(await onVm('lab1', 'grub-editenv list')).toMatch(
    new RegExp(`^saved_entry=gnulinux-advanced-[0-9a-f-]+>gnulinux-${next.replace(/\./g, '\\.')}-advanced-[0-9a-f-]+$`),
  );
  expect(await onVm('lab1', `dpkg-query -W -f='\${Status}' linux-image-${manifest.kernel}`)).toBe(
    'install ok installed',
  );
  expect(
    await onVm('lab1', 'ls /boot/grub/rollgate.cfg /etc/grub.d/06_rollgate /boot/rollgate 2>&1 || true'),
  ).not.toMatch(/^\/boot/m);
  await expectPtWithDevice('lab1');
  // pt's own console, from its start on the new kernel: it lists its device again, then says ready.
  const log = '/var/log/libvirt/qemu/pt-lab1-serial.log';
  const since = await onVm(
    'lab1',
    `for i in $(seq 1 60); do tail -n +${consoleLines + 1} ${log} | grep -q 'rollgate-lab-guest: ready' && break; sleep 1; done; tail -n +${consoleLines + 1} ${log}`,
  );
  expect(since).toMatch(/rollgate-lab-guest: pci \S+ 8086:10d3[\s\S]*rollgate-lab-guest: ready/);

  // lab2: the trial boot lost the binding of a device the inventory never declares (its passthrough_devices are
  // the GPU pair) and pt-lab2 could not start: rolled back, pt-lab2 running with its device again.
  const failed = verification(update.events, 'lab2', 'candidate');
  expect(failed?.ok, update.story).toBe(false);
  expect(failed?.checks.find((c) => c.name === 'guest pt-lab2')).toMatchObject({ ok: false });
  expect(failed?.checks.find((c) => c.name.startsWith(`driver ${PT_NIC}`))).toMatchObject({
    ok: false,
    expected: 'vfio-pci',
  });
  expect(verification(update.events, 'lab2', 'known_good')?.ok, update.story).toBe(true);
  // movable-lab2 goes to lab1 for the trial boot, comes back for the candidate's verification (return: true),
  // goes again for the reboot back to the known-good entry and comes back after it.
  expect(guestLines(update.events, 'lab2').filter((m) => m.startsWith('migrating'))).toEqual([
    'migrating guest movable-lab2 to qemu+ssh://lab1/system',
    'migrating guest movable-lab2 to qemu:///system',
    'migrating guest movable-lab2 to qemu+ssh://lab1/system',
    'migrating guest movable-lab2 to qemu:///system',
  ]);
  expect(await onVm('lab2', 'uname -r')).toBe(manifest.kernel);
  expect(await onVm('lab2', `dpkg-query -W -f='\${Status}' linux-image-${next} 2>/dev/null || echo none`)).not.toMatch(
    /install ok installed/,
  );
  expect((await untouched('lab2')).boot).not.toBe(before.lab2.boot);
  await expectPtWithDevice('lab2');
  lab.fault('lab2', 'clear');
  console.info(`[lab figures] ${LABEL}: ${elapsed(t0)} from its turn`);

  console.info(`[lab figures] ${LABEL}: ${elapsed(t0)} from its turn`);
}
