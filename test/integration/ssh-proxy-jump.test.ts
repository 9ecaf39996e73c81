import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTargets } from '../../src/targets/resolve-target.js';
import { JumpHosts } from '../../src/connection/jump-hosts.js';
import { KnownHostsStore } from '../../src/connection/known-hosts-store.js';
import { SshConnection, type OpenOptions } from '../../src/connection/ssh.js';
import { parseSshConfig } from '../../src/targets/ssh-config.js';
import type { SshTarget } from '../../src/connection/target.js';
import { runOnFleet } from '../../src/executor/fleet.js';
import { removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { freePort } from '../../src/lab/sshd-host.js';
import { createNetns, type Netns } from './support/netns.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

// Every sshd here runs in a private network namespace, so nothing but the bridged outer bastion is reachable
// from the test: a target answers only through the bastion, and a direct attempt finds its port closed.
let ns: Netns;
let fleet: SshdFleet;
let dir: string;
let bastionPort: number;
let knownHosts: string;
const accepted = (i: number) =>
  (readFileSync(join(fleet.hosts[i]!.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;

beforeAll(async () => {
  dir = tempDir('jump');
  ns = createNetns('jump');
  // h01: outer bastion (bridged), h02: inner bastion, h03/h04: targets.
  fleet = await startSshdFleet({ count: 4, dir, netns: ns.name });
  bastionPort = await ns.bridge(fleet.hosts[0]!.port);
  knownHosts = join(dir, 'known_hosts_outside');
  const [outer] = fleet.hosts;
  writeFileSync(
    knownHosts,
    `[127.0.0.1]:${bastionPort} ${outer!.hostPublicKey}\n` + readFileSync(fleet.knownHosts, 'utf8'),
  );
});
afterAll(async () => {
  await fleet?.stop();
  await ns?.remove();
  removeFleetDir(dir);
});

const bastion = (): SshTarget =>
  hostTarget(fleet, fleet.hosts[0]!, { name: 'bastion', port: bastionPort, knownHostsFiles: [knownHosts] });
const inside = (i: number, proxyJump?: SshTarget): SshTarget => ({
  ...hostTarget(fleet, fleet.hosts[i]!, { knownHostsFiles: [knownHosts] }),
  ...(proxyJump ? { proxyJump } : {}),
});

async function hostname(t: SshTarget): Promise<string> {
  const conn = await SshConnection.open(t);
  try {
    return (await conn.exec('echo "$SSH_CONNECTION"')).stdout.trim();
  } finally {
    await conn.close();
  }
}

describe('ProxyJump through real sshd bastions', () => {
  it('cannot reach a target directly', async () => {
    await expect(SshConnection.open(inside(2))).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('reaches a target through the bastion, checking both host keys', async () => {
    expect(await hostname(inside(2, bastion()))).toMatch(new RegExp(` ${fleet.hosts[2]!.port}$`));
    const wrongBastionKey = join(dir, 'kh_without_bastion');
    writeFileSync(wrongBastionKey, readFileSync(fleet.knownHosts, 'utf8'));
    await expect(
      SshConnection.open({ ...inside(2), proxyJump: { ...bastion(), knownHostsFiles: [wrongBastionKey] } }),
    ).rejects.toMatchObject({
      kind: 'host_key',
      message: expect.stringMatching(/through jump host bastion: bastion: host key .* is not known/),
    });
  });

  it('follows a chain of two bastions', async () => {
    const inner = { ...inside(1, bastion()), name: 'inner' };
    expect(await hostname(inside(3, inner))).toMatch(new RegExp(` ${fleet.hosts[3]!.port}$`));
  });

  it('opens one bastion connection for every host behind it in a fleet run, resolved from ssh config', async () => {
    const sshConfig = parseSshConfig(
      [
        `Host bastion`,
        `  HostName 127.0.0.1`,
        `  Port ${bastionPort}`,
        `  User rgops`,
        `Host *`,
        `  IdentityFile ${fleet.clientKey}`,
      ].join('\n'),
      join(dir, 'ssh_config'),
    );
    const hosts = [2, 3].map((i) => ({
      name: fleet.hosts[i]!.name,
      origin: { file: 'hosts.yml', line: i, column: 1 },
      varOrigins: {},
      vars: {
        ansible_host: '127.0.0.1',
        ansible_port: fleet.hosts[i]!.port,
        ansible_user: 'rgops',
        rollgate_known_hosts_file: knownHosts,
        rollgate_proxy_jump: 'bastion',
      },
    }));
    const targets = resolveTargets(hosts, { sshConfig, agentSocket: '', globalKnownHostsFiles: [] });
    const before = accepted(0);
    const outcomes = await runOnFleet(targets, (conn) => conn.exec('echo ok'));
    expect(outcomes.map((o) => [o.status, o.value?.stdout])).toEqual([
      ['ok', 'ok\n'],
      ['ok', 'ok\n'],
    ]);
    expect(accepted(0) - before).toBe(1);
  });

  it('reuses a shared bastion connection only for hosts with the same known_hosts files and policy', async () => {
    const knownHostsStore = new KnownHostsStore();
    const shared: Required<OpenOptions> = {
      knownHosts: knownHostsStore,
      jumps: new JumpHosts((t) => SshConnection.open(t, shared)),
    };
    const first = await SshConnection.open(inside(2, bastion()), shared);
    const lacking = join(dir, 'kh_lacking_bastion');
    writeFileSync(lacking, readFileSync(fleet.knownHosts, 'utf8'));
    try {
      // Same bastion address, but this host's files do not vouch for the bastion key: a new check, refused.
      await expect(
        SshConnection.open(inside(3, { ...bastion(), knownHostsFiles: [lacking] }), shared),
      ).rejects.toMatchObject({
        kind: 'host_key',
        message: expect.stringMatching(/through jump host bastion: bastion: host key .* is not known/),
      });
      const before = accepted(0);
      const second = await SshConnection.open(inside(3, bastion()), shared);
      await second.close();
      expect(accepted(0) - before).toBe(0); // same trust settings: the open bastion connection carried it
    } finally {
      await first.close();
      await shared.jumps.closeAll();
    }
  });

  it('reports a target unreachable when its bastion is down', async () => {
    const down = { ...bastion(), port: await freePort() };
    await expect(SshConnection.open(inside(2, down))).rejects.toMatchObject({
      kind: 'unreachable',
      message: expect.stringMatching(/through jump host bastion/),
    });
  });
});
