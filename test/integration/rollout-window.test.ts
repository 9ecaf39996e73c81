/**
 * Maintenance windows in a real rollout over sshd hosts (trial boots through the fake-boot double), with an
 * injected clock: a window that has not opened is waited for (the wait said on the host's lane with the time it
 * opens); a window that closes mid-run lets the started host finish and stops before the next one, which stays
 * untouched; `--on-outside stop` outside the window touches no host. Stopped runs are `interrupted` (resumable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { loadInventory } from '../../src/load/inventory.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import { runRollout } from '../../src/executor/rollout/rollout.js';
import { planRun } from '../../src/plan/plan.js';
import { rolloutSettingsOf } from '../../src/strategy/play-settings.js';
import { parseWindow, type MaintenanceWindow } from '../../src/strategy/window.js';
import { fleetTarget, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { useRealGrubTools } from './support/grub-root.js';
import { buildRoot } from './support/fake-root.js';
import { main } from '../../src/cli/main.js';

const FIXTURES = new URL('../fixtures/trial-boot/', import.meta.url).pathname;
let fleet: SshdFleet;
let dir: string;
let n = 0;

beforeAll(async () => {
  fleet = await startFleet(2);
  dir = tempRoot('window');
});
afterAll(async () => {
  await fleet?.stop();
  if (dir) removeRoot(dir);
});

const monday = (w: Partial<Parameters<typeof parseWindow>[0]>) =>
  (
    parseWindow({ days: 'mon', start: '22:00', end: '23:00', timeZone: 'Europe/Berlin', maxWaitSec: 3600, ...w }) as {
      window: MaintenanceWindow;
    }
  ).window;

/** The CLI in this process, with what it writes to stderr. */
async function cliStderr(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => (err.push(String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), err: err.join('') };
  } finally {
    process.stderr.write = write;
  }
}

async function rollout(
  window: MaintenanceWindow | undefined,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> },
  onEvent: (e: RollgateEvent) => void = () => {},
  playKeys = '',
) {
  const hosts: Record<string, Record<string, unknown>> = {};
  fleet.hosts.forEach((h, i) => {
    const r = join(dir, `r${n++}-${i}`);
    mkdirSync(r);
    buildRoot(r, 'debian');
    useRealGrubTools(r, { grubenv: 'created' });
    hosts[h.name] = { rollgate_root: r, rollgate_reboot_command: `${FIXTURES}fake-boot ${r}` };
  });
  const file = join(dir, `inv${n}.json`);
  writeFileSync(file, JSON.stringify({ all: { hosts } }));
  const inventory = loadInventory(file);
  const journal = Journal.open(':memory:');
  const runId = journal.createRun({ kind: 'rollout' }).id;
  const events: RollgateEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => (events.push(e), onEvent(e)));
  const play = `- hosts: all\n  become: true\n${playKeys}  tasks:\n    - driver_blacklist: { drivers: [nouveau] }\n    - reboot: {}\n`;
  const planned = planRun(inventory, parsePlaybook(play, 'window.yml')).plays[0]!;
  const out = await runRollout({
    journal,
    lock: journal.fleetLock(),
    runId,
    inventory,
    bus,
    pollMs: 300,
    planned,
    targets: new Map(fleet.hosts.map((h, i) => [h.name, fleetTarget(fleet, i)])),
    power: new Map(),
    settings: { ...rolloutSettingsOf(planned.play), bootTimeoutSec: 30, verifyServices: [] },
    approve: async () => true,
    window: { window, now: clock.now, sleep: clock.sleep },
  });
  const status = journal.getRun(runId)!.status;
  const steps = fleet.hosts.map((h) => journal.listSteps(runId, h.name).length);
  journal.close();
  return { out, events, status, steps };
}

const waits = (events: RollgateEvent[]) =>
  events.flatMap((e) =>
    e.type === 'rollout.host_step' && e.step === 'wait for the maintenance window'
      ? [[e.host, e.status, e.message]]
      : [],
  );

describe('a rollout inside a maintenance window', () => {
  it('waits for a window not yet open, then stops before the next host once it has closed; the started host finishes', async () => {
    const [h0, h1] = fleet.hosts.map((h) => h.name);
    // Monday 2026-12-07 21:30 in Berlin (20:30 UTC): half an hour before the window opens.
    let t = Date.parse('2026-12-07T20:30:00Z');
    const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
    const { out, events, status, steps } = await rollout(monday({}), clock, (e) => {
      // The canary's change takes two hours of this clock: the window (one hour) closes meanwhile.
      if (e.type === 'rollout.host_finished') t += 2 * 3_600_000;
    });
    // The plan says so before any change, for every host: each waits for the window at its turn.
    const notices = events.filter((e) => e.type === 'rollout.warning' && e.code === 'outside_window');
    expect(notices.map((e) => (e as { message: string }).message)).toEqual(
      [h0, h1].map(
        (h) =>
          `${h} is outside its maintenance window (mon 22:00-23:00 Europe/Berlin) now: its change will wait until the window opens at 2026-12-07 22:00 Europe/Berlin`,
      ),
    );
    expect(events.indexOf(notices[1]!)).toBeLessThan(events.findIndex((e) => e.type === 'rollout.host_step'));
    expect(waits(events)).toEqual([
      [
        h0,
        'started',
        'outside the maintenance window (mon 22:00-23:00 Europe/Berlin); waiting until it opens at 2026-12-07 22:00 Europe/Berlin',
      ],
      [h0, 'ok', 'the window is open'],
    ]);
    expect([...out.hosts]).toEqual([[h0, 'changed']]);
    expect(out.windowStop).toMatch(/^outside the maintenance window/);
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      reason: 'window',
      message: expect.stringContaining(
        'outside the maintenance window (mon 22:00-23:00 Europe/Berlin); it opens at 2026-12-14 22:00 Europe/Berlin',
      ),
      untouched: [h1],
    });
    expect(out.interrupted).toEqual({
      reason: expect.stringContaining('outside the maintenance window'),
      midChange: [],
    });
    expect(status).toBe('interrupted');
    expect(steps).toEqual([expect.any(Number), 0]);
    expect(steps[0]).toBeGreaterThan(0);
  });

  it('with on-outside stop, touches no host outside the window', async () => {
    const t = Date.parse('2026-12-07T12:00:00Z');
    const { out, events, steps } = await rollout(monday({ onOutside: 'stop' }), {
      now: () => t,
      sleep: async () => {},
    });
    expect(out.hosts.size).toBe(0);
    expect(steps).toEqual([0, 0]);
    expect(
      events.flatMap((e) => (e.type === 'rollout.warning' && e.code === 'outside_window' ? [e.message] : [])),
    ).toEqual(
      fleet.hosts.map(
        (h) =>
          `${h.name} is outside its maintenance window (mon 22:00-23:00 Europe/Berlin) now: it opens at 2026-12-07 22:00 Europe/Berlin; the rollout stops before its change unless the window is open by its turn`,
      ),
    );
    expect(events.some((e) => e.type === 'rollout.host_step' && e.step === 'pre-change snapshot')).toBe(false);
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      message:
        'stopped by the maintenance window: outside the maintenance window (mon 22:00-23:00 Europe/Berlin); it opens at 2026-12-07 22:00 Europe/Berlin',
    });
  });

  it("takes the play's `rollout: window:` when the run gives none; the run's window replaces it", async () => {
    const t = Date.parse('2026-12-07T12:00:00Z'); // Monday 13:00 in Berlin
    const keys =
      '  rollout:\n    window: {days: [mon], start: "22:00", end: "23:00", timezone: Europe/Berlin, on_outside: stop}\n';
    const { out, events, steps } = await rollout(undefined, { now: () => t, sleep: async () => {} }, () => {}, keys);
    expect(out.hosts.size).toBe(0);
    expect(steps).toEqual([0, 0]);
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      message:
        'stopped by the maintenance window: outside the maintenance window (mon 22:00-23:00 Europe/Berlin); it opens at 2026-12-07 22:00 Europe/Berlin',
    });
    // The command line's window (here one open now) replaces the play's: the same play then runs.
    const open = (parseWindow({ days: 'mon', start: '12:00', end: '14:00' }) as { window: MaintenanceWindow }).window;
    const ran = await rollout(open, { now: () => t, sleep: async () => {} }, () => {}, keys);
    expect([...ran.out.hosts.values()]).toEqual(['changed', 'changed']);
    expect(ran.events.some((e) => e.type === 'rollout.warning' && e.code === 'outside_window')).toBe(false);
  });

  it('the CLI ends a window stop with its own message and exit 7; the hosts stay untouched', async () => {
    const tomorrow = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 1) % 7];
    const hosts = fleet.hosts.map((h, i) => {
      const r = join(dir, `cli${i}`);
      mkdirSync(r);
      buildRoot(r, 'debian');
      useRealGrubTools(r, { grubenv: 'created' });
      return `    ${h.name}: {ansible_host: 127.0.0.1, ansible_port: ${h.port}, ansible_user: rgops, ansible_ssh_private_key_file: ${fleet.clientKey}, rollgate_known_hosts_file: ${fleet.knownHosts}, rollgate_root: ${r}, rollgate_reboot_command: "${FIXTURES}fake-boot ${r}"}\n`;
    });
    const inv = join(dir, 'cli-window.yml');
    writeFileSync(inv, `all:\n  hosts:\n${hosts.join('')}`);
    const play = join(dir, 'cli-play.yml');
    writeFileSync(play, '- hosts: all\n  tasks:\n    - kernel_args: { present: [iommu=pt] }\n');
    const { code, err } = await cliStderr([
      'node',
      'rollgate',
      'rollout',
      play,
      '-i',
      inv,
      '--journal',
      join(dir, 'cli.db'),
      '--reboot-days',
      tomorrow!,
      '--time-zone',
      'UTC',
      '--on-outside',
      'stop',
      '--json',
    ]);
    expect(code, err).toBe(7);
    expect(err).toMatch(
      /rollgate rollout: stopped by the maintenance window: outside the maintenance window \(\w+ 00:00-00:00 UTC\); .*the hosts not started are untouched; run \S+ is marked interrupted: `rollgate resume \S+` inside the window goes on with them/,
    );
    for (const i of [0, 1])
      expect(readFileSync(join(dir, `cli${i}`, 'etc/default/grub'), 'utf8')).not.toContain('iommu=pt');
  });

  it('refuses bad window options before any host, naming each option', async () => {
    const inv = join(dir, 'none.yml');
    writeFileSync(inv, 'all:\n  hosts:\n    hv1: {ansible_host: 127.0.0.1, ansible_port: 1}\n');
    const play = join(dir, 'play.yml');
    writeFileSync(play, '- hosts: all\n  tasks:\n    - kernel_args: { present: [iommu=pt] }\n');
    const { code, err } = await cliStderr([
      'node',
      'rollgate',
      'rollout',
      play,
      '-i',
      inv,
      '--journal',
      join(dir, 'j.db'),
      '--start-time',
      '7pm',
      '--time-zone',
      'Berlin',
    ]);
    expect(code).toBe(2);
    expect(err).toBe(
      '--time-zone: "Berlin" is not a time zone. write an IANA zone name, e.g. Europe/Berlin or UTC\n' +
        '--start-time: "7pm" is not a time of day. write HH:MM, e.g. 22:00\n',
    );
  });

  it("names a host's bad rollgate_window at its inventory position", async () => {
    const inv = join(dir, 'bad-window.yml');
    writeFileSync(
      inv,
      'all:\n  hosts:\n    hv1: {ansible_host: 127.0.0.1, ansible_port: 1, rollgate_window: {days: [mon], timezone: Mars}}\n',
    );
    const play = join(dir, 'play.yml');
    writeFileSync(play, '- hosts: all\n  tasks:\n    - kernel_args: { present: [iommu=pt] }\n');
    const { code, err } = await cliStderr([
      'node',
      'rollgate',
      'rollout',
      play,
      '-i',
      inv,
      '--journal',
      join(dir, 'j.db'),
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(
      /bad-window\.yml:3:\d+: host hv1: rollgate_window: "Mars" is not a time zone\. write an IANA zone name/,
    );
  });
});
