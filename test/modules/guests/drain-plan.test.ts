import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { drainPolicyFrom } from '../../../src/core/guest-policy.js';
import { planDrain, refusalMessage } from '../../../src/modules/guests/drain.js';
import { parseGuestsSection } from '../../../src/modules/facts/parsers/libvirt.js';
import { migrateUriOf, migrationPeersOf } from '../../../src/executor/rollout/migration-peers.js';

// Real virsh output (libvirt's test driver): movable and pt (0000:01:00.0) run, 'stopped pt' is shut off.
const view = parseGuestsSection(readFileSync('test/fixtures/formats/libvirt/guests-section.txt', 'utf8'))!;

describe('the guests policy', () => {
  it('refuses every running guest when nothing is said, and reads the words and the mapping', () => {
    expect(drainPolicyFrom(undefined)).toEqual({
      movable: 'refuse',
      withDevices: 'refuse',
      shutdownTimeoutSec: 120,
      onTimeout: 'fail',
      returnMigrated: false,
      noPeer: 'refuse',
    });
    expect(drainPolicyFrom('shutdown')).toMatchObject({ movable: 'shutdown', withDevices: 'shutdown' });
    expect(
      drainPolicyFrom({
        movable: 'migrate',
        return: true,
        with_devices: 'shutdown',
        on_timeout: 'destroy',
        shutdown_timeout: 30,
      }),
    ).toEqual({
      movable: 'migrate',
      withDevices: 'shutdown',
      shutdownTimeoutSec: 30,
      onTimeout: 'destroy',
      returnMigrated: true,
      noPeer: 'refuse',
    });
  });
  it.each([
    ['migrate', /is not refuse, shutdown or a mapping/],
    [{ with_devices: 'migrate' }, /a guest holding a host device cannot be live-migrated/],
    [{ movable: 'kill' }, /guests\.movable: write refuse or shutdown or migrate, not "kill"/],
    [{ shutdown_timeout: 0 }, /shutdown_timeout: write a whole number of seconds/],
    [{ on_timeout: 'wait' }, /on_timeout: write destroy or fail/],
    [{ return: 'yes' }, /return: write true or false/],
    [{ movable: 'migrate', no_peer: 'migrate' }, /guests\.no_peer: write refuse or shutdown, not "migrate"/],
    [{ movable: 'shutdown', no_peer: 'shutdown' }, /guests\.no_peer: .*write it with movable: migrate/],
  ])('refuses %j', (value, message) => {
    expect(() => drainPolicyFrom(value)).toThrow(message);
  });
});

describe('planDrain', () => {
  it('without a policy refuses the running guests, naming the devices they hold; a shut-off guest is no matter', () => {
    const plan = planDrain(view, drainPolicyFrom(undefined));
    expect(plan).toEqual({
      stop: [],
      migrate: [],
      refused: [
        { name: 'movable', why: 'movable' },
        { name: 'pt (holds 0000:01:00.0)', why: 'holds a host device' },
      ],
    });
    expect(refusalMessage('hv1', plan, 'X')).toBe(
      'hv1 has 2 running guest(s) a reboot would kill: movable, pt (holds 0000:01:00.0); nothing was changed. Say how to drain them: X (shut down, then started again after the boot), or stop them yourself first',
    );
  });
  it('shuts down movable guests first, then those with devices', () => {
    expect(planDrain(view, drainPolicyFrom('shutdown')).stop).toEqual([
      { name: 'movable', hostdevs: [] },
      { name: 'pt', hostdevs: ['0000:01:00.0'] },
    ]);
  });
  it('migrates movable guests only where migration is possible, and says why not elsewhere', () => {
    const policy = drainPolicyFrom({ movable: 'migrate', with_devices: 'shutdown' });
    expect(planDrain(view, policy, true)).toMatchObject({ migrate: ['movable'], stop: [{ name: 'pt' }], refused: [] });
    expect(planDrain(view, policy, 'no peer').refused).toEqual([
      { name: 'movable (cannot migrate: no peer)', why: 'movable' },
    ]);
    expect(planDrain(view, policy).refused[0]!.name).toMatch(
      /cannot migrate: live migration is for `rollgate rollout`/,
    );
  });
  it('with no_peer: shutdown, shuts down a movable guest no peer can take, and still migrates where one can', () => {
    const policy = drainPolicyFrom({ movable: 'migrate', no_peer: 'shutdown', with_devices: 'shutdown' });
    expect(policy.noPeer).toBe('shutdown');
    expect(planDrain(view, policy, true)).toMatchObject({ migrate: ['movable'], stop: [{ name: 'pt' }], refused: [] });
    expect(planDrain(view, policy, 'no peer')).toEqual({
      stop: [
        { name: 'movable', hostdevs: [] },
        { name: 'pt', hostdevs: ['0000:01:00.0'] },
      ],
      migrate: [],
      refused: [],
    });
    // rollgate run (no cluster view) shuts it down too; pt is still refused when with_devices says so.
    expect(
      planDrain(view, drainPolicyFrom({ movable: 'migrate', no_peer: 'shutdown', with_devices: 'refuse' })),
    ).toEqual({
      stop: [{ name: 'movable', hostdevs: [] }],
      migrate: [],
      refused: [{ name: 'pt (holds 0000:01:00.0)', why: 'holds a host device' }],
    });
  });
});

describe('migration peers', () => {
  const hosts = new Map<string, { vars: Record<string, unknown> }>([
    ['hv1', { vars: { rollgate_cluster: 'r1', ansible_host: '192.0.2.1' } }],
    ['hv2', { vars: { rollgate_cluster: 'r1', ansible_host: '192.0.2.2' } }],
    ['hv3', { vars: { rollgate_cluster: 'r1', rollgate_migrate_uri: 'qemu+tls://hv3.example/system' } }],
    ['hv4', { vars: { rollgate_cluster: 'r2' } }],
    ['hv5', { vars: {} }],
  ]);
  const play = ['hv1', 'hv2', 'hv3', 'hv4', 'hv5'];
  it('are the other hosts of the cluster in the play, outside the batch', () => {
    expect(migrationPeersOf({ hosts }, play, 'hv1', ['hv1', 'hv2'])).toEqual([
      { name: 'hv3', uri: 'qemu+tls://hv3.example/system' },
    ]);
    expect(migrationPeersOf({ hosts }, play, 'hv3', ['hv3'])).toEqual([
      { name: 'hv1', uri: 'qemu+ssh://192.0.2.1/system' },
      { name: 'hv2', uri: 'qemu+ssh://192.0.2.2/system' },
    ]);
    expect(migrationPeersOf({ hosts }, ['hv1', 'hv3'], 'hv1', ['hv1'])).toEqual([
      { name: 'hv3', uri: 'qemu+tls://hv3.example/system' },
    ]);
    expect(migrationPeersOf({ hosts }, play, 'hv4', ['hv4'])).toEqual([]);
    expect(migrationPeersOf({ hosts }, play, 'hv5', ['hv5'])).toEqual([]);
    expect(migrateUriOf('hv9', {})).toBe('qemu+ssh://hv9/system');
  });
});
