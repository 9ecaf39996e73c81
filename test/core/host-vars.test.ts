import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostVarDeclarations, type HostVars } from '../../src/core/host-vars.js';
import { hostVarProblems } from '../../src/load/host-var-check.js';

const src = new URL('../../src/', import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
/** Names that look like host variables but are not: set by rollgate itself, or a preflight fact's name. */
const NOT_HOST_VARS = ['rollgate_run_id', 'rollgate_omit_placeholder__', 'rollgate_dir'];

describe('the declared host variables', () => {
  it('are every rollgate_* variable the code reads', () => {
    const read = new Set<string>();
    for (const f of files(src))
      for (const m of readFileSync(f, 'utf8').matchAll(/\brollgate_[a-z_]+[a-z]/g)) read.add(m[0]);
    for (const n of NOT_HOST_VARS) read.delete(n);
    expect([...read].filter((n) => !(n in hostVarDeclarations)).sort()).toEqual([]);
  });

  it('have a doc line and a hint for every one', () => {
    for (const [name, d] of Object.entries(hostVarDeclarations)) {
      expect(d.doc, name).toMatch(/\.$/);
      if (name !== 'rollgate_power') expect((d.schema as { 'x-hint'?: string })['x-hint'], name).toBeTruthy();
    }
  });

  it('check the values load/ does not leave to targets/, each at the position that set it', () => {
    const at = { file: 'group_vars/rack7.yml', line: 2, column: 20 };
    const problems = hostVarProblems({
      vars: { rollgate_max_down: 'two', rollgate_root: '/srv/root', rollgate_port: 'not checked here' },
      varOrigins: { rollgate_max_down: at },
    });
    expect(problems).toEqual([
      {
        position: at,
        message: '`rollgate_max_down` must be integer, not a string',
        hint: 'e.g. `rollgate_max_down: 1` (the default when rollgate_cluster is set)',
      },
    ]);
  });

  it('give each variable its type', () => {
    const vars: HostVars = { rollgate_max_down: 2, rollgate_root: '/srv', rollgate_key_file: ['a', 'b'] };
    // @ts-expect-error rollgate_max_down is a number
    const wrong: HostVars = { rollgate_max_down: 'two' };
    expect([vars, wrong]).toHaveLength(2);
  });
});
