import { describe, expect, it } from 'vitest';
import type { Connection, ExecResult } from '../../../src/connection/connection.js';
import { migrateGuest } from '../../../src/modules/guests/drain.js';

const NOT_CONNECTED =
  'error: failed to connect to the hypervisor\nerror: Cannot recv data: ssh: connect to host lab1 port 22: Connection refused: Connection reset by peer';

/** A host whose `virsh migrate` answers from a script, one answer per call; `domstate` says running. */
function host(migrations: ExecResult[]): { conn: Connection; commands: string[] } {
  const commands: string[] = [];
  const conn: Connection = {
    host: 'lab2',
    async exec(command) {
      const text = typeof command === 'string' ? command : command.text;
      commands.push(text);
      if (text.includes(' migrate '))
        return migrations.shift() ?? { exitCode: 0, stdout: '', stderr: '', durationMs: 1 };
      if (text.includes(' domstate '))
        return { exitCode: 0, stdout: 'running (migrated)\n', stderr: '', durationMs: 1 };
      throw new Error(`unexpected command ${text}`);
    },
    async close() {},
  };
  return { conn, commands };
}
const refused: ExecResult = { exitCode: 1, stdout: '', stderr: NOT_CONNECTED, durationMs: 1 };

describe('migrating a guest', () => {
  it('tries again while a libvirt does not answer (the migration never started), then migrates', async () => {
    const { conn, commands } = host([refused, refused]);
    const waits: number[] = [];
    const lines: string[] = [];
    await migrateGuest(conn, 'qemu+ssh://lab1/system', 'movable-lab2', 'qemu:///system', {
      sleep: async (ms) => void waits.push(ms),
      progress: (l) => lines.push(l),
    });
    expect(commands.filter((c) => c.includes(' migrate '))).toHaveLength(3);
    expect(waits).toEqual([5_000, 10_000]);
    expect(lines[1]).toMatch(
      /^guest movable-lab2: a libvirt did not answer \(.*Connection refused.*\); migrating again in 5 s$/,
    );
  });

  it('gives up after its retry budget, naming what virsh said', async () => {
    const { conn } = host(Array.from({ length: 20 }, () => refused));
    const waits: number[] = [];
    await expect(
      migrateGuest(conn, 'qemu+ssh://lab1/system', 'movable-lab2', 'qemu:///system', {
        sleep: async (ms) => void waits.push(ms),
        connectRetryMs: 40_000,
      }),
    ).rejects.toThrow(/^virsh migrate movable-lab2 to qemu:\/\/\/system: error: failed to connect to the hypervisor/);
    expect(waits).toEqual([5_000, 10_000, 20_000]);
  });

  it('does not retry a migration that failed for another reason', async () => {
    const { conn, commands } = host([
      {
        exitCode: 1,
        stdout: '',
        stderr: 'error: Requested operation is not valid: domain is not running',
        durationMs: 1,
      },
    ]);
    await expect(
      migrateGuest(conn, undefined, 'movable-lab1', 'qemu+ssh://lab2/system', { sleep: async () => undefined }),
    ).rejects.toThrow(/domain is not running/);
    expect(commands.filter((c) => c.includes(' migrate '))).toHaveLength(1);
  });
});
