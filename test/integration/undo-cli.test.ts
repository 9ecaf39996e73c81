import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { SshConnection } from '../../src/connection/ssh.js';
import { Journal } from '../../src/journal/journal.js';
import type { ActionModule } from '../../src/modules/module.js';
import { kernelArgs } from '../../src/modules/actions/kernel-args.js';
import { vfioBind } from '../../src/modules/actions/vfio-bind.js';
import { initramfs } from '../../src/modules/actions/initramfs.js';
import { driverBlacklist } from '../../src/modules/actions/driver-blacklist.js';
import { connect, hashTree, moduleContext, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot, LAB_PCI } from './support/fake-root.js';
import { ensureBuilt, rollgate } from './support/cli.js';

let fleet: SshdFleet;
let dir: string;
const roots: string[] = [];
const conns: SshConnection[] = [];

function inventory(rootsByHost: Record<string, string>): string {
  const path = join(dir, 'hosts.yml');
  const hosts = fleet.hosts
    .map((h) => `    ${h.name}:\n      ansible_port: ${h.port}\n      rollgate_root: ${rootsByHost[h.name]}\n`)
    .join('');
  writeFileSync(
    path,
    `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: rgops\n    ansible_become: true\n    ansible_ssh_private_key_file: ${fleet.clientKey}\n    rollgate_known_hosts_file: ${fleet.knownHosts}\n  hosts:\n${hosts}`,
  );
  return path;
}

/** One step as a runner journals it: pending, undo recorded before apply, then applied (unless `crash`). */
async function step<A>(
  j: Journal,
  runId: string,
  conn: SshConnection,
  root: string,
  mod: ActionModule<A, any>,
  args: A,
  crash?: 'before_apply' | 'after_apply',
): Promise<number> {
  const ctx = moduleContext(conn, { rollgate_root: root });
  const id = j.beginStep(runId, conn.host, { task: mod.name, module: mod.name, args: args as Record<string, unknown> });
  const out = await mod.check(ctx, args);
  if (out.status !== 'change') throw new Error(`${mod.name}: expected a change`);
  j.recordUndo(id, out.undo);
  if (crash === 'before_apply') return id;
  await mod.apply(ctx, args, out.change);
  if (crash !== 'after_apply') j.finishStep(id, { status: 'applied' });
  return id;
}

beforeAll(async () => {
  ensureBuilt();
  fleet = await startFleet(2);
  dir = tempRoot('undo-cli');
});
afterAll(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await fleet?.stop();
  roots.forEach(removeRoot);
  removeRoot(dir);
});

describe('rollgate undo against real sshd hosts', () => {
  it('undoes an interrupted run from the journal alone, to byte-identical roots', async () => {
    const [r1, r2] = [tempRoot('undo-h1'), tempRoot('undo-h2')];
    roots.push(r1, r2);
    buildRoot(r1, 'debian', { pci: LAB_PCI });
    buildRoot(r2, 'debian', { pci: LAB_PCI });
    const inv = inventory({ h01: r1, h02: r2 });
    const pristine = [hashTree(r1, ['sys']), hashTree(r2, ['sys'])];
    const journalPath = join(dir, 'journal.db');

    const j = Journal.open(journalPath);
    const run = j.createRun({ kind: 'run', playbook: 'onboard-passthrough.yml', inventory: [inv] });
    const [c1, c2] = [await connect(fleet, 0), await connect(fleet, 1)];
    conns.push(c1, c2);
    await step(j, run.id, c1, r1, kernelArgs, { present: ['intel_iommu=on', 'iommu=pt'] });
    await step(j, run.id, c1, r1, vfioBind, { ids: ['10de:1e87', '10de:10f8'] }, 'after_apply');
    await step(j, run.id, c1, r1, initramfs, {}, 'before_apply');
    await step(j, run.id, c2, r2, kernelArgs, { present: ['intel_iommu=on'] });
    await step(j, run.id, c2, r2, driverBlacklist, { drivers: ['nouveau'] }, 'before_apply');
    expect(hashTree(r1, ['sys'])).not.toBe(pristine[0]);
    j.close();

    // The controller that wrote the run is alive (this process): undo refuses.
    const busy = await rollgate(['undo', run.id, '--journal', journalPath]);
    expect(busy.code).toBe(5);
    expect(busy.stderr).toContain(`run ${run.id} is still in progress`);

    // It dies: its pid is gone. Undo with no -i uses the inventory the run recorded.
    const k = Journal.open(journalPath);
    k.db.prepare('UPDATE runs SET controller = ? WHERE id = ?').run(`${hostname()}:999999999`, run.id);
    k.close();
    const undo = await rollgate(['undo', run.id, '--journal', journalPath]);
    expect(undo.stderr).toBe('');
    expect(undo.code).toBe(0);
    expect(undo.stdout).toMatch(/^h01 {2}undone {2}3 step\(s\)/m);
    expect(undo.stdout).toMatch(/^h02 {2}undone {2}2 step\(s\)/m);
    expect([hashTree(r1, ['sys']), hashTree(r2, ['sys'])]).toEqual(pristine);

    const again = await rollgate(['undo', run.id, '--journal', journalPath]);
    expect(again.stdout).toMatch(/^h01 {2}nothing_to_undo/m);
    const after = Journal.open(journalPath);
    const listed = after.listRuns();
    after.close();
    expect(listed.find((r) => r.id === run.id)?.status).toBe('rolled_back');
    expect(listed.filter((r) => r.kind === 'undo' && r.parentRunId === run.id).map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
  });

  it('undoes only the hosts --limit selects, and refuses hosts another run has locked', async () => {
    const [r1, r2] = [tempRoot('undo-l1'), tempRoot('undo-l2')];
    roots.push(r1, r2);
    buildRoot(r1, 'debian');
    buildRoot(r2, 'debian');
    const inv = inventory({ h01: r1, h02: r2 });
    const pristine2 = hashTree(r2);
    const journalPath = join(dir, 'journal-limit.db');
    const j = Journal.open(journalPath);
    const run = j.createRun({ kind: 'run', inventory: [inv] });
    const [c1, c2] = [await connect(fleet, 0), await connect(fleet, 1)];
    conns.push(c1, c2);
    await step(j, run.id, c1, r1, kernelArgs, { present: ['iommu=pt'] });
    await step(j, run.id, c2, r2, kernelArgs, { present: ['iommu=pt'] });
    j.finishRun(run.id, 'failed');
    await j
      .fleetLock()
      .acquireHostLocks('someone-else', [{ host: 'h02', machine: `addr:127.0.0.1:${fleet.hosts[1]!.port}` }]);
    j.close();

    const locked = await rollgate(['undo', run.id, '--journal', journalPath, '-i', inv]);
    expect(locked.code).toBe(5);
    expect(locked.stderr).toContain(
      `hosts locked:\nh02 (127.0.0.1:${fleet.hosts[1]!.port}) is locked by run someone-else: run someone-else is not in this journal: \`rollgate unlock someone-else --host h02\` releases its lock\n`,
    );

    const one = await rollgate(['undo', run.id, '--journal', journalPath, '-i', inv, '--limit', 'h02', '--json']);
    expect(one.code).toBe(5);
    const k = Journal.open(journalPath);
    await k.fleetLock().releaseHostLocks('someone-else');
    k.close();
    const limited = await rollgate(['undo', run.id, '--journal', journalPath, '-i', inv, '--limit', 'h02', '--json']);
    expect(limited.code).toBe(0);
    expect(JSON.parse(limited.stdout).hosts.map((h: { host: string; status: string }) => [h.host, h.status])).toEqual([
      ['h02', 'undone'],
    ]);
    expect(hashTree(r2)).toBe(pristine2);
    expect(hashTree(r1)).not.toBe(hashTree(r2));
  });

  it('reports bad input before touching a host', async () => {
    const missing = await rollgate(['undo', 'no-such-run', '--journal', join(dir, 'empty.db')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no run no-such-run in');
  });
});
