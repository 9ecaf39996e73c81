/**
 * Signals and stale locks, with the CLI as a real process against real sshd hosts: SIGTERM stops a run after the
 * task in flight (run `interrupted`, locks released, exit 143, the next run starts); SIGINT twice stops at once;
 * SIGKILL leaves a lock whose refusal names the way out; a rollout stopped mid-change keeps its host locked for
 * `rollgate resume`, which refuses while the rollout's controller lives and takes it over once it is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLEET_ADMIN_USER, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { buildRoot } from './support/fake-root.js';
import { useRealGrubTools } from './support/grub-root.js';
import { removeRoot, tempRoot } from './support/module-host.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { peek, pendingStep, startCli, until } from './support/cli-process.js';

const FAKE_BOOT = new URL('../fixtures/trial-boot/fake-boot', import.meta.url).pathname;
let fleet: SshdFleet;
let dir: string;
const roots: string[] = [];

/** An inventory of both fleet hosts (or only `port` of h01 moved elsewhere), each with its throwaway root. */
function inventory(file: string, h01Port = fleet.hosts[0]!.port, h01Reboot?: string): string {
  const hosts = fleet.hosts
    .map(
      (h, i) =>
        `    ${h.name}:\n      ansible_port: ${i === 0 ? h01Port : h.port}\n      rollgate_root: ${roots[i]}\n      rollgate_reboot_command: ${(i === 0 && h01Reboot) || `${FAKE_BOOT} ${roots[i]}`}\n`,
    )
    .join('');
  writeFileSync(
    file,
    `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${FLEET_ADMIN_USER}\n    ansible_ssh_private_key_file: ${fleet.clientKey}\n    rollgate_known_hosts_file: ${fleet.knownHosts}\n  hosts:\n${hosts}`,
  );
  return file;
}

function playbook(name: string, seconds: number): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `- hosts: all\n  tasks:\n    - name: slow\n      command: sleep ${seconds}\n    - name: after\n      command: touch {{ rollgate_root }}/etc/after-slow\n`,
  );
  return file;
}

const quick = () => {
  const file = join(dir, 'quick.yml');
  writeFileSync(file, '- hosts: all\n  tasks:\n    - name: quick\n      command: "true"\n');
  return file;
};

const runStatus = (journal: string, id: string) =>
  peek(journal, (db) => (db.prepare('SELECT status FROM runs WHERE id = ?').get(id) as { status: string }).status);
/** Host locks (a host's address and host key identities count once). */
const locks = (journal: string) =>
  peek(journal, (db) => db.prepare('SELECT DISTINCT host, run_id AS runId FROM host_locks ORDER BY host').all()) ?? [];
const runIdOf = (journal: string) =>
  until(() =>
    peek(
      journal,
      (db) => (db.prepare('SELECT id FROM runs ORDER BY started_at LIMIT 1').get() as { id: string } | undefined)?.id,
    ),
  );

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-interrupts-'));
  chmodSync(dir, 0o755);
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  for (let i = 0; i < 2; i++) {
    const r = tempRoot(`intr${i}`);
    buildRoot(r, 'debian');
    useRealGrubTools(r, { grubenv: 'created' });
    roots.push(r);
  }
});
afterAll(async () => {
  await fleet?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rollgate run under signals', () => {
  it('SIGTERM: finishes the task in flight, marks the run interrupted, releases its locks, exits 143; the next run starts', async () => {
    const journal = join(dir, 'term.db');
    const inv = inventory(join(dir, 'term.yml'));
    const run = startCli(['run', playbook('slow3.yml', 3), '-i', inv, '--journal', journal]);
    await until(() => pendingStep(journal, 'slow'));
    run.child.kill('SIGTERM');
    const out = await run.done;
    const id = await runIdOf(journal);
    expect(out.stderr).toContain(
      'rollgate run: SIGTERM: stopping after the step in flight (signal again to stop at once)',
    );
    expect(out.stderr).toContain(
      `rollgate run: interrupted by SIGTERM: stopped after the tasks in flight; run ${id} is marked interrupted and its locks are released. \`rollgate undo ${id}\` takes back what it changed`,
    );
    expect(out.code).toBe(143);
    expect(runStatus(journal, id)).toBe('interrupted');
    // The task in flight finished on both hosts; the next one never started.
    expect(peek(journal, (db) => db.prepare('SELECT task, status FROM steps ORDER BY id').all())).toEqual([
      { task: 'slow', status: 'applied' },
      { task: 'slow', status: 'applied' },
    ]);
    expect(roots.map((r) => existsSync(join(r, 'etc/after-slow')))).toEqual([false, false]);
    expect(locks(journal)).toEqual([]);
    expect(peek(journal, (db) => db.prepare('SELECT * FROM run_leases').all())).toEqual([]);
    const next = await rollgate(['run', quick(), '-i', inv, '--journal', journal]);
    expect(next.code).toBe(0);
  });

  it('SIGINT twice: stops at once, the step in flight journaled as interrupted and its host kept locked; exit 130', async () => {
    const journal = join(dir, 'int.db');
    const inv = inventory(join(dir, 'int.yml'));
    const run = startCli(['run', playbook('slow20.yml', 20), '-i', inv, '--journal', journal, '--limit', 'h01']);
    await until(() => pendingStep(journal, 'slow'));
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    const second = Date.now();
    run.child.kill('SIGINT');
    const out = await run.done;
    expect(Date.now() - second).toBeLessThan(12_000); // not the 20 s the step would take
    const id = await runIdOf(journal);
    expect(out.code).toBe(130);
    expect(out.stderr).toContain(
      `rollgate run: stopped at once; run ${id} is marked interrupted; h01 keeps its lock (a step was in flight). \`rollgate undo ${id}\` takes its changes back`,
    );
    expect(runStatus(journal, id)).toBe('interrupted');
    expect(peek(journal, (db) => db.prepare('SELECT status, message FROM steps').all())).toEqual([
      {
        status: 'pending',
        message:
          'interrupted (SIGINT twice) while this step ran: it may be partly applied; undo restores it from its record',
      },
    ]);
    expect(locks(journal)).toEqual([{ host: 'h01', runId: id }]);
    // The lock left is not a dead end: the refusal says how to get past it.
    const next = await rollgate(['run', quick(), '-i', inv, '--journal', journal, '--limit', 'h01']);
    expect(next.code).toBe(5);
    expect(next.stderr).toContain(
      `run ${id} was interrupted: \`rollgate undo ${id}\` takes its changes back, or \`rollgate unlock ${id} --host h01\``,
    );
  });

  it("SIGKILL: the next run's refusal names undo and unlock; after unlock it runs", async () => {
    const journal = join(dir, 'kill.db');
    const inv = inventory(join(dir, 'kill.yml'));
    const run = startCli(['run', playbook('slow5.yml', 5), '-i', inv, '--journal', journal]);
    await until(() => pendingStep(journal, 'slow'));
    run.child.kill('SIGKILL');
    await run.done;
    const id = await runIdOf(journal);
    const refused = await rollgate(['run', quick(), '-i', inv, '--journal', journal]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^rollgate run: hosts locked:\\nh01 \\(127\\.0\\.0\\.1:${fleet.hosts[0]!.port}\\) is locked by run ${id}: run ${id} stopped \\(its controller \\S+:${run.child.pid} has exited\\): ` +
          `\`rollgate undo ${id}\` takes its changes back, or \`rollgate unlock ${id} --host h01\` releases the lock once you know h01 is fine\\n`,
      ),
    );
    expect(refused.stderr).toMatch(/\nnothing was touched\n$/);
    const unlocked = await rollgate(['unlock', id, '--journal', journal]);
    expect(unlocked.code).toBe(0);
    expect((await rollgate(['run', quick(), '-i', inv, '--journal', journal])).code).toBe(0);
  });
});

describe('rollgate rollout under signals, and resume', () => {
  it('keeps a host stopped mid-change locked for resume, which refuses while the controller lives and finishes the job once it is gone', async () => {
    const journal = join(dir, 'rollout.db');
    const inv = inventory(join(dir, 'rollout-inv.yml'));
    const grubBefore = readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8');
    const play = join(dir, 'rollout.yml');
    // The step in flight ends when the test says (a gate file, at most 60 s), never by the clock: under load the
    // resume below took longer than a fixed sleep, and the rollout had moved on before its SIGTERM.
    const gate = join(dir, 'rollout-gate');
    writeFileSync(
      play,
      `- hosts: h01\n  tasks:\n    - kernel_args: { present: [rollgate.interrupt=1] }\n    - name: slow\n      shell: i=0; while [ ! -e ${gate} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n    - name: after\n      command: touch {{ rollgate_root }}/etc/after-slow\n`,
    );
    const rollout = startCli(['rollout', play, '-i', inv, '--journal', journal, '--yes']);
    await until(() => pendingStep(journal, 'slow'));
    const id = await runIdOf(journal);
    // Its controller is alive: resume refuses and touches nothing.
    const early = await rollgate(['resume', id, '--journal', journal]);
    expect(early.code).toBe(5);
    expect(early.stderr).toMatch(
      new RegExp(
        `^rollgate resume: refused:\\nrun ${id} is still in progress: its controller \\S+:${rollout.child.pid} is alive \\(last heartbeat \\d+ s ago\\); stop it first \\(Ctrl-C, or kill -TERM ${rollout.child.pid}\\)\\nnothing was touched\\n$`,
      ),
    );
    rollout.child.kill('SIGTERM');
    await sleep(500); // the controller has the signal before the step in flight ends
    writeFileSync(gate, '');
    const out = await rollout.done;
    expect(out.code).toBe(143);
    expect(out.stderr).toContain(
      `rollgate rollout: interrupted by SIGTERM: stopped between steps; run ${id} is marked interrupted; h01 stopped mid-change and keeps the lock: \`rollgate resume ${id}\` finishes or rolls back, \`rollgate undo ${id}\` takes the changes back`,
    );
    expect(runStatus(journal, id)).toBe('interrupted');
    expect(readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8')).toContain('rollgate.interrupt=1');
    expect(existsSync(join(roots[0]!, 'etc/after-slow'))).toBe(false);
    const blocked = await rollgate(['run', quick(), '-i', inv, '--journal', journal, '--limit', 'h01']);
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toContain(
      `run ${id} was interrupted: \`rollgate resume ${id}\` finishes it or rolls it back, \`rollgate undo ${id}\` takes its changes back, or \`rollgate unlock ${id} --host h01\``,
    );

    // The inventory now points h01 at another sshd: resume refuses before contacting anything.
    inventory(inv, fleet.hosts[1]!.port);
    const moved = await rollgate(['resume', id, '--journal', journal]);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain(
      `${inv}:9:7: h01 now points to 127.0.0.1:${fleet.hosts[1]!.port}, but run ${id} changed the machine at 127.0.0.1:${fleet.hosts[0]!.port} (host key SHA256:`,
    );
    expect(moved.stderr).toContain(
      `fix the inventory so h01 points to 127.0.0.1:${fleet.hosts[0]!.port} again (or pass -i with the inventory the run used), or add --force if 127.0.0.1:${fleet.hosts[1]!.port} is the same machine, moved`,
    );
    inventory(inv);

    const resumed = await rollgate(['resume', id, '--journal', journal, '--yes']);
    expect(resumed.stderr).not.toContain('internal error');
    expect(resumed.code).toBe(3);
    expect(readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8')).toBe(grubBefore);
    expect(runStatus(journal, id)).toBe('rolled_back');
    expect(locks(journal)).toEqual([]);
    expect((await rollgate(['run', quick(), '-i', inv, '--journal', journal, '--limit', 'h01'])).code).toBe(0);
  });

  it('after kill -9 names resume in the refusal, and lets exactly one of two resumes racing take the rollout over', async () => {
    const journal = join(dir, 'race.db');
    const inv = inventory(join(dir, 'race-inv.yml'));
    const play = join(dir, 'race.yml');
    writeFileSync(
      play,
      '- hosts: h02\n  tasks:\n    - name: slow\n      command: sleep 4\n      changed_when: false\n',
    );
    // A rollout whose controller is killed (-9) once it holds its host, before the host starts.
    const first = startCli(['rollout', play, '-i', inv, '--journal', journal, '--yes']);
    const id = await until(
      () =>
        peek(
          journal,
          (db) => (db.prepare('SELECT run_id AS id FROM host_locks').get() as { id: string } | undefined)?.id,
        ),
      30_000,
    );
    first.child.kill('SIGKILL');
    await first.done;
    expect(peek(journal, (db) => db.prepare("SELECT count(*) AS n FROM steps WHERE task = 'slow'").get())).toEqual({
      n: 0,
    });
    // Its lock is in the way of other runs, and the refusal says how to get past it.
    const blocked = await rollgate(['run', quick(), '-i', inv, '--journal', journal, '--limit', 'h02']);
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toMatch(
      new RegExp(
        `run ${id} stopped \\(its controller \\S+:${first.child.pid} has exited\\): \`rollgate resume ${id}\` finishes it or rolls it back, \`rollgate undo ${id}\` takes its changes back, or \`rollgate unlock ${id} --host h02\``,
      ),
    );
    const both = await Promise.all([
      startCli(['resume', id, '--journal', journal, '--yes']).done,
      startCli(['resume', id, '--journal', journal, '--yes']).done,
    ]);
    expect(both.map((r) => r.code).sort()).toEqual([0, 5]);
    const loser = both.find((r) => r.code === 5)!;
    expect(loser.stderr).toMatch(
      new RegExp(`^rollgate resume: refused:\\nrun ${id} is still in progress: its controller \\S+ is alive`),
    );
    expect(peek(journal, (db) => db.prepare("SELECT count(*) AS n FROM steps WHERE task = 'slow'").get())).toEqual({
      n: 1,
    });
    expect(runStatus(journal, id)).toBe('succeeded');
  });

  it('kill -9 after the trial is armed but before the reboot reached the host: resume logs in as the run did (its --ssh-config), reboots into the trial and commits', async () => {
    const journal = join(dir, 'armed.db');
    // The first controller's reboot request never reboots h01 (as when kill -9 lands before it reaches the host).
    const inv = inventory(join(dir, 'armed-inv.yml'), fleet.hosts[0]!.port, '/bin/true');
    // h01 is reached by a name only the run's --ssh-config knows: resume must log in as the run did, unasked.
    const sshConfig = join(dir, 'armed-ssh_config');
    writeFileSync(sshConfig, 'Host rg-armed-h01\n  HostName 127.0.0.1\n');
    const aliased = () =>
      writeFileSync(
        inv,
        readFileSync(inv, 'utf8').replace('    h01:\n', '    h01:\n      ansible_host: rg-armed-h01\n'),
      );
    aliased();
    const play = join(dir, 'armed.yml');
    // A change the real machine's facts cannot contradict (the facts are this machine's, not the root's), so the
    // trial verifies: what is under test is where the resumed run finds the host, not the verification.
    writeFileSync(
      play,
      '- hosts: h01\n  become: true\n  tasks:\n    - driver_blacklist: { drivers: [nouveau] }\n    - reboot: { reason: test }\n',
    );
    const first = startCli([
      'rollout',
      play,
      '-i',
      inv,
      '--journal',
      journal,
      '--yes',
      '--boot-timeout',
      '60',
      '--ssh-config',
      sshConfig,
    ]);
    const phase = () =>
      peek(
        journal,
        (db) =>
          (db.prepare("SELECT status FROM run_hosts WHERE host = 'h01'").get() as { status: string } | undefined)
            ?.status,
      );
    await until(() => phase() === 'rebooting', 60_000).catch(async (err: Error) => {
      first.child.kill('SIGKILL');
      const out = await first.done;
      throw new Error(`${err.message}: h01 in phase ${phase()}; ${out.stdout}${out.stderr}`);
    });
    first.child.kill('SIGKILL');
    await first.done;
    const id = await runIdOf(journal);
    const bootBefore = readFileSync(join(roots[0]!, 'proc/sys/kernel/random/boot_id'), 'utf8');
    inventory(inv); // h01 reboots (the fake-boot double) from now on
    aliased();
    const resumed = await rollgate(['resume', id, '--journal', journal, '--yes']);
    expect(resumed.stderr, resumed.stdout + resumed.stderr).not.toContain('internal error');
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(readFileSync(join(roots[0]!, 'proc/sys/kernel/random/boot_id'), 'utf8')).not.toBe(bootBefore);
    // On the trial entry (panic=N is the trial's alone), found there and committed: one reboot, by the resume.
    expect(readFileSync(join(roots[0]!, 'proc/cmdline'), 'utf8')).toMatch(/ panic=\d+\n$/);
    expect(resumed.stdout).toContain('reboot (resumed before the reboot took place): ok');
    expect(resumed.stdout).toMatch(/h01: changed/);
    expect(runStatus(journal, id)).toBe('succeeded');
    expect(locks(journal)).toEqual([]);
  }, 120_000);
});
