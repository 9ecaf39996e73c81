import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshConnection } from '../../src/connection/ssh.js';
import { removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;

beforeAll(async () => {
  dir = tempDir('hostkeys');
  // Every host serves ed25519 and ecdsa keys, like a stock OpenSSH install.
  fleet = await startSshdFleet({ count: 3, dir, hostKeyTypes: ['ed25519', 'ecdsa'] });
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

const host = (i: number) => fleet.hosts[i]!;
const entry = (i: number, keyIndex: number) => `[127.0.0.1]:${host(i).port} ${host(i).hostPublicKeys[keyIndex]}\n`;

async function opens(
  i: number,
  knownHostsFiles: string[],
  policy: 'strict' | 'accept-new' = 'strict',
): Promise<string> {
  const conn = await SshConnection.open(hostTarget(fleet, host(i), { knownHostsFiles, hostKeyPolicy: policy }));
  try {
    return (await conn.exec('echo connected')).stdout.trim();
  } finally {
    await conn.close();
  }
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('strict host key checking against real sshd', () => {
  it('connects when known_hosts holds the key', async () => {
    expect(await opens(0, [fleet.knownHosts])).toBe('connected');
  });

  it('refuses a host whose key is not recorded, naming the file and ssh-keyscan', async () => {
    const empty = file('empty_known_hosts', entry(1, 0)); // another host's entry only
    await expect(opens(0, [empty])).rejects.toMatchObject({
      kind: 'host_key',
      retryable: false,
      message: expect.stringMatching(new RegExp(`is not known.*${empty}.*ssh-keyscan -p ${host(0).port} 127.0.0.1`)),
    });
  });

  it('refuses a host whose key changed, naming file:line and ssh-keygen -R', async () => {
    const other = host(1).hostPublicKeys[0]!;
    const changed = file('changed_known_hosts', `# old key\n[127.0.0.1]:${host(0).port} ${other}\n`);
    await expect(opens(0, [changed])).rejects.toMatchObject({
      kind: 'host_key',
      message: expect.stringMatching(new RegExp(`HOST KEY CHANGED.*${changed}:2.*ssh-keygen -R`)),
    });
  });

  it('accepts hashed entries written by ssh-keygen -H', async () => {
    const hashed = file('hashed_known_hosts', entry(0, 0));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/);
    expect(await opens(0, [hashed])).toBe('connected');
  });

  it('asks for the recorded algorithm: an ecdsa-only entry is not "changed" by a host that prefers ed25519', async () => {
    const ecdsaOnly = file('ecdsa_known_hosts', entry(2, 1));
    expect(host(2).hostPublicKeys[1]).toMatch(/^ecdsa-sha2-nistp256 /);
    expect(await opens(2, [ecdsaOnly])).toBe('connected');
  });

  it('refuses a key marked @revoked', async () => {
    const revoked = file('revoked_known_hosts', `@revoked ${entry(0, 0)}${entry(0, 0)}`);
    await expect(opens(0, [revoked])).rejects.toMatchObject({
      kind: 'host_key',
      message: expect.stringMatching(/@revoked/),
    });
  });

  it('accept-new records an unknown key, then connects strictly, and still refuses a changed one', async () => {
    const fresh = join(dir, 'sub', 'accept_new_known_hosts');
    expect(existsSync(fresh)).toBe(false);
    expect(await opens(1, [fresh], 'accept-new')).toBe('connected');
    const recorded = readFileSync(fresh, 'utf8');
    expect(recorded.trim().split('\n')).toHaveLength(1);
    expect(recorded).toContain(`[127.0.0.1]:${host(1).port} ${host(1).hostPublicKeys[0]}`);
    expect(await opens(1, [fresh], 'strict')).toBe('connected');
    writeFileSync(
      fresh,
      recorded.replace(host(1).hostPublicKeys[0]!.split(' ')[1]!, host(0).hostPublicKeys[0]!.split(' ')[1]!),
    );
    await expect(opens(1, [fresh], 'accept-new')).rejects.toMatchObject({
      kind: 'host_key',
      message: expect.stringMatching(/HOST KEY CHANGED/),
    });
    expect(readFileSync(fresh, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
