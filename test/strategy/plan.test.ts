import { describe, expect, it } from 'vitest';
import { groupByKind, hardwareKind, type KindedHost } from '../../src/strategy/hardware-kind.js';
import { planRollout } from '../../src/strategy/plan.js';
import { defaultRolloutSettings, parseRolloutSettings, type RolloutSettings } from '../../src/strategy/settings.js';

const q35 = 'Standard PC (Q35 + ICH9, 2009)';
const settings = (over: Partial<RolloutSettings> = {}): RolloutSettings => ({ ...defaultRolloutSettings, ...over });

describe('hardwareKind', () => {
  it('is the same for the same product, vendor and id set, whatever the order and case', () => {
    const a = hardwareKind({ productName: q35, cpuVendor: 'GenuineIntel', passthroughIds: ['8086:293E', '8086:10d3'] });
    const b = hardwareKind({
      productName: ` ${q35}  `,
      cpuVendor: 'GenuineIntel',
      passthroughIds: ['8086:10d3', '8086:293e', '8086:10d3'],
    });
    expect(a).toBe(b);
    expect(a).toBe(`${q35} / GenuineIntel / 8086:10d3,8086:293e`);
  });
  it.each([
    [
      { productName: 'R750', cpuVendor: 'GenuineIntel', passthroughIds: ['10de:1e87'] },
      { productName: 'R750', cpuVendor: 'AuthenticAMD', passthroughIds: ['10de:1e87'] },
    ],
    [
      { productName: 'R750', cpuVendor: 'GenuineIntel', passthroughIds: ['10de:1e87'] },
      { productName: 'R760', cpuVendor: 'GenuineIntel', passthroughIds: ['10de:1e87'] },
    ],
    [
      { productName: 'R750', cpuVendor: 'GenuineIntel', passthroughIds: ['10de:1e87'] },
      { productName: 'R750', cpuVendor: 'GenuineIntel', passthroughIds: ['10de:1e87', '10de:10f8'] },
    ],
  ])('tells apart hosts that differ in one part', (a, b) => {
    expect(hardwareKind(a)).not.toBe(hardwareKind(b));
  });
  it('groups hosts with unknown parts under one kind', () => {
    expect(hardwareKind({})).toBe('? / ? / no passthrough');
    expect(hardwareKind({ productName: null, cpuVendor: '' })).toBe('? / ? / no passthrough');
  });
  it('keeps kinds and hosts in inventory order', () => {
    const hosts: KindedHost[] = [
      { name: 'b1', kind: 'B' },
      { name: 'a1', kind: 'A' },
      { name: 'b2', kind: 'B' },
    ];
    expect([...groupByKind(hosts)]).toEqual([
      ['B', ['b1', 'b2']],
      ['A', ['a1']],
    ]);
  });
});

const fleet = (spec: string): KindedHost[] => spec.split(' ').map((s) => ({ name: s, kind: s[0] as string }));
const shape = (plan: ReturnType<typeof planRollout>) =>
  plan.batches.map((b) => `${b.phase}${b.index}:${b.hosts.join(',')}${b.pauseBefore ? `(${b.pauseBefore.kind})` : ''}`);

describe('planRollout', () => {
  it.each<[string, string, Partial<RolloutSettings>, string[]]>([
    ['three lab hosts of one kind: one canary, then a batch', 'a1 a2 a3', {}, ['canary1:a1', 'batch1:a2,a3']],
    [
      'one canary per kind, one at a time',
      'a1 b1 a2 b2 a3',
      { serial: [{ kind: 'count', value: 2 }] },
      ['canary1:a1', 'canary2:b1', 'batch1:a2,b2', 'batch2:a3'],
    ],
    ['canaries two at a time', 'a1 b1 c1 a2', { canarySerial: 2 }, ['canary1:a1,b1', 'canary2:c1', 'batch1:a2']],
    [
      'no canaries',
      'a1 a2 a3',
      { canary: 'none', serial: [{ kind: 'count', value: 1 }] },
      ['batch1:a1', 'batch2:a2', 'batch3:a3'],
    ],
    ['a single host is its own batch, not a canary', 'a1', {}, ['batch1:a1']],
    ['every host a canary of its own kind leaves no batch', 'a1 b1', {}, ['canary1:a1', 'canary2:b1']],
    [
      'percentages of the whole play',
      'a1 a2 a3 a4 a5 a6 a7 a8 a9 a10',
      { serial: [{ kind: 'percent', value: 50 }] },
      ['canary1:a1', 'batch1:a2,a3,a4,a5,a6', 'batch2:a7,a8,a9,a10'],
    ],
    [
      'pauses after the canaries and between batches',
      'a1 a2 a3 a4',
      {
        serial: [{ kind: 'count', value: 1 }],
        pauseAfterCanaries: { kind: 'approval' },
        pauseBetweenBatches: { kind: 'seconds', seconds: 5 },
      },
      ['canary1:a1', 'batch1:a2(approval)', 'batch2:a3(seconds)', 'batch3:a4(seconds)'],
    ],
    [
      'no pause after canaries when there were none',
      'a1 a2',
      { canary: 'none', serial: [{ kind: 'count', value: 1 }], pauseAfterCanaries: { kind: 'approval' } },
      ['batch1:a1', 'batch2:a2'],
    ],
  ])('%s', (_title, spec, over, expected) => {
    expect(shape(planRollout(fleet(spec), settings(over)))).toEqual(expected);
  });
});

describe('parseRolloutSettings', () => {
  it('reads Ansible keywords and the rollout mapping', () => {
    const { settings: s, problems } = parseRolloutSettings({
      serial: [1, '25%'],
      max_fail_percentage: 20,
      rollout: {
        canary: 'per_kind',
        canary_serial: 2,
        pause_after_canaries: 'approve',
        pause_between_batches: 30,
        boot_timeout: 900,
        panic_timeout: 5,
        prepare_boot: true,
        verify: { services: ['ssh'], wanted: ['dma_faults'] },
        window: { days: ['sat', 'sun'], start: '22:00', end: '04:00', timezone: 'Europe/Berlin', on_outside: 'stop' },
        guests: { movable: 'shutdown', shutdown_timeout: 60 },
      },
    });
    expect(problems).toEqual([]);
    expect(s).toEqual({
      serial: [
        { kind: 'count', value: 1 },
        { kind: 'percent', value: 25 },
      ],
      maxFailPercentage: 20,
      canary: 'per_kind',
      canarySerial: 2,
      pauseAfterCanaries: { kind: 'approval' },
      pauseBetweenBatches: { kind: 'seconds', seconds: 30 },
      bootTimeoutSec: 900,
      panicTimeoutSec: 5,
      prepareBoot: true,
      verifyServices: ['ssh'],
      verifyWanted: ['dma_faults'],
      window: {
        days: ['sat', 'sun'],
        startMin: 22 * 60,
        endMin: 4 * 60,
        timeZone: 'Europe/Berlin',
        onOutside: 'stop',
        maxWaitSec: 86400,
      },
      guests: {
        movable: 'shutdown',
        withDevices: 'refuse',
        shutdownTimeoutSec: 60,
        onTimeout: 'fail',
        returnMigrated: false,
        noPeer: 'refuse',
      },
    });
  });
  it('defaults to one canary per kind, one at a time', () => {
    expect(parseRolloutSettings({}).settings).toEqual(defaultRolloutSettings);
  });
  it('lists every problem with its path and a fix', () => {
    const { problems } = parseRolloutSettings({
      serial: [1, 'half'],
      max_fail_percentage: 120,
      rollout: {
        canaries: 1,
        canary: 'first',
        boot_timeout: 0,
        prepare_boot: 'yes please',
        pause_after_canaries: 'later',
        verify: { wanted: 'dma_faults' },
        window: { days: ['mon'], timezone: 'Mars', from: '22:00' },
      },
    });
    expect(problems).toEqual([
      {
        path: ['serial', 1],
        message: '`serial` "half" is neither a host count nor a percentage',
        hint: 'write a host count such as 2, a percentage such as "25%" or a list such as [1, "25%"]',
      },
      {
        path: ['max_fail_percentage'],
        message: '`max_fail_percentage` 120 is not a percentage from 0 to 100',
        hint: 'write e.g. `max_fail_percentage: 20` (stop when more than 20% of a batch failed)',
      },
      {
        path: ['rollout', 'canaries'],
        message: 'unknown rollout setting `canaries`',
        hint: 'known settings: canary, canary_serial, pause_after_canaries, pause_between_batches, boot_timeout, panic_timeout, prepare_boot, verify, window, guests',
      },
      {
        path: ['rollout', 'canary'],
        message: 'canary "first" is not a canary policy',
        hint: 'write `per_kind` or `none`',
      },
      {
        path: ['rollout', 'boot_timeout'],
        message: 'boot_timeout 0 is not a positive whole number',
        hint: 'e.g. `boot_timeout: 600`',
      },
      {
        path: ['rollout', 'prepare_boot'],
        message: 'prepare_boot "yes please" is not true or false',
        hint: 'write `prepare_boot: true` to let the rollout make GRUB trial-boot ready (boot_default), or leave it out',
      },
      {
        path: ['rollout', 'pause_after_canaries'],
        message: '"later" is not a pause',
        hint: 'write `approve`, a number of seconds, or false',
      },
      {
        path: ['rollout', 'verify', 'wanted'],
        message: 'wanted must be a list of names',
        hint: 'e.g. `wanted: [dma_faults]`',
      },
      {
        path: ['rollout', 'window', 'from'],
        message: 'window has no key from',
        hint: 'its keys: days, start, end, timezone, on_outside, max_wait; e.g. window: {days: [mon, tue], start: "22:00", end: "04:00", timezone: Europe/Berlin}',
      },
    ]);
    expect(
      parseRolloutSettings({ rollout: { window: { days: ['mon'], timezone: 'Mars' } } }).problems.map((p) => [
        p.path.join('.'),
        p.message,
      ]),
    ).toEqual([['rollout.window.timezone', expect.stringContaining('"Mars" is not a time zone')]]);
  });
});
