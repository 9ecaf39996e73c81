/**
 * Bounded input: each input that once hung the CLI, filled its memory or crashed it (alias bombs in every YAML
 * input, a huge host range, a backtracking `--limit ~regex`, `-e @` of a device, a FIFO, a directory or a huge
 * file, `rollgate diff` of a device, an inventory directory with a symlink loop) ends in a clear exit 2 with its message,
 * instead of hanging: a child still running after 20 s is killed and fails its case (no wall-clock bound below
 * that, which a loaded CI machine would break).
 * The built CLI runs as an operator runs it; no host is contacted (the inventory's host listens nowhere).
 */
import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const inputs = join(root, 'test/fixtures/bad-inputs');
const badInventories = join(root, 'test/fixtures/bad-inventories');
const tmp = mkdtempSync(join(tmpdir(), 'rg-bad-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rollgate(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    // A hung child (the old behaviour) is killed here and fails its case: exit code null, not 2.
    execFile(
      process.execPath,
      [join(root, 'bin/rollgate.js'), ...args],
      { cwd: tmp, timeout: 20_000, killSignal: 'SIGKILL', env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, _stdout, stderr) => {
        const code = err ? ((err as { code?: number | null }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stderr, ms: Date.now() - started });
      },
    );
  });
}

const run = (...extra: string[]) => [
  'run',
  join(inputs, 'play.yml'),
  '-i',
  join(inputs, 'hosts.yml'),
  '--journal',
  join(tmp, 'journal.db'),
  ...extra,
];
const bombLevels = [
  'a: &a [x, x, x, x, x, x, x, x, x, x]',
  ...'bcdefghi'.split('').map((l, i) => `${l}: &${l} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
];

const cases: Array<{ input: string; args: () => string[]; message: string }> = [
  {
    input: 'an inventory alias bomb',
    args: () => ['inventory', '-i', join(badInventories, 'alias-bomb.yml'), '--list'],
    message: `${badInventories}/alias-bomb.yml:1:1: this inventory expands to more than 200000 values (YAML aliases that repeat aliases?). write the values out, or use fewer nested aliases`,
  },
  {
    input: 'a group_vars alias bomb',
    args: () => ['inventory', '-i', join(inputs, 'group-vars-bomb/hosts.yml'), '--list'],
    message: `${inputs}/group-vars-bomb/group_vars/all.yml:1:1: this vars file expands to more than 200000 values`,
  },
  {
    input: 'a host_vars alias bomb',
    args: () => ['inventory', '-i', join(inputs, 'host-vars-bomb/hosts.yml'), '--list'],
    message: `${inputs}/host-vars-bomb/host_vars/hv01.yml:1:1: this vars file expands to more than 200000 values`,
  },
  {
    input: 'an -e @file alias bomb',
    args: () => run('-e', `@${join(inputs, 'vars-bomb.yml')}`),
    message: `${inputs}/vars-bomb.yml:1:1: -e @${inputs}/vars-bomb.yml expands to more than 200000 values`,
  },
  {
    input: 'an inline -e alias bomb',
    args: () => run('-e', `{${bombLevels.join(', ')}}`),
    message: '-e:1:1: this -e value expands to more than 200000 values',
  },
  {
    input: 'a host range of 99999999 hosts',
    args: () => ['inventory', '-i', join(badInventories, 'range-too-large.yml'), '--list'],
    message:
      'stands for 99999999 hosts; rollgate expands at most 10000 from one pattern. check the bounds of the range, or split it into several patterns',
  },
  {
    input: 'a backtracking --limit ~regex',
    args: () => ['inventory', '-i', join(badInventories, 'limit-backtracking.yml'), '--list', '--limit', '~(a+)+$'],
    message: '--limit:1:1: no host or group matches `~(a+)+$`',
  },
  {
    input: '-e @/dev/urandom',
    args: () => run('-e', '@/dev/urandom'),
    message: '-e @/dev/urandom is a character device, not a regular file. give the path of a YAML or JSON file',
  },
  {
    input: '-e @ a FIFO',
    args: () => run('-e', `@${join(tmp, 'fifo')}`),
    message: `-e @${tmp}/fifo is a named pipe (FIFO), not a regular file`,
  },
  {
    input: '-e @ a directory',
    args: () => run('-e', `@${tmp}`),
    message: `-e @${tmp} is a directory, not a regular file`,
  },
  {
    input: '-e @ a 9 MiB file',
    args: () => run('-e', `@${join(tmp, 'big.yml')}`),
    message: `-e @${tmp}/big.yml is 9437184 bytes; rollgate reads YAML and JSON inputs up to 8388608 bytes (8 MiB)`,
  },
  {
    input: 'rollgate diff of /dev/urandom',
    args: () => ['diff', '/dev/urandom', '/dev/urandom'],
    message: 'snapshot /dev/urandom is a character device, not a regular file',
  },
  {
    input: '-i a FIFO',
    args: () => ['inventory', '-i', join(tmp, 'fifo'), '--list'],
    message: `${tmp}/fifo:1:1: ${tmp}/fifo is a named pipe (FIFO), not a regular file`,
  },
  {
    input: 'an inventory directory with a symlink loop',
    args: () => ['inventory', '-i', join(tmp, 'inv-loop'), '--list'],
    message: `${tmp}/inv-loop/sub/back:1:1: ${tmp}/inv-loop/sub/back leads back to ${tmp}/inv-loop, a directory it is inside (a symbolic link loop). remove the link, or give a directory without loops`,
  },
  {
    input: 'an inventory directory with a link to itself',
    args: () => ['inventory', '-i', join(tmp, 'inv-self'), '--list'],
    message: `${tmp}/inv-self/self:1:1: cannot read ${tmp}/inv-self/self: ELOOP. a symbolic link points back at itself; fix or remove it`,
  },
];

describe('bounded input: a clear exit 2, never a hang', () => {
  execFileSync('mkfifo', [join(tmp, 'fifo')]);
  writeFileSync(join(tmp, 'big.yml'), `x: "${'y'.repeat(9 * 1024 * 1024 - 6)}"\n`);
  mkdirSync(join(tmp, 'inv-loop/sub'), { recursive: true });
  writeFileSync(join(tmp, 'inv-loop/hosts.yml'), 'all:\n  hosts:\n    hv01:\n');
  symlinkSync('..', join(tmp, 'inv-loop/sub/back'));
  mkdirSync(join(tmp, 'inv-self'));
  writeFileSync(join(tmp, 'inv-self/hosts.yml'), 'all:\n  hosts:\n    hv01:\n');
  symlinkSync('self', join(tmp, 'inv-self/self'));

  it.each(cases)('$input', async ({ args, message }) => {
    const r = await rollgate(args());
    expect(r.stderr).toContain(message);
    expect(r.code, r.stderr).toBe(2);
  });
});
