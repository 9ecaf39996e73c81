import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, rollgate } from './support/cli.js';
import { Journal } from '../../src/journal/journal.js';

// Bad input to `rollgate rollout` / `resume` is refused with exit 2 before any host is contacted (the hosts here
// do not exist: contacting one would be a different failure).
let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-rollout-cli-'));
  writeFileSync(
    join(dir, 'inv.yml'),
    'all:\n  hosts:\n    hv1: {ansible_host: 127.0.0.1, ansible_port: 1}\n    hv2: {ansible_host: 127.0.0.1, ansible_port: 1, rollgate_cluster: rack7, rollgate_max_down: 0}\n',
  );
  writeFileSync(join(dir, 'ok.yml'), '- hosts: all\n  tasks:\n    - kernel_args: { present: [iommu=pt] }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollgate rollout refuses bad input before any host', () => {
  it('names the inventory variable that caps a cluster wrongly', async () => {
    const r = await rollgate([
      'rollout',
      join(dir, 'ok.yml'),
      '-i',
      join(dir, 'inv.yml'),
      '--journal',
      join(dir, 'j.db'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      // Checked at load time with the other declared host variables (core/host-vars.ts), at the value's position.
      `${join(dir, 'inv.yml')}:4:97: \`rollgate_max_down\` must be at least 1, not 0. e.g. \`rollgate_max_down: 1\` (the default when rollgate_cluster is set)\n`,
    );
  });

  it('takes one play only, and a rollout: mapping it understands', async () => {
    writeFileSync(
      join(dir, 'two.yml'),
      '- hosts: all\n  tasks: [{ debug: { msg: a } }]\n- hosts: all\n  tasks: [{ debug: { msg: b } }]\n',
    );
    const two = await rollgate(['rollout', join(dir, 'two.yml'), '-i', join(dir, 'inv.yml'), '--limit', 'hv1']);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain(
      'two.yml:1:1: a rollout takes a playbook with exactly one play; this one has 2. split the plays',
    );
    writeFileSync(
      join(dir, 'bad.yml'),
      '- hosts: all\n  rollout: { boot_timeout: soon }\n  tasks: [{ debug: { msg: a } }]\n',
    );
    const bad = await rollgate(['rollout', join(dir, 'bad.yml'), '-i', join(dir, 'inv.yml'), '--limit', 'hv1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `${join(dir, 'bad.yml')}:2:28: \`rollout.boot_timeout\` must be a whole number, not the string \`soon\`\n`,
    );
  });

  it('resume names a run the journal does not have; --help lists the shared exit statuses', async () => {
    const r = await rollgate(['resume', 'nope', '--journal', join(dir, 'j.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no run nope in the journal');
    const help = await rollgate(['rollout', '--help']);
    expect(help.stdout).toContain('6  a host needs a person');
    expect(help.stdout).toContain('3  a host was rolled back to its verified previous state');
    // The program's options each command takes are in its own help too.
    expect(help.stdout).toMatch(/Global Options:[\s\S]*--vault-password-file[\s\S]*--fleet-lock <url>/);
  });
});

describe('rollgate rollout --prepare-boot', () => {
  it('is kept with the run, so that resume prepares the boot loader as the run was allowed to', async () => {
    const path = join(dir, 'prepare.db');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    writeFileSync(
      join(dir, 'one.yml'),
      `all:\n  hosts:\n    hv1: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_ssh_private_key_file: ${join(dir, 'id')}}\n`,
    );
    // hv1 is not reachable (port 1): the run is created, its host ends unreachable, nothing is changed.
    const r = await rollgate([
      'rollout',
      join(dir, 'ok.yml'),
      '-i',
      join(dir, 'one.yml'),
      '--prepare-boot',
      '--journal',
      path,
      '--connect-timeout',
      '2',
    ]);
    expect(r.code, r.stderr).not.toBe(2);
    const journal = Journal.open(path);
    const runs = journal.listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.options).toMatchObject({ prepareBoot: true });
    journal.close();
    const help = await rollgate(['rollout', '--help']);
    expect(help.stdout).toContain('--prepare-boot');
  });
});

describe('rollgate unlock', () => {
  it('releases what a finished run still holds, host by host, and refuses while its controller is alive', async () => {
    const path = join(dir, 'locks.db');
    const journal = Journal.open(path);
    const run = journal.createRun({ kind: 'rollout' });
    const lock = journal.fleetLock();
    expect((await lock.acquireHostLocks(run.id, ['hv1', 'hv2'])).ok).toBe(true);
    expect((await lock.acquireDownSlot(run.id, 'rack7', 'hv2', 1)).ok).toBe(true);
    // This process wrote the run and is alive: the run may still be working on its hosts.
    const live = await rollgate(['unlock', run.id, '--journal', path]);
    expect(live.code).toBe(5);
    expect(live.stderr).toBe(
      `rollgate unlock: run ${run.id} is still in progress (its controller ${run.controller} is alive): stop it first (Ctrl-C, or kill -TERM ${process.pid})\n`,
    );
    expect(await lock.listHostLocks()).toHaveLength(2);

    journal.finishRun(run.id, 'needs_person');
    const one = await rollgate(['unlock', run.id, '--host', 'hv2', '--journal', path]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(
      new RegExp(
        `^hv2: host lock of run ${run.id} released \\(held since [0-9T:.-]+Z\\)\nhv2: down slot of cluster rack7 released\n$`,
      ),
    );
    expect((await lock.listHostLocks()).map((l) => l.host)).toEqual(['hv1']);
    expect(await lock.listDownSlots()).toEqual([]);
    expect((await rollgate(['unlock', run.id, '--journal', path])).stdout).toMatch(/^hv1: host lock of run /);
    expect(await lock.listHostLocks()).toEqual([]);
    expect((await rollgate(['unlock', run.id, '--host', 'hv1', '--journal', path])).stdout).toBe(
      `hv1: run ${run.id} holds no lock on it\n`,
    );
    const unknown = await rollgate(['unlock', 'nope', '--journal', path]);
    expect(unknown.code).toBe(2);
    journal.close();
  });
});
