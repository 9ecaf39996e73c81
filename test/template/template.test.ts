import { describe, expect, it } from 'vitest';
import {
  createScope,
  evaluateCondition,
  evaluateExpression,
  renderString,
  renderValue,
  TemplateFailure,
} from '../../src/template/template.js';
import { checkExpression, checkTemplate } from '../../src/template/template-check.js';
import type { VarLayer } from '../../src/template/vars.js';

const pos = { file: 'p.yml', line: 7, column: 9 };
const scope = (vars: Record<string, unknown>, more: VarLayer[] = []) => createScope([{ kind: 'play', vars }, ...more]);
const expr = (source: string, vars: Record<string, unknown> = {}) => evaluateExpression(source, scope(vars), pos);
const when = (source: string, vars: Record<string, unknown> = {}) =>
  evaluateCondition({ source, position: pos }, scope(vars));

describe('renderString', () => {
  it('keeps the native value of a string that is one expression', () => {
    expect(renderString('{{ ids }}', scope({ ids: ['10de:1e87', '10de:10f8'] }))).toEqual(['10de:1e87', '10de:10f8']);
    expect(renderString('  {{ n + 1 }} ', scope({ n: 4 }))).toBe(5);
    expect(renderString('{{ flag }}', scope({ flag: false }))).toBe(false);
  });

  it('renders mixed text to a string', () => {
    expect(renderString('options vfio-pci ids={{ ids | join(",") }}', scope({ ids: ['a', 'b'] }))).toBe(
      'options vfio-pci ids=a,b',
    );
    expect(renderString('plain text', scope({}))).toBe('plain text');
  });

  it.each([
    [`a'b"c`],
    ['$(touch /tmp/pwned)'],
    ['; rm -rf / ;'],
    ['`id`'],
    ['line1\nline2\r\n'],
    ['{{ not_a_template }}'],
    ['\\1 $1 $& %s'],
  ])('passes the hostile value %j through as literal data', (hostile) => {
    // Registered results and facts are data: never templated again, whatever they hold.
    const s = createScope([{ kind: 'registered', vars: { v: hostile } }]);
    expect(renderString('{{ v }}', s)).toBe(hostile);
    expect(renderString('x={{ v }}', s)).toBe(`x=${hostile}`);
    expect(renderValue({ list: ['{{ v }}'], deep: { k: '{{ v | upper | lower }}' } }, s)).toEqual({
      list: [hostile],
      deep: { k: hostile.toUpperCase().toLowerCase() },
    });
  });

  it('never templates registered data again', () => {
    const s = createScope([
      { kind: 'registered', vars: { out: { stdout: '{{ secret }}' } } },
      { kind: 'play', vars: { secret: 'S' } },
    ]);
    expect(renderString('{{ out.stdout }}', s)).toBe('{{ secret }}');
  });

  it('templates operator variables lazily in the full scope', () => {
    const s = createScope([
      { kind: 'inventory', vars: { vendor: 'intel' } },
      { kind: 'play', vars: { arg: '{{ vendor }}_iommu=on', args: ['{{ arg }}', 'iommu=pt'] } },
    ]);
    expect(renderString('{{ args }}', s)).toEqual(['intel_iommu=on', 'iommu=pt']);
  });

  it('fails on an undefined variable with the position of the task', () => {
    expect(() => renderString('{{ missing }}', scope({}), pos)).toThrow(
      new TemplateFailure('undefined variable `missing`', pos),
    );
    expect(() => renderString('a {{ missing | upper }}', scope({}), pos)).toThrow(
      'p.yml:7:9: undefined variable `missing`',
    );
    expect(() => renderString('{{ r.nope }}', scope({ r: {} }), pos)).toThrow('p.yml:7:9: `{{ r.nope }}` is undefined');
    expect(() => renderString('x {{ r.nope }}', scope({ r: {} }), pos)).toThrow(
      'p.yml:7:9: cannot template `x {{ r.nope }}`: a value in it is undefined or None',
    );
  });

  it('finds variables on both sides of comparisons and in every operand of a chain', () => {
    expect(() => renderString('{{ a == missing }}', scope({ a: 1 }), pos)).toThrow('undefined variable `missing`');
    expect(() => renderString('{{ 1 < a < missing }}', scope({ a: 2 }), pos)).toThrow('undefined variable `missing`');
    expect(renderString('{{ a.x == b.y }}', scope({ a: { x: 'v' }, b: { y: 'v' } }))).toBe(true);
    expect(checkExpression('a == b | regex_replce("x", "y")', 'when')?.message).toBe('unknown filter `regex_replce`');
  });

  it('accepts undefined variables guarded by default or is defined', () => {
    expect(renderString('{{ missing | default("d") }}', scope({}))).toBe('d');
    expect(renderString('{{ missing.deep.path | default([]) }}', scope({}))).toEqual([]);
    expect(renderString('{{ "yes" if missing is defined else "no" }}', scope({}))).toBe('no');
  });

  it('names a variable that refers to itself', () => {
    expect(() => renderString('{{ a }}', scope({ a: '{{ b }}', b: '{{ a }}' }), pos)).toThrow(/refers to itself/);
  });

  it('gives task vars precedence over play vars and registered results over both, extra vars over all', () => {
    const s = createScope([
      { kind: 'inventory', vars: { x: 'inv', y: 'inv', z: 'inv', w: 'inv' } },
      { kind: 'play', vars: { x: 'play', y: 'play', z: 'play', w: 'play' } },
      { kind: 'task', vars: { y: 'task', z: 'task', w: 'task' } },
      { kind: 'registered', vars: { z: 'reg', w: 'reg' } },
      { kind: 'extra', vars: { w: 'extra' } },
    ]);
    expect(renderString('{{ x }} {{ y }} {{ z }} {{ w }}', s)).toBe('play task reg extra');
    expect(renderString('{{ x }}', s.with({ kind: 'block', vars: { x: 'block' } }))).toBe('block');
  });
});

describe('undefined values, as Ansible has them: an error only when used', () => {
  // Each row is what ansible-core answers for the expression (AnsibleUndefined: a StrictUndefined whose attributes
  // are undefined too). `throws` rows fail with "undefined variable `NAME`" at the task's position.
  it.each<[string, Record<string, unknown>, unknown]>([
    ['kernel.target_kernel | default(target_kernel)', { kernel: { target_kernel: '6.2.0-test' } }, '6.2.0-test'],
    ['x | default(y) | default("z")', {}, 'z'],
    ['missing | default(other)', { other: 'o' }, 'o'],
    ['missing | d("x")', {}, 'x'],
    ['missing.deep.attr | default("d")', {}, 'd'],
    ['"" | default("x", true)', {}, 'x'],
    ['"" | default("x")', {}, ''],
    ['x is defined and x > 1', {}, false],
    ['x is undefined or x == "a"', {}, true],
    ['"yes" if missing is defined else "no"', {}, 'no'],
    ['flag | default(false) | bool', {}, false],
    ['missing is none', {}, false],
    ['(missing | default(none)) is none', {}, true],
    ['cond | ternary("a", missing)', { cond: true }, 'a'],
    ['[1, missing] | length', {}, 2],
  ])('%s gives %j', (source, vars, expected) => {
    expect(expr(source, vars)).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['kernel.target_kernel | default(target_kernel)', { kernel: {} }, 'target_kernel'],
    ['missing', {}, 'missing'],
    ['not missing', {}, 'missing'],
    ['missing == "a"', {}, 'missing'],
    ['missing == none', {}, 'missing'],
    ['missing | upper', {}, 'missing'],
    ['"a" ~ missing', {}, 'missing'],
    ['missing + 1', {}, 'missing'],
    ['missing in ["a"]', {}, 'missing'],
    ['[1, missing]', {}, 'missing'],
    ['dict(a=missing)', {}, 'missing'],
    ['missing | mandatory', {}, 'missing'],
    ['missing.attr', {}, 'missing'],
    ['missing.split(",")', {}, 'missing'],
    ['x is defined or missing', {}, 'missing'],
    ['missing is version("1.0", ">=")', {}, 'missing'],
  ])('%s fails: it uses the undefined %s', (source, vars, name) => {
    expect(() => expr(source, vars)).toThrow(new TemplateFailure(`undefined variable \`${name}\``, pos));
  });

  it('fails a rendered string, a loop and an if that use an undefined value, with the position', () => {
    expect(() => renderString('a {{ x | default(y) }}', scope({}), pos)).toThrow('p.yml:7:9: undefined variable `y`');
    expect(() => renderString('{% for i in missing %}{{ i }}{% endfor %}', scope({}), pos)).toThrow(
      'p.yml:7:9: undefined variable `missing`',
    );
    expect(() => renderString('{% if missing %}a{% endif %}', scope({}), pos)).toThrow(
      'p.yml:7:9: undefined variable `missing`',
    );
    expect(renderString('{% if x is defined and x %}a{% else %}b{% endif %}', scope({}), pos)).toBe('b');
    expect(when('x is defined and x | bool')).toBe(false);
    expect(when('x is defined and x | bool', { x: 'yes' })).toBe(true);
  });
});

describe('filters and tests', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ['l | join(" ")', { l: ['a', 'b'] }, 'a b'],
    ['l | length', { l: [1, 2, 3] }, 3],
    ['"42" | int + 1', {}, 43],
    ['"yes" | bool', {}, true],
    ['"off" | bool', {}, false],
    ['"AbC" | lower ~ ("x" | upper)', {}, 'abcX'],
    ['"a-b-c" | replace("-", "_")', {}, 'a_b_c'],
    ['"intel_iommu=on" | regex_replace("^(\\\\w+)=(?P<v>.*)$", "\\\\g<v>:\\\\1")', {}, 'on:intel_iommu'],
    ['"price 5" | regex_replace("5", "$1")', {}, 'price $1'],
    ['"BOOT_IMAGE=/vmlinuz-6.1.0 ro" | regex_search("vmlinuz-([0-9.]+)", "\\\\1")', {}, ['6.1.0']],
    ['"abc" | regex_search("z")', {}, null],
    ['c | ternary("on", "off")', { c: [] }, 'off'],
    ['l | select("match", "^10de") | list', { l: ['10de:1', '8086:2'] }, ['10de:1']],
    ['l | reject("equalto", 2) | list', { l: [1, 2, 3] }, [1, 3]],
    ['devs | map(attribute="id") | list', { devs: [{ id: 'a' }, { id: 'b' }] }, ['a', 'b']],
    ['l | map("upper") | list', { l: ['a'] }, ['A']],
    [
      'devs | selectattr("driver", "equalto", "vfio-pci") | map(attribute="id") | list',
      {
        devs: [
          { id: 'a', driver: 'nvidia' },
          { id: 'b', driver: 'vfio-pci' },
        ],
      },
      ['b'],
    ],
    ['l | unique', { l: [1, 1, 2] }, [1, 2]],
    ['a | union(b)', { a: [1, 2], b: [2, 3] }, [1, 2, 3]],
    ['a | difference(b)', { a: [1, 2], b: [2, 3] }, [1]],
    ['d | to_json', { d: { a: [1] } }, '{"a":[1]}'],
    ['s | from_json', { s: '{"a": 1}' }, { a: 1 }],
    ['"a b  c" | split', {}, ['a', 'b', 'c']],
    ['"a,b" | split(",")', {}, ['a', 'b']],
    ['"quiet splash".split()', {}, ['quiet', 'splash']],
    ['"6.1.0-13-amd64" is version("6.1", ">=")', {}, true],
    ['"5.15.0" is version("6.1", ">=")', {}, false],
    ['"6.10" is version("6.9", "gt")', {}, true],
    ['r is failed', { r: { failed: true } }, true],
    ['r is changed', { r: { changed: false } }, false],
    ['"intel" in cpu', { cpu: 'GenuineIntel intel' }, true],
    ['True and not False and None is none', {}, true],
    ['d.items() | list | length', { d: { a: 1, b: 2 } }, 2],
    ['"  x ".strip() ~ "Ab".startswith("A")', {}, 'xtrue'],
    ['{"a": 1} | combine({"b": 2})', {}, { a: 1, b: 2 }],
    ['d | dict2items | map(attribute="key") | list', { d: { k: 1 } }, ['k']],
    [
      'dict(ids | zip_longest([], fillvalue="vfio-pci"))',
      { ids: ['10de:1e87', '10de:10f8'] },
      { '10de:1e87': 'vfio-pci', '10de:10f8': 'vfio-pci' },
    ],
    [
      'a | zip(b) | list',
      { a: [1, 2, 3], b: ['x', 'y'] },
      [
        [1, 'x'],
        [2, 'y'],
      ],
    ],
    // Jinja's int as Ansible has it: anything that is not a number gives the default, 0.
    ['"abc" | int', {}, 0],
    ['"a[$(id)]" | int(7)', {}, 7],
    ['" 42.9 " | int', {}, 42],
    ['"-1_000" | int', {}, -1000],
    ['"0x1A" | int(base=16)', {}, 26],
    ['true | int', {}, 1],
    ['"it\'s" | quote', {}, `'it'"'"'s'`],
    ['"a.b/c" | quote', {}, 'a.b/c'],
  ])('%s', (source, vars, expected) => {
    expect(expr(source, vars)).toEqual(expected);
  });

  it('evaluates when with Python truthiness', () => {
    expect(when('l', { l: [] })).toBe(false);
    expect(when('l', { l: [0] })).toBe(true);
    expect(when('d', { d: {} })).toBe(false);
    expect(when('"" ')).toBe(false);
    expect(when('x == "a"', { x: 'a' })).toBe(true);
  });
});

describe('values from hosts', () => {
  it('refuses a YAML alias bomb read with from_yaml instead of walking it', () => {
    const levels = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefghi'.split('').map((l, i) => `${l}: &${l} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ];
    const s = createScope([{ kind: 'registered', vars: { out: { stdout: levels.join('\n') } } }]);
    const started = Date.now();
    expect(() => renderString('{{ out.stdout | from_yaml }}', s, pos)).toThrow(
      /from_yaml: the text expands to more than 200000 values/,
    );
    expect(Date.now() - started).toBeLessThan(10_000); // walking it would take minutes or the heap
  });
});

describe('load-time checks', () => {
  it('accepts good templates and expressions', () => {
    expect(checkTemplate('{{ a | default("x") }}')).toBeNull();
    expect(checkExpression('a is version("6.1", ">=") and b | length > 0', 'when')).toBeNull();
  });

  it('names bad syntax, unknown filters and tests, and templates in when', () => {
    expect(checkExpression('x ==', 'when')?.message).toMatch(/^bad `when` expression `x ==`: /);
    expect(checkExpression('x | regex_replce("a", "b")', 'when')).toEqual({
      message: 'unknown filter `regex_replce`',
      hint: 'did you mean `regex_replace`?',
    });
    expect(checkExpression('x is verison("1")', 'when')).toEqual({
      message: 'unknown test `verison`',
      hint: 'did you mean `version`?',
    });
    expect(checkExpression('{{ x }}', 'when')).toEqual({
      message: '`when` takes a bare expression, not a template',
      hint: 'write `when: x` without {{ }}',
    });
    expect(checkTemplate('{{ x ')?.message).toMatch(/^bad template `\{\{ x `: /);
  });
});
