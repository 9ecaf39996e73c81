import { describe, expect, it } from 'vitest';
import type { ConfigProblem } from '../../src/core/config-error.js';
import { resolveBecomeMethod } from '../../src/targets/resolve-become-method.js';
import type { TargetHost } from '../../src/targets/target-vars.js';

const at = (line: number) => ({ file: 'inventory/hosts.yml', line, column: 5 });

function resolve(vars: Record<string, unknown>): {
  method: ReturnType<typeof resolveBecomeMethod>;
  problems: string[];
} {
  const varOrigins = Object.fromEntries(Object.keys(vars).map((k, i) => [k, at(i + 2)]));
  const host: TargetHost = { name: 'hv01', vars, origin: at(1), varOrigins };
  const problems: ConfigProblem[] = [];
  const method = resolveBecomeMethod(host, problems);
  return {
    method,
    problems: problems.map((p) => `${p.position?.file}:${p.position?.line}: ${p.message} (${p.hint})`),
  };
}

describe('resolveBecomeMethod', () => {
  it('reads su with its program and flags, the flags split as sh splits them', () => {
    expect(
      resolve({
        ansible_become_method: 'su',
        ansible_become_exe: '/usr/bin/su',
        ansible_become_flags: `-s /bin/sh --whitelist-environment='LANG,TERM'`,
      }),
    ).toEqual({
      method: {
        becomeMethod: 'su',
        becomeExe: '/usr/bin/su',
        becomeFlags: ['-s', '/bin/sh', '--whitelist-environment=LANG,TERM'],
      },
      problems: [],
    });
    expect(resolve({ ansible_become_method: 'su' })).toEqual({ method: { becomeMethod: 'su' }, problems: [] });
    expect(resolve({})).toEqual({ method: {}, problems: [] });
  });

  it('keeps sudo as it was: su-only variables are not read for it', () => {
    expect(resolve({ ansible_become_method: 'sudo', ansible_become_flags: '-H -S -n' })).toEqual({
      method: { becomeMethod: 'sudo' },
      problems: [],
    });
  });

  it('refuses other methods, a flag that carries a command and an empty program, at the variable', () => {
    expect(resolve({ ansible_become_method: 'doas' }).problems).toEqual([
      'inventory/hosts.yml:2: host `hv01`: ansible_become_method is "doas"; rollgate becomes another user through ' +
        'sudo or su (write ansible_become_method: sudo or ansible_become_method: su)',
    ]);
    for (const flags of ['-l -c id', '--command=id', '--session-command id'])
      expect(resolve({ ansible_become_method: 'su', ansible_become_flags: flags }).problems[0]).toMatch(
        /^inventory\/hosts.yml:3: .*ansible_become_flags has (-c|--command=id|--session-command).*rollgate gives su the command/,
      );
    expect(resolve({ ansible_become_method: 'su', ansible_become_flags: `-s '/bin/sh` }).problems[0]).toMatch(
      /ansible_become_flags .*quot/i,
    );
    expect(resolve({ ansible_become_method: 'su', ansible_become_exe: ' ' }).problems[0]).toMatch(
      /ansible_become_exe is " "/,
    );
  });
});
