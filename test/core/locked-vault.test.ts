import { describe, expect, it } from 'vitest';
import { LockedVault } from '../../src/core/locked-vault.js';
import { SecretSet } from '../../src/secrets/secret-set.js';
import { createScope } from '../../src/template/template.js';

const data = '$ANSIBLE_VAULT;1.1;AES256\n6162636465666768\n';
const problem = {
  position: { file: 'group_vars/b.yml', line: 3, column: 26 },
  message: 'this !vault value is encrypted with ansible-vault and no vault password was given',
  hint: 'pass --vault-password-file FILE',
};

describe('LockedVault: an inline !vault value no password opened', () => {
  it('serialises as ansible-inventory prints it, and shows nothing else to what walks variables', () => {
    const v = new LockedVault(data, problem);
    expect(JSON.parse(JSON.stringify({ pw: v }))).toEqual({ pw: { __ansible_vault: data } });
    expect(Object.values(v)).toEqual([data]);
    // The scrubber takes the vault data (harmless), never the words of the error message.
    const secrets = new SecretSet();
    secrets.add({ pw: v });
    expect(secrets.scrub('no vault password was given')).toBe('no vault password was given');
  });

  it('is the vault error, at the value, where a template uses it', () => {
    const scope = createScope([{ kind: 'inventory', vars: { pw: new LockedVault(data, problem), plain: 'x' } }]);
    expect(scope.lookup('plain')).toBe('x');
    expect(() => scope.lookup('pw')).toThrow(
      'group_vars/b.yml:3:26: this !vault value is encrypted with ansible-vault and no vault password was given: pass --vault-password-file FILE',
    );
    const pos = { file: 'play.yml', line: 9, column: 7 };
    const outer = createScope([
      { kind: 'inventory', vars: { pw: new LockedVault(data, problem) } },
      { kind: 'task', vars: { msg: 'token {{ pw }}' }, position: pos },
    ]);
    expect(() => outer.lookup('msg')).toThrow(
      /^play\.yml:9:7: .* \(in variable `pw` defined at group_vars\/b\.yml:3:26\)$/,
    );
  });

  it("is the vault error where raw data holding it becomes text (another host's vars under hostvars)", () => {
    const scope = createScope([
      { kind: 'registered', vars: { hostvars: { hv1: { pw: new LockedVault(data, problem), user: 'ops' } } } },
    ]);
    const pos = { file: 'play.yml', line: 4, column: 9 };
    const task = scope.with({
      kind: 'task',
      vars: { u: '{{ hostvars.hv1.user }}', p: 'x{{ hostvars.hv1.pw }}' },
      position: pos,
    });
    expect(task.lookup('u')).toBe('ops');
    expect(() => task.lookup('p')).toThrow(
      /^play\.yml:4:9: .*group_vars\/b\.yml:3:26: this !vault value is encrypted with ansible-vault and no vault password was given/,
    );
  });
});
