/**
 * `rollgate run` end to end against real sshd hosts: the CLI as a child process, real SSH with strict host keys,
 * the real change modules working under a throwaway host root per host (rollgate_root), the journal on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { buildRoot, LAB_PCI } from './support/fake-root.js';
import { hashTree, removeRoot, tempRoot } from './support/module-host.js';

let fleet: SshdFleet;
let dir: string;
const roots: string[] = [];
const CLI = new URL('../../bin/rollgate.js', import.meta.url).pathname;

const playbook = `# yaml-language-server: $schema=../schemas/playbook.schema.json
- name: passthrough basics
  hosts: all
  vars:
    args: [intel_iommu=on, iommu=pt]
  tasks:
    - name: kernel args
      kernel_args:
        present: "{{ args }}"
      notify: announce
    - name: marker
      command:
        cmd: touch {{ rollgate_root }}/etc/rollgate-marker
        creates: /etc/rollgate-marker
        undo: rm -f {{ rollgate_root }}/etc/rollgate-marker
    - name: read grub defaults
      command: grep -c iommu=pt {{ rollgate_root }}/etc/default/grub
      register: grub
      changed_when: false
      failed_when: grub.rc > 1
      check_mode: false
    - name: fail on request
      fail: { msg: "asked to fail" }
      when: fail_here | default(false) | bool
  handlers:
    - name: announce
      debug: { msg: "kernel args changed on {{ inventory_hostname }}" }
`;

function inventory(extraHosts = ''): string {
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
  hosts:
${hosts}${extraHosts}`;
}

function rollgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 60_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const files = () => ({
  playbook: join(dir, 'play.yml'),
  inventory: join(dir, 'inventory.yml'),
  journal: join(dir, 'journal.db'),
});
const recapLine = (stdout: string, host: string) =>
  stdout
    .split('\n')
    .find((l) => l.startsWith(`${host} `))
    ?.replace(/\s+/g, ' ');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rg-run-'));
  chmodSync(dir, 0o755); // sshd reads authorized_keys under it as the login user
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  for (let i = 0; i < 2; i++) {
    const r = tempRoot(`run${i}`);
    buildRoot(r, 'debian', { cpu: 'intel', pci: LAB_PCI });
    roots.push(r);
  }
  writeFileSync(files().playbook, playbook);
  writeFileSync(files().inventory, inventory());
});

afterAll(async () => {
  await fleet?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rollgate run against real sshd hosts', () => {
  it('previews in check mode with diffs and changes nothing', async () => {
    const before = roots.map((r) => hashTree(r));
    const { code, stdout } = await rollgate([
      'run',
      files().playbook,
      '-i',
      files().inventory,
      '--journal',
      files().journal,
      '--check',
      '--diff',
    ]);
    expect(code).toBe(0);
    expect(roots.map((r) => hashTree(r))).toEqual(before);
    expect(stdout).toContain('TASK [kernel args] ***');
    expect(stdout).toContain('+GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"');
    expect(stdout).toContain('-GRUB_CMDLINE_LINUX=""');
    expect(stdout).toMatch(/command: ROLLGATE_ROOT=\S+ \S+\/usr\/sbin\/update-grub/);
    expect(stdout).toContain(`command: touch ${roots[0]}/etc/rollgate-marker`);
    expect(recapLine(stdout, 'h01')).toBe('h01 : ok=3 changed=1 unreachable=0 failed=0 skipped=2 rescued=0 ignored=0');
  });

  it('applies the play with a recap, runs the handler, journals every undo; a second run changes nothing', async () => {
    const first = await rollgate(['run', files().playbook, '-i', files().inventory, '--journal', files().journal]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('RUNNING HANDLER [announce]');
    expect(first.stdout).toContain('ok: [h01] => kernel args changed on h01');
    for (const r of roots) {
      expect(readFileSync(join(r, 'etc/default/grub'), 'utf8')).toContain(
        'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"',
      );
      expect(existsSync(join(r, 'etc/rollgate-marker'))).toBe(true);
    }
    expect(recapLine(first.stdout, 'h01')).toBe(
      'h01 : ok=4 changed=2 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0',
    );
    const runId = /run (\S+): journal/.exec(first.stdout)![1]!;
    const journal = Journal.open(files().journal);
    try {
      expect(journal.getRun(runId)).toMatchObject({ kind: 'run', status: 'succeeded' });
      // Newest first, as undo replays them; the read-only command ran too (check_mode: false), with an empty undo.
      expect(
        journal.undoableSteps(runId, 'h02').map((s) => [s.task, s.undo.rebuild.length, s.undo.reverse?.length ?? 0]),
      ).toEqual([
        ['read grub defaults', 0, 0],
        ['marker', 0, 1],
        ['kernel args', 1, 0],
      ]);
    } finally {
      journal.close();
    }
    const second = await rollgate(['run', files().playbook, '-i', files().inventory, '--journal', files().journal]);
    expect(second.code).toBe(0);
    expect(recapLine(second.stdout, 'h01')).toBe(
      'h01 : ok=3 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0',
    );
    expect(recapLine(second.stdout, 'h02')).toBe(
      'h02 : ok=3 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0',
    );
  });

  it('exits 1 when a host fails and 4 when a host is unreachable, still running the others', async () => {
    const failing = await rollgate([
      'run',
      files().playbook,
      '-i',
      files().inventory,
      '--journal',
      files().journal,
      '--limit',
      'h02',
      '-e',
      'fail_here=yes',
      '--json',
    ]);
    expect(failing.code).toBe(1);
    const events = failing.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; host?: string; task?: string; status?: string; message?: string });
    expect(events.find((e) => e.type === 'task.result' && e.task === 'fail on request')).toMatchObject({
      host: 'h02',
      status: 'failed',
      message: 'asked to fail',
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', failed: true });

    const port = await closedPort();
    writeFileSync(join(dir, 'with-down.yml'), inventory(`    down:\n      ansible_port: ${port}\n`));
    const down = await rollgate([
      'run',
      files().playbook,
      '-i',
      join(dir, 'with-down.yml'),
      '--journal',
      files().journal,
    ]);
    expect(down.code).toBe(4);
    expect(down.stdout).toMatch(/fatal: \[down\]: UNREACHABLE! => /);
    expect(recapLine(down.stdout, 'down')).toBe(
      'down : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0',
    );
    expect(recapLine(down.stdout, 'h01')).toBe(
      'h01 : ok=3 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0',
    );
  });

  it('previews the shipped enable-iommu-passthrough.yml: vendor read from the host, kernel args for that vendor', async () => {
    const shipped = new URL('../../playbooks/enable-iommu-passthrough.yml', import.meta.url).pathname;
    const before = roots.map((r) => hashTree(r));
    const { code, stdout } = await rollgate([
      'run',
      shipped,
      '-i',
      files().inventory,
      '--journal',
      files().journal,
      '--check',
      '--diff',
      '--tags',
      'kernel_args',
      '--limit',
      'h01',
    ]);
    expect(code).toBe(0);
    expect(roots.map((r) => hashTree(r))).toEqual(before);
    // The real run above already wrote intel_iommu=on iommu=pt: the Intel task has nothing left to do.
    expect(stdout).toMatch(/TASK \[Intel VT-d on, pass-through mode\] \*+\nok: \[h01\]/);
    expect(stdout).toMatch(/TASK \[AMD-Vi on, pass-through mode\] \*+\nskipping: \[h01\]/);
    expect(stdout).toMatch(/TASK \[Gathering Facts\] \*+\nok: \[h01\]/); // the baseline snapshot, read-only, taken in check mode too
    expect(recapLine(stdout, 'h01')).toBe('h01 : ok=4 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0');
  });

  it('reboots through a fresh SSH login (boot_id changed) and runs the next tasks on the new connection', async () => {
    writeFileSync(
      join(dir, 'reboot.yml'),
      `- hosts: h02
  vars:
    rollgate_reboot_poll_seconds: 0.3
  tasks:
    - command: cat {{ rollgate_root }}/proc/sys/kernel/random/boot_id
      register: before
      changed_when: false
    - reboot: { reason: test, boot_timeout: 30 }
      register: rebooted
    - command: cat {{ rollgate_root }}/proc/sys/kernel/random/boot_id
      register: after
      changed_when: false
    - assert:
        that:
          - after.stdout != before.stdout
          - after.stdout == rebooted.boot_id
`,
    );
    const { code, stdout } = await rollgate([
      'run',
      join(dir, 'reboot.yml'),
      '-i',
      files().inventory,
      '--journal',
      files().journal,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/TASK \[reboot\] \*+\nchanged: \[h02\]/);
    expect(recapLine(stdout, 'h02')).toBe('h02 : ok=4 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0');
  });

  it('refuses bad input before contacting any host', async () => {
    writeFileSync(join(dir, 'bad.yml'), '- hots: all\n  tasks:\n    - kernel_arg: { present: [iommu=pt] }\n');
    const bad = await rollgate(['run', join(dir, 'bad.yml'), '-i', files().inventory, '--journal', files().journal]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `${join(dir, 'bad.yml')}:1:3: unknown key \`hots\` in a play. did you mean \`hosts\`?\n${join(dir, 'bad.yml')}:3:7: unknown module \`kernel_arg\`. did you mean \`kernel_args\`?\n`,
    );
  });
});
