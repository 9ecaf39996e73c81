/**
 * The shipped playbooks run end to end with `rollgate run` against real sshd hosts whose change modules work in a
 * throwaway root (rollgate_root, Debian profile with test doubles). These hosts are not hypervisors: the snapshot
 * reads the machine itself (no IOMMU groups), so `snapshot` succeeds with some sources unknown and `verify` must
 * fail with one line per condition that does not hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, FLEET_PLAIN_USER, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import type { HostSnapshot } from '../../src/modules/facts/snapshot.js';
import { buildRoot, LAB_PCI, put, runDouble } from './support/fake-root.js';
import { removeRoot, tempRoot } from './support/module-host.js';
import { expectValidSnapshot } from '../helpers/snapshot-schema.js';

let fleet: SshdFleet;
let dir: string;
const roots: string[] = [];
const CLI = new URL('../../bin/rollgate.js', import.meta.url).pathname;
const shipped = (name: string) => new URL(`../../playbooks/${name}.yml`, import.meta.url).pathname;

function inventory(): string {
  const hosts = fleet.hosts
    .map((h, i) => `    ${h.name}:\n      ansible_port: ${h.port}\n      rollgate_root: ${roots[i]}\n`)
    .join('');
  return `all:
  vars:
    ansible_host: 127.0.0.1
    ansible_user: ${FLEET_ADMIN_USER}
    ansible_become: true
    ansible_ssh_private_key_file: ${fleet.clientKey}
    rollgate_known_hosts_file: ${fleet.knownHosts}
    rollgate_reboot_poll_seconds: 0.3
    boot_timeout: 30
    passthrough_devices: ["10de:1e87", "10de:10f8"]
  hosts:
${hosts}`;
}

function rollgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 120_000, cwd: dir, env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const inv = () => join(dir, 'inventory.yml');
const journalPath = () => join(dir, 'journal.db');
const recapLine = (stdout: string, host: string) =>
  stdout
    .split('\n')
    .find((l) => l.startsWith(`${host} `))
    ?.replace(/\s+/g, ' ');
const runIdOf = (stdout: string) => /run (\S+): journal/.exec(stdout)![1]!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rg-shipped-'));
  chmodSync(dir, 0o755); // sshd reads authorized_keys under it as the login user
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  for (let i = 0; i < 2; i++) {
    const r = tempRoot(`shipped${i}`);
    buildRoot(r, 'debian', { cpu: 'intel', pci: LAB_PCI });
    roots.push(r);
  }
  writeFileSync(inv(), inventory());
});

afterAll(async () => {
  await fleet?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every fact of a snapshot that is unknown, by path, with its reason. */
function unknownFacts(value: unknown, path = ''): Array<{ path: string; reason: string }> {
  if (value === null || typeof value !== 'object') return [];
  const v = value as Record<string, unknown>;
  if (v.status === 'unknown') return [{ path, reason: String(v.reason) }];
  if (v.status === 'ok') return [];
  return Object.entries(v).flatMap(([k, x]) => unknownFacts(x, `${path}.${k}`));
}

interface Event {
  type: string;
  host?: string;
  task?: string;
  status?: string;
  message?: string;
}
const eventsOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
const resultOf = (events: Event[], task: string, host: string) =>
  events.find((e) => e.type === 'task.result' && e.task === task && e.host === host);

/** The failed verify's message for `host` as the plain renderer prints it. */
function verifyFailure(stdout: string, host: string): string {
  const at = stdout.indexOf(`fatal: [${host}]: FAILED! => ${host}: `);
  expect(at, stdout).toBeGreaterThanOrEqual(0);
  return stdout.slice(at).split('\n\n')[0]!;
}

describe('shipped playbooks against real sshd hosts (not hypervisors)', () => {
  it("health-snapshot.yml writes every host's snapshot, journals it, and succeeds with unknown sources", async () => {
    const { code, stdout } = await rollgate([
      'run',
      shipped('health-snapshot'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '-e',
      'snapshot_dir=snaps/before',
    ]);
    expect(code, stdout).toBe(0);
    expect(recapLine(stdout, 'h02')).toBe('h02 : ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0');
    // The debug task lists the snapshot's error findings: this machine is no hypervisor.
    expect(stdout).toMatch(
      /TASK \[Errors the snapshot found\] \*+\nok: \[h0[12]\] => \[.*"no IOMMU is translating DMA on this host"/,
    );
    const snap = JSON.parse(readFileSync(join(dir, 'snaps/before/h02.json'), 'utf8')) as HostSnapshot;
    expectValidSnapshot(snap);
    expect(snap.host).toBe('h02');
    expect(snap.bootId).toEqual({
      status: 'ok',
      value: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    });
    // Not a hypervisor: some sources cannot be read here, and each says why.
    const unknown = unknownFacts(snap);
    expect(unknown.length, JSON.stringify(unknown)).toBeGreaterThan(0);
    for (const u of unknown) expect(u.reason, u.path).toMatch(/\S{3,}/);
    const journal = Journal.open(journalPath());
    try {
      const runId = runIdOf(stdout);
      expect(journal.firstSnapshot(runId, 'h01')).toMatchObject({
        phase: 'snapshot',
        data: { host: 'h01', bootId: snap.bootId },
      });
      const step = journal.listSteps(runId, 'h01').find((st) => st.task === 'Take the snapshot')!;
      expect(step.message).toMatch(
        new RegExp(
          `^snapshot in \\d+ ms, [1-9]\\d* source\\(s\\) unknown; \\d+ error\\(s\\), \\d+ warning\\(s\\); fix .* first; written to ${dir}/snaps/before/h01\\.json$`,
        ),
      );
    } finally {
      journal.close();
    }
  });

  it('health-snapshot.yml in check mode takes the snapshot but writes no file', async () => {
    const { code, stdout } = await rollgate([
      'run',
      shipped('health-snapshot'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h01',
      '--check',
      '-e',
      'snapshot_dir=snaps/check',
      '--json',
    ]);
    expect(code, stdout).toBe(0);
    expect(resultOf(eventsOf(stdout), 'Take the snapshot', 'h01')).toMatchObject({
      status: 'ok',
      message: expect.stringMatching(/; check mode: \S+snaps\/check\/h01\.json not written$/),
    });
    expect(existsSync(join(dir, 'snaps/check'))).toBe(false);
  });

  it('enable-iommu-passthrough.yml changes the kernel args, reboots, then verify fails naming each condition', async () => {
    const { code, stdout } = await rollgate([
      'run',
      shipped('enable-iommu-passthrough'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h01',
    ]);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/TASK \[Gathering Facts\] \*+\nok: \[h01\]/);
    expect(stdout).toMatch(/TASK \[Intel VT-d on, pass-through mode\] \*+\nchanged: \[h01\]/);
    expect(stdout).toMatch(/TASK \[Boot with the new command line\] \*+\nchanged: \[h01\]/);
    const msg = verifyFailure(stdout, 'h01');
    expect(msg).toMatch(/^fatal: \[h01\]: FAILED! => h01: \d of 5 condition\(s\) do not hold:$/m);
    expect(msg).toMatch(/^ {2}- iommu_enabled: wanted true, found disabled$/m);
    expect(msg).toMatch(/^ {2}- cmdline_present: wanted iommu=pt, found missing: iommu=pt\n {6}\/proc\/cmdline: /m);
    expect(msg).toMatch(/^ {2}- default_domain: wanted passthrough, found /m);
    expect(msg).toMatch(/^ {2}- interrupt_remapping: wanted true, found /m);
    expect(msg).not.toMatch(/no_new_dma_faults/);
    expect(readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8')).toContain(
      'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"',
    );
    expect(recapLine(stdout, 'h01')).toBe('h01 : ok=5 changed=2 unreachable=0 failed=1 skipped=1 rescued=0 ignored=0');
    const journal = Journal.open(journalPath());
    try {
      const runId = runIdOf(stdout);
      expect(journal.firstSnapshot(runId, 'h01')?.phase).toBe('snapshot');
      expect(journal.latestSnapshot(runId, 'h01')?.phase).toBe('verify');
    } finally {
      journal.close();
    }
  });

  it('onboard-passthrough.yml binds, rebuilds the initramfs, reboots, then verify fails on the devices and the IOMMU', async () => {
    const { code, stdout } = await rollgate([
      'run',
      shipped('onboard-passthrough'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h02',
    ]);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/TASK \[Bind the devices to vfio-pci at boot\] \*+\nchanged: \[h02\]/);
    expect(stdout).toMatch(/TASK \[Rebuild the initramfs with the vfio modules in it\] \*+\n(changed|ok): \[h02\]/);
    const msg = verifyFailure(stdout, 'h02');
    expect(msg).toMatch(/^ {2}- iommu_enabled: wanted true, found disabled$/m);
    expect(msg).toMatch(
      /^ {2}- drivers\[10de:1e87\]: wanted vfio-pci, found (no device 10de:1e87 on this host|unknown: .+)$/m,
    );
    expect(msg).toMatch(/^ {2}- drivers\[10de:10f8\]: wanted vfio-pci, found /m);
    expect(msg).toMatch(/^ {2}- vfio_in_initramfs: wanted true, found /m);
    expect(readFileSync(join(roots[1]!, 'etc/modprobe.d/rollgate-vfio.conf'), 'utf8')).toMatch(
      /options vfio-pci ids=10de:1e87,10de:10f8/,
    );
  });

  it('kernel-update.yml on the onboarded host installs the release, reboots, then verify fails because another kernel runs', async () => {
    const { code, stdout } = await rollgate([
      'run',
      shipped('kernel-update'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h02',
      '-e',
      'target_kernel=6.1.0-51-test',
    ]);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(
      /TASK \[Install the kernel release, or adopt the newest installed one\] \*+\nchanged: \[h02\]/,
    );
    expect(stdout).toMatch(/TASK \[The new kernel's initramfs carries the vfio modules\] \*+\n(changed|ok): \[h02\]/);
    const msg = verifyFailure(stdout, 'h02');
    expect(msg).toMatch(/^ {2}- kernel: wanted 6\.1\.0-51-test, found \S+\n {6}uname -r: /m);
    expect(msg).toMatch(/^ {2}- iommu_enabled: wanted true, found disabled$/m);
  });

  it('kernel-update.yml with the release installed but not running reboots into it again instead of "nothing to change"', async () => {
    // The previous test installed 6.1.0-51-test and rebooted, but the throwaway root still runs its old kernel.
    expect(readFileSync(join(roots[1]!, 'proc/sys/kernel/osrelease'), 'utf8')).not.toContain('6.1.0-51-test');
    const { code, stdout } = await rollgate([
      'run',
      shipped('kernel-update'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h02',
      '-e',
      'target_kernel=6.1.0-51-test',
    ]);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(
      /TASK \[Install the kernel release, or adopt the newest installed one\] \*+\nchanged: \[h02\]/,
    );
    expect(stdout).toMatch(/TASK \[Boot the new kernel\] \*+\nchanged: \[h02\]/);
    expect(readFileSync(join(roots[1]!, 'boot/grub/grubenv'), 'utf8')).toMatch(/^saved_entry=linux-6\.1\.0-51-test$/m);
    expect(verifyFailure(stdout, 'h02')).toMatch(/^ {2}- kernel: wanted 6\.1\.0-51-test, found /m);
  });

  it('kernel-update.yml without -e target_kernel adopts the newest installed kernel, boots it, and verify names it', async () => {
    // What unattended upgrades leave behind: a newer kernel installed, with its initramfs, but not running.
    put(roots[0]!, 'boot/vmlinuz-6.2.0-test', 'kernel image\n');
    put(roots[0]!, 'boot/initrd.img-6.2.0-test', 'initramfs\n');
    runDouble(roots[0]!, 'usr/sbin/update-grub', []); // the kernel package's postinst regenerates the menu
    const { code, stdout } = await rollgate([
      'run',
      shipped('kernel-update'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h01',
    ]);
    expect(stdout).not.toMatch(/undefined variable/);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(
      /TASK \[Install the kernel release, or adopt the newest installed one\] \*+\nchanged: \[h01\]/,
    );
    expect(stdout).toMatch(/TASK \[Boot the new kernel\] \*+\nchanged: \[h01\]/);
    const msg = verifyFailure(stdout, 'h01');
    expect(msg).toMatch(/^ {2}- kernel: wanted 6\.2\.0-test, found \S+\n {6}uname -r: /m);
  });

  it('previews onboard-passthrough.yml in check mode: verify is not judged and nothing fails', async () => {
    const { code, stdout } = await rollgate([
      'run',
      shipped('onboard-passthrough'),
      '-i',
      inv(),
      '--journal',
      journalPath(),
      '--limit',
      'h01',
      '--check',
      '--json',
    ]);
    expect(code, stdout).toBe(0);
    expect(
      resultOf(eventsOf(stdout), 'IOMMU active in pass-through mode and every device on vfio-pci', 'h01'),
    ).toMatchObject({
      status: 'skipped',
      message: expect.stringMatching(
        /^check mode: not judged \(earlier changes were only previewed\); now h01: \d of 7 condition\(s\) do not hold:\n {2}- iommu_enabled: wanted true, found disabled\n/,
      ),
    });
  });

  it('gather_facts: true exposes the snapshot and its findings to later tasks as `snapshot` and `findings`', async () => {
    writeFileSync(
      join(dir, 'facts.yml'),
      `- hosts: h01
  gather_facts: true
  tasks:
    - debug:
        msg: "kernel {{ snapshot.kernelRelease.value }} boot {{ snapshot.bootId.value }} findings {{ findings | map(attribute='rule') | join(',') }}"
`,
    );
    const { code, stdout } = await rollgate(['run', join(dir, 'facts.yml'), '-i', inv(), '--journal', journalPath()]);
    expect(code, stdout).toBe(0);
    const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(stdout).toMatch(
      new RegExp(
        `ok: \\[h01\\] => kernel ${release.replace(/\./g, '\\.')} boot ${bootId} findings \\S*iommu\\.not-active`,
      ),
    );
  });

  it('refuses a bad desired-state variable at its inventory file:line:col before contacting any host', async () => {
    const bad = join(dir, 'bad-inventory.yml');
    writeFileSync(
      bad,
      inventory().replace(
        '    passthrough_devices: ["10de:1e87", "10de:10f8"]\n',
        '    passthrough_devices: ["10de:1e87", "10de:10f8"]\n    iommu_mode: passthru\n',
      ),
    );
    const line =
      readFileSync(bad, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('iommu_mode')) + 1;
    const { code, stdout, stderr } = await rollgate([
      'run',
      shipped('health-snapshot'),
      '-i',
      bad,
      '--journal',
      journalPath(),
    ]);
    expect(code).toBe(2);
    expect(stdout).not.toContain('TASK [');
    expect(stderr).toContain(
      `${bad}:${line}:5: hosts \`h01\`, \`h02\`: iommu_mode "passthru" is not one of pt, translated, lazy. did you mean \`passthrough\`? write iommu_mode: pt (or translated, lazy)`,
    );
  });

  it('health-snapshot.yml as a user sudo refuses: the snapshot is taken unprivileged and says so', async () => {
    const plain = join(dir, 'plain-inventory.yml');
    writeFileSync(plain, inventory().replace(`ansible_user: ${FLEET_ADMIN_USER}`, `ansible_user: ${FLEET_PLAIN_USER}`));
    const { code, stdout } = await rollgate([
      'run',
      shipped('health-snapshot'),
      '-i',
      plain,
      '--journal',
      journalPath(),
      '--limit',
      'h02',
      '-e',
      'snapshot_dir=snaps/plain',
    ]);
    expect(code, stdout).toBe(0);
    const snap = JSON.parse(readFileSync(join(dir, 'snaps/plain/h02.json'), 'utf8')) as HostSnapshot;
    expectValidSnapshot(snap);
    expect(snap.privileged).toEqual({ status: 'ok', value: false });
    expect(snap.sources.sudo?.stderr).toMatch(/^ran unprivileged: .*sudo/);
  });
});
