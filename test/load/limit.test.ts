import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/load/inventory.js';
import { globToRegExp, selectHosts, splitPattern } from '../../src/load/limit.js';
import { ConfigError } from '../../src/core/config-error.js';

const inv = loadInventory(new URL('../fixtures/inventories/nested-depth/hosts.yml', import.meta.url).pathname);

// Expected lists (and their order) are what `ansible -i hosts.yml PATTERN --list-hosts` (ansible-core 2.14) prints.
const cases: [string, string[]][] = [
  ['all', ['hv2.fra', 'hv1.ams', 'hv3.fra', 'hv1.fra']],
  ['region_eu', ['hv1.ams', 'hv1.fra', 'hv2.fra', 'hv3.fra']],
  ['hv*', ['hv1.fra', 'hv2.fra', 'hv3.fra', 'hv1.ams']],
  ['~hv[12]\\.fra', ['hv1.fra', 'hv2.fra']],
  ['region_eu:!gpu', ['hv1.fra', 'hv3.fra']],
  ['region_eu:&gpu', ['hv1.ams', 'hv2.fra']],
  ['gpu,canary', ['hv2.fra', 'hv1.ams', 'hv3.fra']],
  ['region_eu[0]', ['hv1.ams']],
  ['region_eu[1:2]', ['hv1.fra', 'hv2.fra']],
  ['region_eu[-1]', ['hv3.fra']],
  ['!gpu', ['hv3.fra', 'hv1.fra']],
  ['dc_*', ['hv1.fra', 'hv2.fra', 'hv3.fra', 'hv1.ams']],
  ['*.ams', ['hv1.ams']],
  ['hv1.fra,hv1.ams', ['hv1.fra', 'hv1.ams']],
  ['canary', ['hv3.fra', 'hv2.fra', 'hv1.ams']],
  ['!gpu:region_eu', ['hv1.fra', 'hv3.fra']],
];

describe('selectHosts', () => {
  it.each(cases)('selects %s as Ansible does', (pattern, hosts) => {
    expect(selectHosts(inv, pattern)).toEqual(hosts);
  });

  it('selects every host when no pattern is given', () => {
    expect(selectHosts(inv)).toEqual(selectHosts(inv, 'all'));
  });

  const message = (pattern: string) => {
    try {
      selectHosts(inv, pattern);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    return 'no error';
  };

  it('refuses an unknown group with a did-you-mean, pointing at the term', () => {
    expect(message('canary,regon_eu')).toBe(
      '--limit:1:8: no host or group matches `regon_eu`. did you mean `region_eu`?',
    );
  });

  it('refuses a misspelt exclusion instead of silently excluding nothing', () => {
    expect(message('all:!gpus')).toBe('--limit:1:6: no host or group matches `gpus`. did you mean `gpu`?');
  });

  it('reports every bad term at once', () => {
    expect(message('zzz,hv9*').split('\n')).toEqual([
      '--limit:1:1: no host or group matches `zzz`. see the names with `rollgate inventory -i INV --graph`',
      '--limit:1:5: no host or group matches `hv9*`. see the names with `rollgate inventory -i INV --graph`',
    ]);
  });

  it('refuses a subscript past the end and a bad regular expression', () => {
    expect(message('gpu[5]')).toBe(
      '--limit:1:1: `gpu[5]` asks for host 5, but `gpu` has 2. subscripts count from 0: use [0] to [1]',
    );
    expect(message('~hv(')).toMatch(/^--limit:1:1: `~hv\(` is not a valid regular expression/);
  });

  it('places errors where the pattern is written when told', () => {
    try {
      selectHosts(inv, 'hypervisor', { file: 'play.yml', line: 3, column: 10 });
      expect.fail('should throw');
    } catch (err) {
      expect((err as ConfigError).problems[0]?.position).toEqual({ file: 'play.yml', line: 3, column: 10 });
    }
  });
});

describe('splitPattern', () => {
  it('splits on commas, or on colons outside brackets, keeping offsets', () => {
    expect(splitPattern('a, b[1:2] ,c')).toEqual([
      { text: 'a', offset: 0 },
      { text: 'b[1:2]', offset: 3 },
      { text: 'c', offset: 11 },
    ]);
    expect(splitPattern('web:&db:!hv[1:2]').map((t) => t.text)).toEqual(['web', '&db', '!hv[1:2]']);
    expect(splitPattern('fe80::1').map((t) => t.text)).toEqual(['fe80::1']);
  });
});

describe('globToRegExp', () => {
  it('follows fnmatch: * and ? span dots, [!x] negates', () => {
    expect(globToRegExp('hv*').test('hv1.fra')).toBe(true);
    expect(globToRegExp('hv?.fra').test('hv1.fra')).toBe(true);
    expect(globToRegExp('hv[!1].fra').test('hv1.fra')).toBe(false);
    expect(globToRegExp('hv[!1].fra').test('hv2.fra')).toBe(true);
    expect(globToRegExp('hv.fra').test('hvxfra')).toBe(false);
  });
});
