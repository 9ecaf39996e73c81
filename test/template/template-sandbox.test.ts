import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScope, renderString, TemplateFailure } from '../../src/template/template.js';
import { checkTemplate } from '../../src/template/template-check.js';
import type { VarLayerKind } from '../../src/template/vars.js';

const dir = mkdtempSync(join(tmpdir(), 'rg-sandbox-'));
const marker = join(dir, 'MARKER');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Code that, run on the controller, writes the marker file. */
const P = `"return process.getBuiltinModule('fs').writeFileSync('${marker}', 'x')"`;

/** Known nunjucks escapes (public SSTI write-ups), each aimed at writing the marker file; and what stops it. */
const escapes: Array<[string, RegExp]> = [
  [`{{ range.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ cycler.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ joiner.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ lipsum.constructor(${P})() }}`, /Unable to call `lipsum\["constructor"\]`, which is undefined/], // nunjucks 3 has no lipsum
  [`{{ dict.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ "".constructor.constructor(${P})() }}`, /templates cannot read `constructor`/],
  [
    `{{ obj.__proto__.constructor.getOwnPropertyDescriptor(obj.__proto__.constructor.getPrototypeOf(range), "constructor").value(${P})() }}`,
    /templates cannot read `__proto__`/,
  ],
  [`{{ obj["constr" ~ "uctor"]["constr" ~ "uctor"](${P})() }}`, /templates cannot read `constructor`/],
  [`{{ range.call.constructor(${P})() }}`, /templates cannot read `.call` of a function/],
  [`{{ range.apply(none, [1]) }}`, /templates cannot read `.apply` of a function/],
  [`{{ range.bind(none).constructor(${P})() }}`, /templates cannot read `.bind` of a function/],
  [`{{ toString.constructor(${P})() }}`, /templates cannot read `constructor`/],
  [`{{ (toString | default(range)).constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ (valueOf | default(none))().env.globals.range.constructor(${P})() }}`, /Unable to call/],
  [`{{ (constructor | default(obj)).getPrototypeOf(range) }}`, /Unable to call|is undefined/],
  [
    `{{ ([obj] | map(attribute="constructor") | first | default(obj)).getPrototypeOf(range) }}`,
    /Unable to call|is undefined/,
  ],
  [`{{ obj.__lookupGetter__("__proto__") }}`, /templates cannot read `__lookupGetter__`/],
  [`{{ cycler(1, 2).next.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ obj.items.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{% set f = range["constructor"](${P}) %}{{ f() }}`, /templates cannot read `.constructor` of a function/],
  [`{% macro m() %}{% endmacro %}{{ m.constructor(${P})() }}`, /templates cannot read `(\.)?constructor`/],
  [`{{ "a".sub.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ [].map.constructor(${P})() }}`, /templates cannot read `.constructor` of a function/],
  [`{{ "x" | constructor }}`, /filter not found: constructor/],
];

describe('templates cannot reach the controller runtime', () => {
  const kinds: VarLayerKind[] = ['play', 'inventory', 'extra'];
  it.each(escapes)('%s fails with a template error and writes nothing', (payload, reason) => {
    for (const kind of kinds) {
      // The payload as the operator's template, and as a variable's value templated lazily (inventory, -e).
      const scope = createScope([
        { kind, vars: { obj: {}, evil: payload }, position: { file: 'vars.yml', line: 2, column: 5 } },
      ]);
      for (const source of [payload, '{{ evil }}']) {
        let error: unknown;
        try {
          renderString(source, scope, { file: 'p.yml', line: 3, column: 7 });
        } catch (err) {
          error = err;
        }
        expect(error, `${kind}: ${source}`).toBeInstanceOf(TemplateFailure);
        expect((error as Error).message, `${kind}: ${source}`).toMatch(reason);
        expect((error as Error).message).toMatch(/^p\.yml:3:7: /);
      }
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('hands values from hosts (registered results) back as text: never templated, never run', () => {
    const scope = createScope([{ kind: 'registered', vars: { out: { stdout: escapes[0]![0] } } }]);
    expect(renderString('{{ out.stdout }}', scope)).toBe(escapes[0]![0]);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses member names that lead out of the data at load time', () => {
    expect(checkTemplate(`{{ range.constructor(${P})() }}`)).toEqual({
      message: 'templates cannot read `constructor`',
      hint: 'rollgate templates read data (keys of mappings, items of lists), not JavaScript objects',
    });
    expect(checkTemplate('{{ x["__proto__"] }}')?.message).toBe('templates cannot read `__proto__`');
    expect(checkTemplate('{{ x.prototype }}')?.message).toBe('templates cannot read `prototype`');
  });

  it('keeps data keys as data: __proto__ from a dict or a combined mapping never becomes a prototype', () => {
    const scope = createScope([{ kind: 'play', vars: { bad: { ['__proto__']: { polluted: 1 } } } }]);
    expect(renderString('{{ dict([["__proto__", {"polluted": 1}]]) | to_json }}', scope)).toBe(
      '{"__proto__":{"polluted":1}}',
    );
    expect(
      renderString(
        '{{ ({} | combine("{\\"__proto__\\": {\\"polluted\\": 1}}" | from_json)).polluted | default("none") }}',
        scope,
      ),
    ).toBe('none');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still runs the Jinja and Python features playbooks use', () => {
    const scope = createScope([{ kind: 'play', vars: { d: { a: 1, b: 2 }, l: [3, 1, 2], s: ' x ' } }]);
    expect(
      renderString(
        '{{ d.items() | list | length }} {{ l | sort | join(",") }} {{ s.strip() }} {{ range(3) | list | length }} {{ "a,b".split(",") | length }}',
        scope,
      ),
    ).toBe('2 1,2,3 x 3 2');
    expect(renderString('{% set c = cycler("a", "b") %}{{ c.next() }}{{ c.next() }}', scope)).toBe('ab');
    expect(renderString('{{ d | dict2items | map(attribute="key") | join }}', scope)).toBe('ab');
  });
});
