import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshdFleet, FLEET_ADMIN_USER, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { SshConnection } from '../../src/connection/ssh.js';
import { sh } from '../../src/connection/shell-quote.js';
import type { SshTarget } from '../../src/connection/target.js';

let fleet: SshdFleet;

function target(port: number, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    name: `h${port}`,
    address: '127.0.0.1',
    port,
    user: FLEET_ADMIN_USER,
    identityFiles: [fleet.clientKey],
    agentSocket: '',
    knownHostsFiles: [fleet.knownHosts],
    hostKeyPolicy: 'strict',
    become: false,
    ...overrides,
  };
}

beforeAll(async () => {
  fleet = await startSshdFleet({ count: 2, dir: mkdtempSync(join(tmpdir(), 'rg-smoke-')) });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('ssh connection against a real sshd', () => {
  it('runs commands on channels of one connection and passes hostile values as literal data', async () => {
    const conn = await SshConnection.open(target(fleet.hosts[0]!.port));
    try {
      const hostile = `a'b"c $(touch /tmp/pwned) ; rm -rf / \n\`id\``;
      const r = await conn.exec(sh`printf '%s' ${hostile}`);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(hostile);
      const who = await conn.exec('id -un; exit 3');
      expect(who.stdout.trim()).toBe(FLEET_ADMIN_USER);
      expect(who.exitCode).toBe(3);
      const root = await conn.exec('id -u', { become: true });
      expect(root.stdout.trim()).toBe('0');
    } finally {
      await conn.close();
    }
  });

  it('refuses a host whose key is not in known_hosts', async () => {
    await expect(
      SshConnection.open(target(fleet.hosts[1]!.port, { knownHostsFiles: ['/nonexistent'] })),
    ).rejects.toMatchObject({
      kind: 'host_key',
    });
  });
});
