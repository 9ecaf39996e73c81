import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SshConnection } from '../../src/connection/ssh.js';
import { FLEET_PLAIN_USER, removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;
let agent: ChildProcess | undefined;
let agentSocket: string;
let strangerKey: string;
let lockedKey: string;

async function startAgent(): Promise<void> {
  agentSocket = join(dir, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(agentSocket); i++) await sleep(20);
  if (!existsSync(agentSocket)) throw new Error('ssh-agent did not create its socket');
}

beforeAll(async () => {
  dir = tempDir('auth');
  fleet = await startSshdFleet({ count: 1, dir });
  strangerKey = join(dir, 'id_stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
  // The fleet's authorised key, but protected by a passphrase: usable only through the agent.
  lockedKey = join(dir, 'id_locked');
  execFileSync('cp', [fleet.clientKey, lockedKey]);
  execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'open sesame', '-f', lockedKey]);
  await startAgent();
});
afterAll(async () => {
  agent?.kill('SIGTERM');
  await fleet?.stop();
  removeFleetDir(dir);
});

async function whoami(overrides: Parameters<typeof hostTarget>[2]): Promise<string> {
  const conn = await SshConnection.open(hostTarget(fleet, fleet.hosts[0]!, overrides));
  try {
    return (await conn.exec('id -un')).stdout.trim();
  } finally {
    await conn.close();
  }
}

describe('authentication against real sshd', () => {
  it('logs in with a key file', async () => {
    expect(await whoami({})).toBe('rgops');
    expect(await whoami({ user: FLEET_PLAIN_USER })).toBe(FLEET_PLAIN_USER);
  });

  it('tries several key files in order until one is accepted', async () => {
    expect(await whoami({ identityFiles: [strangerKey, fleet.clientKey] })).toBe('rgops');
  });

  it('reports auth (not unreachable) when every key is refused, listing what was offered', async () => {
    await expect(whoami({ identityFiles: [strangerKey] })).rejects.toMatchObject({
      kind: 'auth',
      retryable: false,
      message: expect.stringMatching(
        new RegExp(`refused every credential for user rgops \\(offered: key ${strangerKey}\\)`),
      ),
    });
  });

  it('logs in through a real ssh-agent holding a passphrase-protected key', async () => {
    await expect(whoami({ identityFiles: [lockedKey] })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/skipped .*id_locked \(encrypted\)/),
    });
    execFileSync('ssh-add', ['-q', fleet.clientKey], {
      env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
      stdio: 'ignore',
    });
    expect(await whoami({ identityFiles: [lockedKey], agentSocket })).toBe('rgops');
    expect(await whoami({ identityFiles: [], agentSocket })).toBe('rgops');
    // The agent's key comes after a refused key file.
    expect(await whoami({ identityFiles: [strangerKey], agentSocket })).toBe('rgops');
  });

  it('reports auth when the agent socket is dead and no key file works', async () => {
    await expect(
      whoami({ identityFiles: [strangerKey], agentSocket: join(dir, 'no-such-agent.sock') }),
    ).rejects.toMatchObject({ kind: 'auth' });
  });
});
