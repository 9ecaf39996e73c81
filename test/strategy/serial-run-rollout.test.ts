import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config-error.js';
import { loadInventory } from '../../src/load/inventory.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { planRun } from '../../src/plan/plan.js';
import { rolloutSettingsOf } from '../../src/strategy/play-settings.js';
import { planRollout } from '../../src/strategy/plan.js';
import { parseRolloutSettings } from '../../src/strategy/settings.js';

// `run` and `rollout` read a playbook's serial and max_fail_percentage the same way: what one accepts the other
// accepts with the same batches, what one refuses the other refuses with the same message (issue 17: "12.5%"
// passed `run` and was refused by `rollout`).
const dir = mkdtempSync(join(tmpdir(), 'rollgate-serial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'hosts.ini'), Array.from({ length: 10 }, (_, i) => `h${i + 1}`).join('\n') + '\n');
const inventory = loadInventory(join(dir, 'hosts.ini'));

const playbook = (keys: string) => `- hosts: all\n${keys}  tasks:\n    - debug: { msg: hi }\n`;

/** What `rollgate run` does with the play: its batches, or the ConfigError's text. */
function asRun(text: string): number[] | string {
  try {
    return planRun(inventory, parsePlaybook(text, 'play.yml')).plays[0]!.batches.map((b) => b.length);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

/** What `rollgate rollout` does with it (no canaries, so the batches are serial's alone). */
function asRollout(text: string): number[] | string {
  try {
    const planned = planRun(inventory, parsePlaybook(text, 'play.yml')).plays[0]!;
    const settings = { ...rolloutSettingsOf(planned.play), canary: 'none' as const };
    return planRollout(
      planned.hosts.map((name) => ({ name, kind: 'k' })),
      settings,
    ).batches.map((b) => b.hosts.length);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

describe('run and rollout read serial and max_fail_percentage alike', () => {
  it.each<[string, string, number[] | RegExp]>([
    ['a count', '  serial: 3\n', [3, 3, 3, 1]],
    ['a percentage', '  serial: "25%"\n', [2, 2, 2, 2, 2]],
    ['a list', '  serial: [1, "50%", 2]\n', [1, 5, 2, 2]],
    ['zero: every host', '  serial: 0\n', [10]],
    ['a count as a string', '  serial: "4"\n', [4, 4, 2]],
    [
      'a percentage with a decimal',
      '  serial: "12.5%"\n',
      /play\.yml:2:12: `serial` "12\.5%" is not a whole percentage/,
    ],
    ['0%', '  serial: [1, "0%"]\n', /play\.yml:2:16: `serial` "0%" must be from 1% to 100%/],
    [
      'a word',
      '  serial: fast\n',
      /play\.yml:2:11: `serial` must be a host count such as 2 or a whole percentage such as "25%", not the string `fast`/,
    ],
    ['a max_fail_percentage as a string', '  serial: 5\n  max_fail_percentage: "20%"\n', [5, 5]],
    ['a max_fail_percentage above 100', '  max_fail_percentage: 150\n', /play\.yml:2:24: `max_fail_percentage` 150/],
  ])('%s', (_title, keys, expected) => {
    const run = asRun(playbook(keys));
    const rollout = asRollout(playbook(keys));
    if (expected instanceof RegExp) expect(run).toMatch(expected);
    else expect(run).toEqual(expected);
    expect(rollout).toEqual(run);
  });

  it('reads max_fail_percentage to the same number in both', () => {
    const text = playbook('  max_fail_percentage: "12.5%"\n');
    const play = planRun(inventory, parsePlaybook(text, 'play.yml')).plays[0]!.play;
    expect(play.maxFailPercentage).toBe(12.5);
    expect(rolloutSettingsOf(play).maxFailPercentage).toBe(12.5);
  });

  it('refuses in a raw rollout mapping what the loader refuses, with the same message', () => {
    const raw = parseRolloutSettings({ serial: '12.5%' }).problems[0]?.message;
    expect(asRun(playbook('  serial: "12.5%"\n'))).toContain(raw);
  });
});
