/**
 * The `rollgate inventory` command as an operator runs it (the built CLI, bin/rollgate.js): --list is
 * byte-identical to Debian's ansible-inventory on an inventory without floats, and bad input exits 2 with
 * the positioned message on stderr and nothing on stdout.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'test/fixtures');
const home = mkdtempSync(join(tmpdir(), 'rg-inv-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ANSIBLE_HOME: home, LANG: 'C.UTF-8' };

async function rollgate(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin/rollgate.js'), ...args], {
      cwd,
      env,
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('rollgate inventory', () => {
  it('prints --list byte for byte as ansible-inventory does', async () => {
    const cwd = join(fixtures, 'inventories/hypervisors');
    const [ours, theirs] = await Promise.all([
      rollgate(['inventory', '-i', 'hosts.yml', '--list'], cwd),
      run('/usr/bin/ansible-inventory', ['-i', 'hosts.yml', '--list'], { cwd, env }),
    ]);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('prints one host as ansible-inventory --host does', async () => {
    const cwd = join(fixtures, 'inventories/hypervisors');
    const args = ['-i', 'hosts.yml', '--host', 'hv01.lab.example'];
    const [ours, theirs] = await Promise.all([
      rollgate(['inventory', ...args], cwd),
      run('/usr/bin/ansible-inventory', args, { cwd, env }),
    ]);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('exits 2 with the positioned error and prints nothing else for a bad inventory', async () => {
    const r = await rollgate(['inventory', '-i', 'unknown-key.yml', '--list'], join(fixtures, 'bad-inventories'));
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'unknown-key.yml:4:7: unknown key `hots` under `hypervisors`. did you mean `hosts`?\n',
    });
  });

  it('exits 2 for a misspelt --limit', async () => {
    const r = await rollgate(
      ['inventory', '-i', 'hosts.yml', '--list', '--limit', 'canary:!intel_gp'],
      join(fixtures, 'inventories/hypervisors'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('--limit:1:9: no host or group matches `intel_gp`. did you mean `intel_gpu`?\n');
  });
});
