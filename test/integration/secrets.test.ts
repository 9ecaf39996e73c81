/**
 * No secret kept or shown: distinct secret values planted through every door (-e, inventory vars, a vault_* name,
 * rollgate_power.password_env, a play's no_log_vars, a no_log task's registered result) into `rollgate run` and
 * `rollgate rollout` against real sshd, then every output searched for each value: stdout and stderr (plain and
 * --json), `rollgate show`, `rollgate runs`, and the raw bytes of the SQLite journal with its -wal and -shm files.
 */
import { expectValidRunJson, expectValidRunSummaryJson } from '../helpers/snapshot-schema.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { ensureBuilt, rollgate, type CliRun } from './support/cli.js';
import { removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot } from './support/fake-root.js';
import { useRealGrubTools } from './support/grub-root.js';

const SECRETS = {
  extra: 'Extra-Api-Pw-1111',
  inventory: 'Inventory-Db-Pass-2222',
  power: 'Power-Env-Pw-3333',
  noLogVar: 'NoLogVar-Secret-4444',
  registered: 'Registered-Secret-5555',
  vault: 'Vault-Like-Value-6666',
};
const FIXTURES = new URL('../fixtures/trial-boot/', import.meta.url).pathname;

let fleet: SshdFleet;
let dir: string;
let root: string;

beforeAll(async () => {
  ensureBuilt();
  fleet = await startFleet(1);
  dir = mkdtempSync(join(tmpdir(), 'rg-secrets-'));
  chmodSync(dir, 0o755);
  // What only the host knows: a file the no_log task reads, and one that happens to hold the BMC password.
  writeFileSync(join(dir, 'host-secret'), `${SECRETS.registered}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'host-bmc'), `bmc=${SECRETS.power}\n`, { mode: 0o644 });
  root = tempRoot('secrets');
  buildRoot(root, 'debian');
  useRealGrubTools(root, { grubenv: 'created' });
});
afterAll(async () => {
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (root) removeRoot(root);
});

function inventory(): string {
  const h = fleet.hosts[0]!;
  return `all:
  hosts:
    ${h.name}:
      ansible_host: 127.0.0.1
      ansible_port: ${h.port}
      ansible_user: rgops
      ansible_become: true
      ansible_ssh_private_key_file: ${fleet.clientKey}
      rollgate_known_hosts_file: ${fleet.knownHosts}
      rollgate_root: ${root}
      rollgate_reboot_command: ${FIXTURES}fake-boot ${root}
      db_password: ${SECRETS.inventory}
      vault_ldap: ${SECRETS.vault}
      rollgate_power: {driver: ipmi, host: 10.0.0.5, user: admin, password_env: RG_TEST_BMC_PW}
`;
}

// The no_log_vars value is assembled when templated, so its text appears nowhere in the playbook.
const playbook = `- name: secrets stay secret
  hosts: all
  no_log_vars: [plain_named]
  vars:
    plain_named: "{{ 'NoLogVar' ~ '-Secret-' ~ '4444' }}"
  tasks:
    - name: echo the -e password
      command: echo {{ api_pw }}
    - name: echo inventory secrets and the no_log_vars value
      shell: echo db={{ db_password }} ldap={{ vault_ldap }} >&2; echo {{ plain_named }}
    - name: read a secret on the host
      command: cat ${'{{'} secret_dir }}/host-secret
      register: from_host
      no_log: true
    - name: use what the no_log task registered
      debug: { msg: "got {{ from_host.stdout }}" }
    - name: the host prints the BMC password
      command: cat ${'{{'} secret_dir }}/host-bmc
    - name: loop over secrets
      command: echo {{ item }}
      loop: ["{{ api_pw }}", "{{ db_password }}", "{{ from_host.stdout }}"]
    - name: no_log loop
      debug: { msg: "{{ item }}" }
      loop: ["{{ plain_named }}", "hidden-label-7777"]
      no_log: true
    - name: no_log failure
      shell: echo hidden-failure-8888 {{ api_pw }} >&2; exit 3
      no_log: true
      ignore_errors: true
    - name: a command fails printing the secret
      shell: echo cannot log in with {{ api_pw }} / {{ plain_named }} >&2; exit 4
      ignore_errors: true
    - name: fail with the secret in the message
      fail: { msg: "cannot log in with {{ api_pw }} / {{ plain_named }}" }
`;

function files(name: string) {
  const play = join(dir, `${name}.yml`);
  const inv = join(dir, `${name}-inventory.yml`);
  writeFileSync(play, playbook);
  writeFileSync(inv, inventory());
  return { play, inv, journal: join(dir, `${name}.db`) };
}

const env = { SSH_AUTH_SOCK: '', RG_TEST_BMC_PW: SECRETS.power };
const extra = () => ['-e', `api_pw=${SECRETS.extra}`, '-e', `secret_dir=${dir}`];

/** Every planted value found in `text` (none expected), with where it was. */
function leaks(where: string, text: string | Buffer): string[] {
  const hay = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return Object.entries(SECRETS)
    .filter(([, v]) => hay.includes(v))
    .map(([k]) => `${k} in ${where}`);
}

function journalBytes(path: string): Array<[string, Buffer]> {
  return ['', '-wal', '-shm'].filter((s) => existsSync(path + s)).map((s) => [path + s, readFileSync(path + s)]);
}

async function everyOutput(journal: string, runs: CliRun[], runId: string): Promise<string[]> {
  const show = await rollgate(['show', runId, '--journal', journal]);
  const list = await rollgate(['runs', '--journal', journal]);
  const showJson = await rollgate(['show', runId, '--journal', journal, '--json']);
  const listJson = await rollgate(['runs', '--journal', journal, '--json']);
  expect(show.code).toBe(0);
  expect(showJson.code, showJson.stderr).toBe(0);
  // The JSON views are whole: the run, its hosts, their events and steps.
  const detail = JSON.parse(showJson.stdout) as { id: string; hosts: Array<{ events: unknown[]; steps: unknown[] }> };
  expect(detail.id).toBe(runId);
  expect(detail.hosts[0]?.events.length).toBeGreaterThan(0);
  expect(detail.hosts[0]?.steps.length).toBeGreaterThan(0);
  // Each document as its published schema says (schemas/run.schema.json, run-summary.schema.json).
  expectValidRunJson(detail);
  for (const line of listJson.stdout.trim().split('\n')) expectValidRunSummaryJson(JSON.parse(line));
  expect(
    listJson.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id),
  ).toContain(runId);
  return [
    ...runs.flatMap((r, i) => [...leaks(`run ${i} stdout`, r.stdout), ...leaks(`run ${i} stderr`, r.stderr)]),
    ...leaks('rollgate show', show.stdout + show.stderr),
    ...leaks('rollgate runs', list.stdout + list.stderr),
    ...leaks('rollgate show --json', showJson.stdout + showJson.stderr),
    ...leaks('rollgate runs --json', listJson.stdout + listJson.stderr),
    ...journalBytes(journal).flatMap(([path, bytes]) => leaks(path, bytes)),
  ];
}

describe('no secret kept or shown', () => {
  it('rollgate run: plain and --json output, show, runs and the SQLite files hold none of the planted values', async () => {
    const f = files('run');
    const plain = await rollgate(['run', f.play, '-i', f.inv, '--journal', f.journal, ...extra()], env);
    expect(plain.code, plain.stderr + plain.stdout).toBe(1); // the last task fails on purpose
    const json = await rollgate(['run', f.play, '-i', f.inv, '--journal', f.journal, '--json', ...extra()], env);
    expect(json.code, json.stderr).toBe(1);
    const runId = /run (\S+): journal/.exec(plain.stdout)?.[1] ?? '';
    expect(await everyOutput(f.journal, [plain, json], runId)).toEqual([]);

    // The values were really there to leak: the commands ran and printed them, scrubbed on the way out.
    expect(plain.stdout).toContain('fatal: [h01]: FAILED! => ');
    expect(plain.stdout).toMatch(/cannot log in with \[redacted\] \/ \[redacted\]/);
    expect(plain.stdout).toContain('got [redacted]');
    expect(json.stdout).toMatch(/"message":"[^"]*cannot log in with \[redacted\]/);
    // no_log: items, labels and messages hidden, as Ansible does.
    expect(plain.stdout).not.toContain('hidden-label-7777');
    expect(plain.stdout).not.toContain('hidden-failure-8888');
    expect(plain.stdout).toContain(
      "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
    );
    const show = await rollgate(['show', runId, '--journal', f.journal]);
    expect(show.stdout).toContain('cannot log in with [redacted] / [redacted]');
    const journal = Journal.open(f.journal);
    const steps = journal.listSteps(runId);
    journal.close();
    expect(steps.find((s) => s.task === 'a command fails printing the secret')?.data).toMatchObject({
      stderr: 'cannot log in with [redacted] / [redacted]',
    });
    expect(steps.filter((s) => s.task.startsWith('no_log loop')).map((s) => [s.task, s.args, s.message])).toEqual([
      [
        'no_log loop (item=(hidden: no_log))',
        {},
        "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
      ],
      [
        'no_log loop (item=(hidden: no_log))',
        {},
        "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
      ],
    ]);
    expect(show.stdout).not.toContain('hidden-label-7777');
    expect(show.stdout).not.toContain('hidden-failure-8888');
  });

  it('rollgate exec: a host printing inventory and BMC secrets shows [redacted], in plain and --json output', async () => {
    const f = files('exec');
    const command = `cat ${dir}/host-bmc; echo ${SECRETS.inventory} ${SECRETS.vault}`;
    const plain = await rollgate(['exec', '-i', f.inv, '--', command], env);
    const json = await rollgate(['exec', '-i', f.inv, '--json', '--', command], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect([...leaks('exec', plain.stdout + plain.stderr), ...leaks('exec --json', json.stdout + json.stderr)]).toEqual(
      [],
    );
    expect(plain.stdout).toContain('bmc=[redacted]\n[redacted] [redacted]');
  });

  it('rollgate rollout: events, renderers, show and the journal hold none; resume asks for the -e secret again', async () => {
    const f = files('rollout');
    const run = await rollgate(['rollout', f.play, '-i', f.inv, '--journal', f.journal, '--yes', ...extra()], env);
    const json = await rollgate(
      ['rollout', f.play, '-i', f.inv, '--journal', f.journal, '--yes', '--json', ...extra()],
      env,
    );
    const runId = /run (\S+): `rollgate show/.exec(run.stderr)?.[1] ?? '';
    expect(runId, run.stderr + run.stdout).not.toBe('');
    expect(run.code, run.stderr).not.toBe(0);
    expect(await everyOutput(f.journal, [run, json], runId)).toEqual([]);
    expect(json.stdout).toMatch(/cannot log in with \[redacted\]/);

    const resume = await rollgate(['resume', runId, '--journal', f.journal], env);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain(
      `run ${runId} was started with -e api_pw: secrets the journal does not keep. pass them again: rollgate resume ${runId} -e api_pw=...`,
    );
  });
});
