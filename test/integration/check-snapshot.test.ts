import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeFleetDir, startSshdFleet, FLEET_PLAIN_USER, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { checkFleet } from '../../src/executor/check-run.js';
import { collectSnapshot } from '../../src/modules/facts/collect.js';
import { SshConnection } from '../../src/connection/ssh.js';
import { desiredStateFrom } from '../../src/modules/findings/desired.js';
import { main } from '../../src/cli/main.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';
import { expectValidSnapshot } from '../helpers/snapshot-schema.js';

let fleet: SshdFleet;
let dir: string;

beforeAll(async () => {
  dir = tempDir('check');
  fleet = await startSshdFleet({ count: 2, dir });
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

async function captureStdout(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const chunks: string[] = [];
  const errs: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (errs.push(String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), out: chunks.join(''), err: errs.join('') };
  } finally {
    process.stdout.write = orig;
    process.stderr.write = origErr;
  }
}

/** One host of a YAML inventory reaching a fleet host as the sudo user, with extra variable lines. */
function inventoryHost(name: string, h: SshdFleet['hosts'][number], extra: string[], indent: string): string {
  const vars = [
    `ansible_host: ${h.address}`,
    `ansible_port: ${h.port}`,
    'ansible_user: rgops',
    'ansible_become: true',
    `ansible_ssh_private_key_file: ${fleet.clientKey}`,
    `rollgate_known_hosts_file: ${fleet.knownHosts}`,
    ...extra,
  ];
  return `${indent}${name}:\n` + vars.map((l) => `${indent}  ${l}\n`).join('');
}

describe('rollgate check against real sshd hosts (not hypervisors)', () => {
  it('reads only the facts asked for (a rollout plan telling kinds apart), the rest unknown', async () => {
    const conn = await SshConnection.open(hostTarget(fleet, fleet.hosts[0]!, { become: true }));
    try {
      const full = await collectSnapshot(conn, { name: 'h0' });
      const few = await collectSnapshot(conn, { name: 'h0' }, { only: ['dmi', 'cpuinfo', 'lspci'] });
      expect(Object.keys(few.sources).sort()).toEqual(['cpuinfo', 'dmi', 'lspci']);
      expect(few.cpu).toEqual(full.cpu);
      expect(few.hardware).toEqual(full.hardware);
      expect(few.pci).toEqual(full.pci);
      expect(few.cpu.status).toBe('ok');
      expect(few.kernelRelease.status).toBe('unknown');
      expect(full.kernelRelease.status).toBe('ok');
      expect(Object.keys(full.sources).length).toBeGreaterThan(20);
    } finally {
      await conn.close();
    }
  });

  it('gathers a snapshot in one command per host, as root and unprivileged, with unknown sources explained', async () => {
    const desired = desiredStateFrom('x', { passthrough_devices: ['8086:10d3'], iommu_mode: 'pt' }).desired;
    const outcomes = await checkFleet([
      { target: hostTarget(fleet, fleet.hosts[0]!, { become: true }), desired },
      { target: hostTarget(fleet, fleet.hosts[1]!, { become: true, user: FLEET_PLAIN_USER }), desired },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    const [root, plain] = outcomes.map((o) => o.value!);
    for (const { snapshot } of [root!, plain!]) {
      expectValidSnapshot(snapshot);
      expect(snapshot.kernelRelease).toEqual({ status: 'ok', value: execFileSync('uname', ['-r']).toString().trim() });
      expect(snapshot.bootId).toEqual({
        status: 'ok',
        value: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      });
      // Every source either parsed or says why not, in the host's words.
      for (const [name, k] of Object.entries({
        pci: snapshot.pci,
        initramfs: snapshot.modules.initramfs,
        lockdown: snapshot.security.lockdown,
        prev: snapshot.previousBoot,
      }))
        if (k.status === 'unknown') expect(k.reason, name).toMatch(/\S{3,}/);
    }
    expect(root!.snapshot.privileged).toEqual({ status: 'ok', value: true });
    expect(plain!.snapshot.privileged).toEqual({ status: 'ok', value: false });
    expect(plain!.snapshot.sources.sudo?.stderr).toMatch(/^ran unprivileged: .*sudo/);
    // The report decides what it can and says why it cannot decide the rest.
    expect(root!.report.undecided.length).toBeGreaterThan(0);
    for (const u of root!.report.undecided) expect(u.reason.length).toBeGreaterThan(5);
  });

  it('prints JSON for every host through the CLI and writes one snapshot per host', async () => {
    const inv = join(dir, 'hosts.yml');
    const hostVars = (h: (typeof fleet.hosts)[number]) =>
      inventoryHost(h.name, h, ['passthrough_devices: ["8086:10d3"]'], '        ');
    writeFileSync(inv, `all:\n  children:\n    hv:\n      hosts:\n${fleet.hosts.map(hostVars).join('')}`);
    const { code, out, err } = await captureStdout(() => main(['node', 'rollgate', 'check', '-i', inv, '--json']));
    expect(err).toBe('');
    const doc = JSON.parse(out) as {
      hosts: Array<{ host: string; status: string; snapshot: unknown; report: { summary: string } }>;
    };
    expect(doc.hosts.map((h) => [h.host, h.status])).toEqual(fleet.hosts.map((h) => [h.name, 'ok']));
    for (const h of doc.hosts) expectValidSnapshot(h.snapshot);
    expect([0, 1]).toContain(code);

    const outDir = join(dir, 'snaps');
    const snap = await captureStdout(() =>
      main(['node', 'rollgate', 'snapshot', '-i', inv, '-o', outDir, '--limit', fleet.hosts[0]!.name]),
    );
    expect(snap.code).toBe(0);
    expect(readdirSync(outDir)).toEqual([`${fleet.hosts[0]!.name}.json`]);
    const diff = await captureStdout(() =>
      main([
        'node',
        'rollgate',
        'diff',
        join(outDir, `${fleet.hosts[0]!.name}.json`),
        join(outDir, `${fleet.hosts[0]!.name}.json`),
      ]),
    );
    expect(diff.out).toMatch(/same boot, 0 change\(s\), 0 regression\(s\)/);
    expect(diff.code).toBe(0);
  });

  it("shows the hypervisor's guests through a real virsh (libvirt's test driver) and keeps a hostile URI quoted", async () => {
    const h = fleet.hosts[0]!;
    const node = join(process.cwd(), 'test/fixtures/formats/libvirt/node.xml');
    const pwned = join(dir, 'PWNED');
    const inv = join(dir, 'guests.yml');
    const host = (name: string, uri: string) =>
      inventoryHost(name, h, [`rollgate_libvirt_uri: ${JSON.stringify(uri)}`], '    ');
    writeFileSync(
      inv,
      `all:\n  hosts:\n${host('hv-guests', `test://${node}`)}${host('hv-hostile', `test:///x'; touch ${pwned}; echo '$(touch ${pwned})`)}`,
    );
    const { out } = await captureStdout(() => main(['node', 'rollgate', 'check', '-i', inv]));
    const [withGuests, hostile] = out.split(/\n(?=hv-hostile:)/);
    expect(withGuests).toContain(
      `guests (test://${node}): movable running; pt running [0000:01:00.0]; stopped pt shut off [0000:00:02.0 unmanaged]; node devices unknown (error: Failed to list node devices`,
    );
    expect(withGuests).toMatch(/info {2}\[guests\] guests\.holds-device: running guest pt holds 0000:01:00\.0/);
    expect(hostile).toMatch(/guests unknown \(.*(error|cannot|failed)/i);
    expect(existsSync(pwned)).toBe(false);

    const outDir = join(dir, 'guest-snaps');
    expect(
      (
        await captureStdout(() =>
          main(['node', 'rollgate', 'snapshot', '-i', inv, '-o', outDir, '--limit', 'hv-guests']),
        )
      ).code,
    ).toBe(0);
    const snap = JSON.parse(readFileSync(join(outDir, 'hv-guests.json'), 'utf8')) as {
      guests: { status: string; value: { domains: unknown[] } };
    };
    expectValidSnapshot(snap);
    expect(snap.guests.value.domains).toHaveLength(3);
  });

  it('refuses bad passthrough_devices before contacting any host', async () => {
    const inv = join(dir, 'bad.yml');
    writeFileSync(
      inv,
      `all:\n  hosts:\n    hv1:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n      passthrough_devices: ["nvidia"]\n`,
    );
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string | Uint8Array) => (errs.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'rollgate', 'check', '-i', inv])).toBe(2);
    } finally {
      process.stderr.write = orig;
    }
    expect(errs.join('')).toMatch(/passthrough_devices entry "nvidia" is not a vendor:device id/);
  });
});
