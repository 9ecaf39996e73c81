import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'rollgate-cli-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'hosts.ini'), 'h1 ansible_host=127.0.0.1 ansible_port=1\n');
writeFileSync(join(dir, 'play.yml'), '- hosts: all\n  tasks:\n    - debug: { msg: hi }\n');

/** Run the CLI in-process, capturing what it writes. */
async function cli(args: string[], register?: Parameters<typeof main>[1]) {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((t) => ((out += String(t)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((err += String(t)), true));
  try {
    const code = await main(['node', 'rollgate', ...args], register);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

describe('options shared by the commands', () => {
  it('turns a plain Error thrown by an option parser into bad input (2), with its message, not a bug (70)', async () => {
    const r = await cli(['probe', '--size', 'huge'], async (program) => {
      program
        .command('probe')
        .option('--size <n>', 'a size', (v: string) => {
          if (!/^\d+$/.test(v)) throw new Error(`"${v}" is not a whole number`);
          return Number(v);
        })
        .action(() => undefined);
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain(`option '--size <n>' argument 'huge' is invalid. "huge" is not a whole number`);
  });

  it.each(['run', 'rollout', 'exec', 'check', 'undo'])('gives `%s` the same --connect-timeout', async (command) => {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    const help = r.out.replace(/\s+/g, ' ');
    expect(help).toContain(
      '--connect-timeout <seconds> TCP + SSH handshake budget per host (default: inventory, else 15)',
    );
    expect(help).toContain('--ssh-config <file> OpenSSH client config to read (default ~/.ssh/config when it exists)');
    expect(help).toContain('--accept-new-host-keys record host keys of hosts seen for the first time');
  });

  it.each([
    ['run', ['run', join(dir, 'play.yml')]],
    ['rollout', ['rollout', join(dir, 'play.yml')]],
  ])(
    'refuses a bad --connect-timeout for `%s` with one message, before any host is contacted',
    async (_c, args) => {
      const r = await cli([
        ...args,
        '-i',
        join(dir, 'hosts.ini'),
        '--connect-timeout',
        'soon',
        '--journal',
        join(dir, 'j.db'),
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--connect-timeout is "soon"');
    },
    30_000,
  );
});
