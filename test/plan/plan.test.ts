import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/load/inventory.js';
import { loadPlaybook } from '../../src/load/playbook.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import type { TaskNode } from '../../src/load/playbook-types.js';
import { planRun, type PlanOptions } from '../../src/plan/plan.js';
import { selectedByTags } from '../../src/plan/tags.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/plan/${name}`, import.meta.url));
const inv = loadInventory(fixture('inventory.yml'));
const book = loadPlaybook(fixture('playbook.yml'));

function names(nodes: TaskNode[]): string[] {
  return nodes.flatMap((n) =>
    n.kind === 'block'
      ? [...names(n.block), ...names(n.rescue).map((x) => `rescue:${x}`), ...names(n.always)]
      : n.kind === 'meta'
        ? [`meta:${n.action}`]
        : [n.name ?? '?'],
  );
}

function summary(options: PlanOptions) {
  const plan = planRun(inv, book, options);
  return plan.plays.map((p) => ({ hosts: p.hosts, tasks: names(p.tasks) }));
}

describe('planRun', () => {
  it.each<[string, PlanOptions, Array<{ hosts: string[]; tasks: string[] }>]>([
    [
      'everything, no limit',
      {},
      [
        {
          hosts: ['hv01', 'hv02', 'hv03'],
          tasks: [
            't-untagged-in-tagged-play',
            't-always',
            't-block-args',
            't-block-reboot',
            'rescue:t-rescue',
            'meta:flush_handlers',
          ],
        },
        { hosts: ['hv01'], tasks: ['u-untagged', 'u-tagged'] },
      ],
    ],
    [
      'a limit narrows every play; a play left without hosts is kept empty',
      { limit: 'amd' },
      [
        {
          hosts: ['hv03'],
          tasks: [
            't-untagged-in-tagged-play',
            't-always',
            't-block-args',
            't-block-reboot',
            'rescue:t-rescue',
            'meta:flush_handlers',
          ],
        },
        { hosts: [], tasks: ['u-untagged', 'u-tagged'] },
      ],
    ],
    [
      '--tags args keeps always-tasks and meta',
      { tags: ['args'] },
      [
        { hosts: ['hv01', 'hv02', 'hv03'], tasks: ['t-always', 't-block-args', 'meta:flush_handlers'] },
        { hosts: ['hv01'], tasks: [] },
      ],
    ],
    [
      '--tags debug runs a never-task named by its other tag',
      { tags: ['debug'] },
      [
        { hosts: ['hv01', 'hv02', 'hv03'], tasks: ['t-always', 't-never-debug', 'meta:flush_handlers'] },
        { hosts: ['hv01'], tasks: [] },
      ],
    ],
    [
      'inherited play tag selects the whole play, never-tasks too (as Ansible)',
      { tags: ['kernel'], limit: 'hv02' },
      [
        {
          hosts: ['hv02'],
          tasks: [
            't-untagged-in-tagged-play',
            't-always',
            't-never-debug',
            't-block-args',
            't-block-reboot',
            'rescue:t-rescue',
            'meta:flush_handlers',
          ],
        },
        { hosts: [], tasks: [] },
      ],
    ],
    [
      '--skip-tags reboot drops one task of a block',
      { skipTags: ['reboot'], limit: 'canary' },
      [
        {
          hosts: ['hv01'],
          tasks: ['t-untagged-in-tagged-play', 't-always', 't-block-args', 'rescue:t-rescue', 'meta:flush_handlers'],
        },
        { hosts: ['hv01'], tasks: ['u-untagged', 'u-tagged'] },
      ],
    ],
    [
      '--tags untagged',
      { tags: ['untagged'], limit: 'canary' },
      [
        { hosts: ['hv01'], tasks: ['t-always', 'meta:flush_handlers'] },
        { hosts: ['hv01'], tasks: ['u-untagged'] },
      ],
    ],
    [
      '--skip-tags change drops the whole block',
      { skipTags: ['change'], limit: 'hv01' },
      [
        { hosts: ['hv01'], tasks: ['t-untagged-in-tagged-play', 't-always', 'meta:flush_handlers'] },
        { hosts: ['hv01'], tasks: ['u-untagged', 'u-tagged'] },
      ],
    ],
  ])('%s', (_title, options, expected) => {
    expect(summary(options)).toEqual(expected);
  });

  it('refuses a hosts pattern naming nothing, at its file:line:col', () => {
    const bad = parsePlaybook('- hosts: intell\n  tasks:\n    - debug: {}\n', 'p.yml');
    expect(() => planRun(inv, bad)).toThrow('p.yml:1:10: no host or group matches `intell`. did you mean `intel`?');
  });

  it('refuses a hosts pattern that matches no host', () => {
    const bad = parsePlaybook('- hosts: empty_group\n  tasks:\n    - debug: {}\n', 'p.yml');
    expect(() => planRun(inv, bad)).toThrow('p.yml:1:10: `hosts: empty_group` matches no host in the inventory');
  });

  it('refuses a limit that leaves no host at all, and a limit naming nothing', () => {
    expect(() => planRun(inv, book, { limit: 'amd:&canary' })).toThrow(
      '--limit:1:1: --limit `amd:&canary` leaves no host in any play',
    );
    expect(() => planRun(inv, book, { limit: 'hv9' })).toThrow(/^--limit:1:1: no host or group matches `hv9`/);
  });
});

describe('selectedByTags', () => {
  it.each<[string[], string[], string[], boolean]>([
    [[], [], [], true],
    [['x'], [], [], true],
    [['never'], [], [], false],
    [['never', 'x'], ['x'], [], true],
    [['never'], ['never'], [], true],
    [['always'], ['x'], [], true],
    [['always'], [], ['always'], false],
    [['always'], [], ['all'], true],
    [['always'], [], ['all', 'always'], false],
    [['x'], ['tagged'], [], true],
    [[], ['tagged'], [], false],
    [[], ['untagged'], [], true],
    [['x'], [], ['tagged'], false],
    [['x', 'y'], ['x'], ['y'], false],
  ])('tags %j with --tags %j --skip-tags %j -> %s', (tags, only, skip, expected) => {
    expect(selectedByTags(tags, { tags: only, skipTags: skip })).toBe(expected);
  });
});
