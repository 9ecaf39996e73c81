/**
 * The HTML report from a journal made by a real rollout over sshd hosts (trial boots through the fake-boot test
 * double, as rollout-cycle.test.ts): the canary commits, the batch host fails verification and is rolled back.
 * The page is written by the CLI (`rollgate report`), its hostile values and the inventory's secret are checked
 * escaped / scrubbed, then Debian's headless chromium loads it once: the DOM it built must hold the lanes in plan
 * order, the failed check shown as failed and the topology picture. `rollgate check --html` is drawn too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { loadInventory } from '../../src/load/inventory.js';
import { EventBus } from '../../src/events/events.js';
import { runRollout } from '../../src/executor/rollout/rollout.js';
import { planRun } from '../../src/plan/plan.js';
import { defaultRolloutSettings } from '../../src/strategy/settings.js';
import { main } from '../../src/cli/main.js';
import { fleetTarget, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { useRealGrubTools } from './support/grub-root.js';
import { buildRoot } from './support/fake-root.js';

const FIXTURES = new URL('../fixtures/trial-boot/', import.meta.url).pathname;
/** Screenshots and pages are kept here as test artefacts. */
const OUT = join(import.meta.dirname, '..', '..', 'test-output', 'report');
const SECRET = 'Hunter2-report-secret';
const HOSTILE = '<img src=x onerror=alert(1)>';
let fleet: SshdFleet;
let dir: string;

async function quiet(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [o, e] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (err.push(String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

beforeAll(async () => {
  fleet = await startFleet(2);
  dir = tempRoot('report');
  mkdirSync(OUT, { recursive: true });
});
afterAll(async () => {
  await fleet?.stop();
  if (dir) removeRoot(dir);
});

describe('rollgate report from a real rollout', () => {
  it('draws the canary committed and the batch host rolled back, escaped and scrubbed, and chromium renders it', async () => {
    const [h0, h1] = [fleet.hosts[0]!.name, fleet.hosts[1]!.name];
    const roots = [join(dir, 'r0'), join(dir, 'r1')];
    const hosts: Record<string, Record<string, unknown>> = {};
    roots.forEach((r, i) => {
      mkdirSync(r);
      buildRoot(r, 'debian');
      useRealGrubTools(r, { grubenv: 'created' });
      hosts[fleet.hosts[i]!.name] = {
        rollgate_root: r,
        rollgate_reboot_command: `${FIXTURES}fake-boot ${r}`,
        db_password: SECRET,
      };
    });
    const invFile = join(dir, 'inventory.json');
    writeFileSync(invFile, JSON.stringify({ all: { hosts } }));
    const inventory = loadInventory(invFile);
    const play = `- hosts: all
  become: true
  tasks:
    - name: "${HOSTILE} keep nouveau off"
      driver_blacklist: { drivers: [nouveau] }
    - name: say the password
      debug: { msg: "pw={{ db_password }}" }
    - name: an argument the batch host cannot show after its boot
      kernel_args: { present: [rollgate.report=1] }
      when: inventory_hostname == '${h1}'
    - reboot: {}
`;
    const path = join(dir, 'journal.db');
    const journal = Journal.open(path);
    const runId = journal.createRun({ kind: 'rollout', playbook: join(dir, 'play.yml') }).id;
    const bus = new EventBus();
    // runRollout journals every event of the run, as `rollgate rollout` does.
    const out = await runRollout({
      journal,
      lock: journal.fleetLock(),
      runId,
      inventory,
      bus,
      pollMs: 300,
      planned: planRun(inventory, parsePlaybook(play, 'report.yml')).plays[0]!,
      targets: new Map(roots.map((_, i) => [fleet.hosts[i]!.name, fleetTarget(fleet, i)])),
      power: new Map(),
      settings: { ...defaultRolloutSettings, bootTimeoutSec: 30, verifyServices: [] },
      approve: async () => true,
    });
    journal.close();
    expect(out.result).toBe('rolled_back');
    expect([...out.hosts]).toEqual([
      [h0, 'changed'],
      [h1, 'rolled_back'],
    ]);

    const file = join(OUT, 'rollout.html');
    const made = await quiet(() => main(['node', 'rollgate', 'report', runId, '-o', file, '--journal', path]));
    expect(made, made.err).toMatchObject({ code: 0, out: `${file}: report of run ${runId} (2 host(s))\n` });
    const html = readFileSync(file, 'utf8');
    expect(html).not.toContain(SECRET);
    expect(html).toContain('pw=[redacted]');
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; keep nouveau off');
    expect(html).not.toMatch(/<script|(src|href)\s*=\s*["']?\s*(https?:|\/\/)/i);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );

    // One headless chromium launch: the DOM it built after parsing and laying out the page, and a screenshot.
    const shot = join(OUT, 'rollout.png');
    rmSync(shot, { force: true });
    const dom = execFileSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--window-size=1200,1800',
        `--screenshot=${shot}`,
        '--dump-dom',
        `file://${file}`,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    const lanes = [...dom.matchAll(/<g class="lane" data-host="([^"]+)" data-outcome="([^"]+)">/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(lanes).toEqual([
      [h0, 'changed'],
      [h1, 'rolled_back'],
    ]);
    expect(dom).toMatch(/<g class="batch-mark" data-batch="canary 1">/);
    expect(dom).toMatch(/<g class="batch-mark" data-batch="batch 1">/);
    for (const phase of ['snapshot', 'change', 'trial_boot', 'verification', 'commit', 'rollback'])
      expect(dom).toContain(`data-phase="${phase}"`);
    // The batch host's verification against the candidate failed on its command line, shown as failed.
    const section = dom.slice(dom.indexOf(`<section class="host" id="host-2" data-host="${h1}">`));
    expect(section).toMatch(/<caption>against the candidate: <span class="fail">failed<\/span>/);
    expect(section).toMatch(/<tr class="check failed"><td>cmdline<\/td>.*missing: rollgate\.report=1/);
    expect(dom).toContain('<svg id="timeline"');
    // This machine may have no IOMMU: the topology then says why it has no picture.
    expect(dom).toMatch(/<svg class="topology"|IOMMU groups unknown|no IOMMU groups/);
    expect(dom).not.toContain(SECRET);
  });

  it('rollgate check --html draws every host of an inventory without a run', async () => {
    const inv = join(dir, 'check.yml');
    const lines = fleet.hosts.map(
      (h) =>
        `    ${h.name}: {ansible_host: ${h.address}, ansible_port: ${h.port}, ansible_user: rgops, ansible_become: true, ansible_ssh_private_key_file: ${fleet.clientKey}, rollgate_known_hosts_file: ${fleet.knownHosts}}\n`,
    );
    writeFileSync(inv, `all:\n  hosts:\n${lines.join('')}`);
    const file = join(OUT, 'check.html');
    rmSync(file, { force: true });
    const r = await quiet(() => main(['node', 'rollgate', 'check', '-i', inv, '--html', file]));
    expect([0, 1], r.err).toContain(r.code);
    expect(existsSync(file)).toBe(true);
    const html = readFileSync(file, 'utf8');
    for (const h of fleet.hosts) expect(html).toContain(`data-host="${h.name}"`);
    expect(html).toContain('class="findings"');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });
});
