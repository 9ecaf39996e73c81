import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSshConfig, proxyJumpFromCommand } from '../../src/targets/ssh-config.js';
import { resolveTarget } from '../../src/targets/resolve-target.js';
import { ConfigError } from '../../src/core/config-error.js';

let home: string;
const ctx = () => ({ home, localUser: 'me' });

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'rg-sshcfg-'));
  mkdirSync(join(home, '.ssh', 'config.d'), { recursive: true });
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('Match exec', () => {
  it('is refused with the file, line and what to write instead when it would decide the settings', () => {
    const cfg = parseSshConfig('Host *\n  User u\n\nMatch host hv* exec "test -f /tmp/x"\n  Port 2\n', 'cfg', ctx());
    expect(messageOf(() => cfg.lookup('hv1'))).toMatch(
      /^cfg:4:1: Match exec "test -f \/tmp\/x" decides the settings of hv1, and rollgate runs no command from ssh_config\. replace it with Match host/,
    );
  });

  it('is not run, and not refused, once an earlier criterion on the line failed (as OpenSSH skips it)', () => {
    const cfg = parseSshConfig('Match host db* exec "false"\n  Port 2\n', 'cfg', ctx());
    expect(cfg.lookup('hv1').port).toBeUndefined();
  });
});

describe('Match criteria rollgate does not know', () => {
  it('are refused by name', () => {
    const cfg = parseSshConfig('Match tagged prod\n  Port 2\n', 'cfg', ctx());
    expect(messageOf(() => cfg.lookup('a'))).toMatch(/cfg:1:1: Match tagged is not supported by rollgate/);
  });
});

describe('Include', () => {
  it('reads paths relative to ~/.ssh, in glob order', () => {
    writeFileSync(join(home, '.ssh', 'config.d', 'b.conf'), 'Host a\n  Port 3\n');
    writeFileSync(join(home, '.ssh', 'config.d', 'a.conf'), 'Host a\n  User first\n  Port 2\n');
    expect(parseSshConfig('Include config.d/*.conf\n', 'cfg', ctx()).lookup('a')).toMatchObject({
      user: 'first',
      port: '2',
    });
  });

  it('stops an Include loop at 16 levels with a message naming the chain', () => {
    writeFileSync(join(home, '.ssh', 'loop.conf'), 'Include loop.conf\n');
    expect(messageOf(() => parseSshConfig('Include loop.conf\n', 'cfg', ctx()))).toMatch(
      /ssh config Include nested more than 16 deep \(cfg -> .*loop\.conf -> .*loop\.conf/,
    );
  });
});

describe('ProxyCommand', () => {
  it.each([
    ['ssh -W %h:%p bastion', 'bastion'],
    ['ssh -q -W %h:%p -l ops -p 2222 bastion', 'ops@bastion:2222'],
    ['ssh bastion -W %h:%p', 'bastion'],
  ])('takes %j as ProxyJump %j', (cmd, jump) => {
    expect(proxyJumpFromCommand(cmd)).toBe(jump);
  });

  it.each(['nc -X 5 -x proxy:1080 %h %p', 'ssh -i key -W %h:%p b', 'ssh -W [%h]:%p b', 'ssh b'])(
    'does not take %j',
    (cmd) => expect(proxyJumpFromCommand(cmd)).toBeNull(),
  );

  it('is refused for a target when it is another command, naming ProxyJump as the fix', () => {
    const sshConfig = parseSshConfig('Host hv1\n  ProxyCommand nc -X 5 -x proxy:1080 %h %p\n', 'cfg', ctx());
    const agentSocket = join(home, 'agent.sock');
    expect(
      messageOf(() => resolveTarget({ name: 'hv1', vars: {} } as never, { sshConfig, home, agentSocket })),
    ).toMatch(/ProxyCommand "nc -X 5 -x proxy:1080 %h %p" in cfg is not run by rollgate.*write ProxyJump/);
  });

  it('loses to a ProxyJump that came first, as in OpenSSH', () => {
    const cfg = parseSshConfig('Host a\n  ProxyJump j\n  ProxyCommand nc %h %p\n', 'cfg', ctx());
    expect(cfg.lookup('a')).toMatchObject({ proxyJump: 'j' });
    expect(cfg.lookup('a').proxyCommand).toBeUndefined();
  });
});

describe('Match user', () => {
  it('tests the inventory user when one is given, before ssh_config sets its own', () => {
    const cfg = parseSshConfig('Match user deploy\n  Port 2\nHost *\n  User other\n', 'cfg', ctx());
    expect(cfg.lookup('a', { user: 'deploy' }).port).toBe('2');
    expect(cfg.lookup('a').port).toBeUndefined();
  });
});
