import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { connect, removeRoot, startFleet, tempRoot } from './support/module-host.js';

let fleet: SshdFleet;
let dir: string;

beforeAll(async () => {
  ensureBuilt();
  fleet = await startFleet(1);
  dir = tempRoot('task-timeout');
});
afterAll(async () => {
  await fleet?.stop();
  removeRoot(dir);
});

/** Pids of live processes whose argv is exactly `argv` (NUL-separated in /proc/PID/cmdline). */
function processesRunning(argv: readonly string[]): number[] {
  const wanted = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === wanted;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function files(
  name: string,
  become: boolean,
  seconds: string,
): { playbook: string; inventory: string; journal: string } {
  const h = fleet.hosts[0]!;
  const inventory = join(dir, `${name}.yml`);
  writeFileSync(
    inventory,
    `all:\n  hosts:\n    ${h.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      ansible_user: rgops\n      ansible_become: ${become}\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n`,
  );
  const playbook = join(dir, `${name}-play.yml`);
  writeFileSync(
    playbook,
    `- hosts: all\n  tasks:\n    - name: hang\n      command: sleep ${seconds}\n      timeout: 2\n`,
  );
  return { playbook, inventory, journal: join(dir, `${name}.db`) };
}

describe('a task timeout kills the remote command, not just its channel', () => {
  for (const become of [false, true]) {
    it(`command: sleep 300 with timeout 2 leaves no sleep on the host once the task has failed${become ? ' (through sudo)' : ''}`, async () => {
      // A fraction only this test uses, so other sleeps on the machine do not count.
      const seconds = `300.${process.pid}${become ? 1 : 0}`;
      const f = files(`hang-${become}`, become, seconds);
      const started = Date.now();
      const run = await rollgate(['run', f.playbook, '-i', f.inventory, '--journal', f.journal]);
      const left = processesRunning(['sleep', seconds]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/fatal: \[\S+\]: FAILED! => \S+: command did not finish within 2000 ms/);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(left).toEqual([]);
    });
  }

  it('a command with a time limit still gets its stdin and reports its own exit status, with and without sudo', async () => {
    for (const become of [false, true]) {
      const conn = await connect(fleet, 0, { become });
      try {
        expect(
          await conn.exec('cat; id -u >&2; exit 3', { stdin: Buffer.from('every byte\n'), timeoutMs: 10_000 }),
        ).toMatchObject({
          stdout: 'every byte\n',
          stderr: become ? '0\n' : expect.not.stringMatching(/^0\n$/),
          exitCode: 3,
        });
      } finally {
        await conn.close();
      }
    }
  });

  it('a controller killed mid-task leaves the remote command no longer than its timeout', async () => {
    const seconds = `300.${process.pid}9`;
    const f = files('killed', true, seconds);
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '../../bin/rollgate.js'),
        'run',
        f.playbook,
        '-i',
        f.inventory,
        '--journal',
        f.journal,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Bounded by time, not a few seconds: a loaded CI machine (lab VMs beside) takes a while to start the CLI.
    for (let i = 0; i < 900 && processesRunning(['sleep', seconds]).length === 0; i++) await sleep(50);
    expect(processesRunning(['sleep', seconds])).not.toEqual([]);
    const seen = Date.now();
    child.kill('SIGKILL');
    await exited;
    for (let i = 0; i < 80 && processesRunning(['sleep', seconds]).length > 0; i++) await sleep(100);
    expect(processesRunning(['sleep', seconds])).toEqual([]);
    // The host's own `timeout` ends it: the task's 2 s plus a second of grace, counted from the command's start.
    expect(Date.now() - seen).toBeLessThan(30_000); // not the command's 300 s
  });
});
