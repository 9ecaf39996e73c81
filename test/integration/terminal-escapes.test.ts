/**
 * A host that prints terminal control (an OSC title sequence ending in BEL) and a bidi override: human output
 * (`rollgate exec`, `rollgate run`, `rollgate show`) shows them escaped, JSON output keeps them raw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;
const env = { SSH_AUTH_SOCK: '' };
// printf's octal escapes: ESC ] 0 ; pwned BEL, then U+202E (RIGHT-TO-LEFT OVERRIDE) in UTF-8.
const PRINT = `printf '\\033]0;pwned\\007 \\342\\200\\256gnp.exe\\n'`;
const RAW = '\x1b]0;pwned\x07 \u202egnp.exe';
const SHOWN = '\\x1b]0;pwned\\x07 \\u202egnp.exe';
const CONTROL = /[\x1b\x07\u202e]/;

beforeAll(async () => {
  ensureBuilt();
  dir = tempDir('escapes');
  fleet = await startSshdFleet({ count: 1, dir });
  const h = fleet.hosts[0]!;
  writeFileSync(
    join(dir, 'inv.yml'),
    `all:\n  hosts:\n    ${h.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      ansible_user: rgops\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n`,
  );
  writeFileSync(
    join(dir, 'play.yml'),
    `- hosts: all\n  tasks:\n    - name: the host prints control characters\n      shell: "${PRINT.replace(/\\/g, '\\\\')}"\n      register: out\n    - name: show it\n      debug: { msg: "{{ out.stdout }}" }\n    - name: fail with it\n      fail: { msg: "{{ out.stdout }}" }\n`,
  );
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

describe('terminal control and bidi characters from hosts', () => {
  it('rollgate exec shows them escaped, --json keeps them raw', async () => {
    const plain = await rollgate(['exec', '-i', join(dir, 'inv.yml'), '--', PRINT], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(SHOWN);
    expect(plain.stdout + plain.stderr).not.toMatch(CONTROL);
    const json = await rollgate(['exec', '-i', join(dir, 'inv.yml'), '--json', '--', PRINT], env);
    expect(JSON.parse(json.stdout.split('\n')[0]!).stdout).toBe(`${RAW}\n`);
  });

  it('rollgate run and rollgate show show them escaped, run --json keeps them raw', async () => {
    const journal = join(dir, 'j.db');
    const plain = await rollgate(['run', join(dir, 'play.yml'), '-i', join(dir, 'inv.yml'), '--journal', journal], env);
    expect(plain.code, plain.stderr + plain.stdout).toBe(1);
    expect(plain.stdout).toContain(`ok: [h01] => ${SHOWN}`);
    expect(plain.stdout).toContain(`fatal: [h01]: FAILED! => ${SHOWN}`);
    expect(plain.stdout + plain.stderr).not.toMatch(CONTROL);
    const runId = /run (\S+): journal/.exec(plain.stdout)![1]!;
    const show = await rollgate(['show', runId, '--journal', journal], env);
    expect(show.stdout).toContain(SHOWN);
    expect(show.stdout).not.toMatch(CONTROL);
    const json = await rollgate(
      ['run', join(dir, 'play.yml'), '-i', join(dir, 'inv.yml'), '--journal', journal, '--json'],
      env,
    );
    const debug = json.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'task.result' && e.task === 'show it');
    expect(debug.message).toBe(RAW);
  });
});
