import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { rememberedConnection, resumedConnection } from '../../src/cli/remembered-connection.js';
import { ConfigError } from '../../src/core/config-error.js';

describe('the connection options a rollout keeps for resume', () => {
  it('keeps paths (resolved) and the timeout, never a password, and not --accept-new-host-keys', () => {
    expect(
      rememberedConnection({
        sshConfig: 'cfg/ssh_config',
        connectTimeout: '40',
        becomePasswordFile: 'secret/pw',
        acceptNewHostKeys: true,
      }),
    ).toEqual({
      sshConfig: resolve('cfg/ssh_config'),
      connectTimeout: '40',
      becomePasswordFile: resolve('secret/pw'),
    });
    expect(rememberedConnection({ askBecomePass: true })).toEqual({ askBecomePass: true });
    expect(rememberedConnection({})).toEqual({});
  });

  it("gives the run's options back on resume, the ones given again first", () => {
    const was = { sshConfig: '/etc/rg/ssh_config', connectTimeout: '40', becomePasswordFile: '/etc/rg/pw' };
    expect(resumedConnection('R', {}, was)).toEqual(was);
    expect(resumedConnection('R', { connectTimeout: '5', askBecomePass: true }, was)).toEqual({
      sshConfig: '/etc/rg/ssh_config',
      connectTimeout: '5',
      askBecomePass: true,
    });
    expect(resumedConnection('R', { acceptNewHostKeys: true }, {})).toEqual({ acceptNewHostKeys: true });
  });

  it('refuses to resume a -K run without -K (or a password file) given again, saying how', () => {
    let err: unknown;
    try {
      resumedConnection('20261206-1', {}, { askBecomePass: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      {
        message: "run 20261206-1 was started with -K (sudo's password typed, never kept)",
        hint: 'give it again: rollgate resume 20261206-1 -K (or --become-password-file FILE)',
      },
    ]);
    expect(resumedConnection('20261206-1', { becomePasswordFile: '/pw' }, { askBecomePass: true })).toEqual({
      becomePasswordFile: '/pw',
    });
  });
});
