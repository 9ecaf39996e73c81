/**
 * Templates cannot reach the controller's runtime: the known nunjucks escapes, written in a playbook, an inventory
 * variable and an `-e` value, run through the CLI against a real sshd host. Each fails with a template error and
 * the marker file the payload would write on the controller never appears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { removeRoot, startFleet, tempRoot } from './support/module-host.js';

let fleet: SshdFleet;
let dir: string;
let marker: string;
const CLI = new URL('../../bin/rollgate.js', import.meta.url).pathname;

beforeAll(async () => {
  fleet = await startFleet(1);
  dir = tempRoot('escapes');
  marker = join(dir, 'CONTROLLER-MARKER');
});
afterAll(async () => {
  await fleet?.stop();
  removeRoot(dir);
});

const payloads = () => [
  `{{ range.constructor("return process.getBuiltinModule('fs').writeFileSync('${marker}', 'x')")() }}`,
  `{{ cycler.constructor("return process.getBuiltinModule('fs').writeFileSync('${marker}', 'x')")() }}`,
  `{{ ""["constr" ~ "uctor"]["constr" ~ "uctor"]("return process.getBuiltinModule('fs').writeFileSync('${marker}', 'x')")() }}`,
];

function inventory(vars: Record<string, string> = {}): string {
  const host = fleet.hosts[0]!;
  const extra = Object.entries(vars)
    .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}\n`)
    .join('');
  const file = join(dir, 'inventory.yml');
  writeFileSync(
    file,
    `all:\n  hosts:\n    ${host.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${host.port}\n      ansible_user: ${FLEET_ADMIN_USER}\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n${extra}`,
  );
  return file;
}

function run(playbook: string, inv: string, extra: string[] = []): Promise<{ code: number; out: string }> {
  const file = join(dir, 'play.yml');
  writeFileSync(file, playbook);
  const args = [CLI, 'run', file, '-i', inv, '--journal', join(dir, 'journal.db'), ...extra];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { timeout: 60_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
}

const debugTask = (msg: string) =>
  `- hosts: all\n  tasks:\n    - name: show\n      debug:\n        msg: ${JSON.stringify(msg)}\n`;

describe('template escapes on the controller', () => {
  it('refuses an escape written in a playbook before any host is contacted (exit 2), or fails its task when the name is computed', async () => {
    const [literal1, literal2, computed] = payloads();
    for (const p of [literal1!, literal2!]) {
      const r = await run(debugTask(p), inventory());
      expect(r.code, r.out).toBe(2);
      expect(r.out).toMatch(/play\.yml:5:15: templates cannot read `constructor`/);
      expect(existsSync(marker)).toBe(false);
    }
    const r = await run(debugTask(computed!), inventory());
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(
      /play\.yml:5:9: cannot template `.*`: templates cannot read `constructor`: rollgate templates reach data, not JavaScript objects/,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('fails the task with a template error for an escape in an inventory variable (exit 1)', async () => {
    for (const p of payloads()) {
      const r = await run(debugTask('{{ note }}'), inventory({ note: p }));
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(/templates cannot read `\.?constructor`/);
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('fails the task with a template error for an escape given with -e (exit 1)', async () => {
    for (const p of payloads()) {
      writeFileSync(join(dir, 'vars.json'), JSON.stringify({ note: p }));
      for (const extra of [
        ['-e', JSON.stringify({ note: p })],
        ['-e', `@${join(dir, 'vars.json')}`],
      ]) {
        const r = await run(debugTask('{{ note }}'), inventory(), extra);
        expect(r.code, r.out).toBe(1);
        expect(r.out).toMatch(/templates cannot read `\.?constructor`/);
        expect(existsSync(marker)).toBe(false);
      }
    }
  });
});
