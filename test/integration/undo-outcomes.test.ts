import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { SshConnection } from '../../src/connection/ssh.js';
import { Journal } from '../../src/journal/journal.js';
import { command } from '../../src/modules/actions/command.js';
import { kernelArgs } from '../../src/modules/actions/kernel-args.js';
import { connect, hashTree, moduleContext, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot, put } from './support/fake-root.js';
import { ensureBuilt, rollgate } from './support/cli.js';

let fleet: SshdFleet;
let dir: string;
let conn: SshConnection;
const roots: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  fleet = await startFleet(1);
  conn = await connect(fleet, 0);
  dir = tempRoot('undo-outcomes');
});
afterAll(async () => {
  await conn?.close();
  await fleet?.stop();
  roots.forEach(removeRoot);
  removeRoot(dir);
});

/** A Debian root with data that was there before any run: srv/data/precious. */
function debianRoot(label: string): string {
  const r = tempRoot(label);
  roots.push(r);
  buildRoot(r, 'debian');
  put(r, 'srv/data/precious', 'five years of measurements\n');
  return r;
}

function inventory(root: string, name: string): string {
  const path = join(dir, `${name}.yml`);
  const h = fleet.hosts[0]!;
  writeFileSync(
    path,
    `all:\n  hosts:\n    ${h.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      ansible_user: rgops\n      ansible_become: true\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n      rollgate_root: ${root}\n`,
  );
  return path;
}

/** Make the root's update-grub fail while /etc/default/grub asks for iommu=pt (a refresh that breaks mid-change). */
function breakUpdateGrubFor(root: string): void {
  const script = `#!/bin/sh\nif grep -q 'iommu=pt' "$ROLLGATE_ROOT/etc/default/grub"; then echo 'update-grub: simulated failure' >&2; exit 1; fi\nexec "$ROLLGATE_ROOT/usr/sbin/grub-mkconfig" -o /boot/grub/grub.cfg\n`;
  writeFileSync(join(root, 'usr/sbin/update-grub'), script, { mode: 0o755 });
}

const PLAY = `- hosts: all
  tasks:
    - name: make the scratch dir
      command:
        cmd: mkdir {{ rollgate_root }}/srv/scratch
        undo: rm -rf {{ rollgate_root }}/srv/scratch
    - name: kernel args
      kernel_args: { present: [iommu=pt] }
      ignore_errors: true
    - name: make the data dir
      command:
        cmd: mkdir {{ rollgate_root }}/srv/data
        undo: rm -rf {{ rollgate_root }}/srv/data
`;

describe('undo undoes only what happened', () => {
  it('a failed mkdir keeps the directory that was there; a failed file change is restored byte for byte; an applied command gets its undo', async () => {
    const r = debianRoot('outcomes');
    breakUpdateGrubFor(r);
    const pristine = hashTree(r);
    const playbook = join(dir, 'play.yml');
    writeFileSync(playbook, PLAY);
    const journal = join(dir, 'outcomes.db');
    const run = await rollgate(['run', playbook, '-i', inventory(r, 'outcomes'), '--journal', journal]);
    expect(run.code).toBe(1);
    expect(existsSync(join(r, 'srv/scratch'))).toBe(true);
    expect(readFileSync(join(r, 'etc/default/grub'), 'utf8')).toContain('iommu=pt');
    const runId = /run (\S+): journal/.exec(run.stdout)![1]!;
    expect(run.stdout).toContain(
      `\n${fleet.hosts[0]!.name} failed after this run changed it; to put back what it changed there:\n  rollgate undo ${runId} --limit ${fleet.hosts[0]!.name} --journal ${journal}\n`,
    );
    const j = Journal.open(journal);
    expect(j.listSteps(runId).map((s) => [s.task, s.status])).toEqual([
      ['make the scratch dir', 'applied'],
      ['kernel args', 'failed'],
      ['make the data dir', 'failed'],
    ]);
    j.close();

    const undo = await rollgate(['undo', runId, '--journal', journal]);
    expect(existsSync(join(r, 'srv/data/precious'))).toBe(true);
    expect(existsSync(join(r, 'srv/scratch'))).toBe(false);
    expect(hashTree(r)).toBe(pristine);
    expect(undo.stderr).toBe('');
    expect(undo.code).toBe(0);
    expect(undo.stdout).toMatch(
      /^h\S+ {2}undone {2}3 step\(s\) {2}restored 1 file\(s\), ran 2 undo command\(s\), held back 1/m,
    );
    expect(undo.stdout).toContain(`held back: rm -rf ${r}/srv/data (step `);
    expect(undo.stdout).toContain(
      '"make the data dir" did not finish (failed): this undo command assumes the change happened)',
    );
  });

  it('a step interrupted mid-apply gets its file bytes back, never its undo command; its re-derivations run only if a file had changed', async () => {
    const r = debianRoot('pending');
    const pristine = hashTree(r);
    const journal = join(dir, 'pending.db');
    const j = Journal.open(journal);
    const run = j.createRun({ kind: 'run', inventory: [inventory(r, 'pending')] });
    const ctx = moduleContext(conn, { rollgate_root: r });
    // kernel_args: undo recorded, file written, then the controller died before update-grub ran.
    const written = j.beginStep(run.id, conn.host, { task: 'kernel args', module: 'kernel_args' });
    const args = await kernelArgs.check(ctx, { present: ['iommu=pt'] });
    if (args.status !== 'change') throw new Error('expected a change');
    j.recordUndo(written, args.undo);
    writeFileSync(join(r, 'etc/default/grub'), args.change.writes[0]!.content!);
    // A command interrupted mid-run: whether its mkdir happened is unknown, so its `rm -rf` must not run.
    const mkdirStep = j.beginStep(run.id, conn.host, { task: 'make the data dir', module: 'command' });
    const made = await command.check(ctx, { cmd: `mkdir ${r}/srv/data`, undo: `rm -rf ${r}/srv/data` });
    if (made.status !== 'change') throw new Error('expected a change');
    j.recordUndo(mkdirStep, made.undo);
    j.db.prepare('UPDATE runs SET controller = ? WHERE id = ?').run(`${hostname()}:999999999`, run.id);
    j.close();

    const undo = await rollgate(['undo', run.id, '--journal', journal, '--json']);
    expect(existsSync(join(r, 'srv/data/precious'))).toBe(true);
    expect(hashTree(r)).toBe(pristine);
    expect(undo.code).toBe(0);
    const host = JSON.parse(undo.stdout).hosts[0];
    expect(host.status).toBe('undone');
    expect(host.report.restored).toEqual([join(r, 'etc/default/grub')]);
    expect(host.report.commands.map((c: { command: string }) => c.command)).toEqual([
      expect.stringMatching(/update-grub$/),
    ]);
    expect(host.report.skipped).toEqual([
      {
        command: `rm -rf ${r}/srv/data`,
        reason: `step ${mkdirStep} "make the data dir" did not finish (pending): this undo command assumes the change happened`,
      },
    ]);
  });

  it('a pending step whose files were never written runs no re-derivation', async () => {
    const r = debianRoot('untouched');
    mkdirSync(join(r, 'var/log'), { recursive: true });
    const journal = join(dir, 'untouched.db');
    const j = Journal.open(journal);
    const run = j.createRun({ kind: 'run', inventory: [inventory(r, 'untouched')] });
    const id = j.beginStep(run.id, conn.host, { task: 'kernel args', module: 'kernel_args' });
    const args = await kernelArgs.check(moduleContext(conn, { rollgate_root: r }), { present: ['iommu=pt'] });
    if (args.status !== 'change') throw new Error('expected a change');
    j.recordUndo(id, args.undo);
    j.db.prepare('UPDATE runs SET controller = ? WHERE id = ?').run(`${hostname()}:999999999`, run.id);
    j.close();
    const pristine = hashTree(r);
    const undo = await rollgate(['undo', run.id, '--journal', journal, '--json']);
    expect(undo.code).toBe(0);
    const report = JSON.parse(undo.stdout).hosts[0].report;
    expect(report.restored).toEqual([]);
    expect(report.commands).toEqual([]);
    expect(report.skipped).toEqual([
      {
        command: expect.stringMatching(/update-grub$/),
        reason: `step ${id} "kernel args" did not finish (pending) and restoring its files changed no bytes: nothing to re-derive`,
      },
    ]);
    expect(hashTree(r)).toBe(pristine);
  });
});
