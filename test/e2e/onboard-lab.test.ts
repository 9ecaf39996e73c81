/**
 * Onboarding as an operator does it, on a lab VM (real kernel, emulated Intel IOMMU, its own GRUB, real
 * update-grub and update-initramfs): `rollgate run playbooks/onboard-passthrough.yml` sets intel_iommu=on iommu=pt,
 * binds the lab's root-port NIC to vfio-pci, rebuilds the initramfs, reboots and verifies; `rollgate check` then
 * shows the passthrough default domain and vfio-pci in use; `rollgate undo RUN` + a reboot bring back the original
 * cmdline, driver and byte-identical files under /etc and /boot. Two TCG reboots and two initramfs rebuilds on one
 * claimed Intel host.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSnapshot } from '../../src/modules/facts/snapshot.js';
import { BudgetSpent, type Claim } from './lab-claims.js';
import { ensureLab, type Lab } from './lab-harness.js';
import { ROOT } from './rollout-support.js';

let HOST = '';
let claim: Claim | undefined;
const NIC = { address: '0000:01:00.0', id: '8086:10d3' };
/** Regenerated at every boot by systemd (the image ships it empty), whatever rollgate does. */
const PER_BOOT = new Set(['/etc/machine-id']);
const journal = join(mkdtempSync(join(tmpdir(), 'rg-onboard-lab-')), 'journal.db');
let lab: Lab;

/** The CLI; the commands that journal (`run`, `undo`) write to this file's own journal. */
function rollgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const journaled = args[0] === 'run' || args[0] === 'undo' ? ['--journal', journal] : [];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'rollgate.js'), ...args, ...journaled],
      { cwd: ROOT, timeout: 40 * 60_000, maxBuffer: 64 << 20, env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function onHost(script: string): Promise<string> {
  const conn = await lab.connect(HOST, 'root');
  try {
    const r = await conn.exec(script, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new Error(`${HOST}: ${script}: exit ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  } finally {
    await conn.close();
  }
}

/** sha256 of every file under /etc and /boot. */
async function hashes(): Promise<Record<string, string>> {
  const out = await onHost('find /etc /boot -xdev -type f -print0 | sort -z | xargs -0 sha256sum');
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(66), l.slice(0, 64)])
      .filter(([f]) => !PER_BOOT.has(f!)),
  );
}

beforeAll(async () => {
  lab = await ensureLab();
  try {
    claim = await lab.claim({ intel: 1, label: 'onboard-lab', estimateMin: 25, priority: 1 });
  } catch (err) {
    if (err instanceof BudgetSpent) {
      budgetSkip = err.message;
      return;
    }
    throw err;
  }
  HOST = claim.hosts[0]!;
});
afterAll(() => claim?.release());

/** Past the run's e2e budget before this file got its hosts: its tests are skipped (lab-claims.ts). */
let budgetSkip: string | undefined;
beforeEach((t) => {
  if (budgetSkip) t.skip(budgetSkip);
});

describe('onboarding a lab VM with rollgate run, check and undo', () => {
  let baseline: Record<string, string>;
  let cmdline: string;
  let runId: string;

  it('onboard-passthrough.yml turns the IOMMU to pass-through, binds the NIC to vfio-pci, reboots and verifies', async () => {
    baseline = await hashes();
    cmdline = await onHost('cat /proc/cmdline');
    const before = await lab.bootId(HOST);
    const extra = JSON.stringify({
      passthrough_devices: [NIC.id],
      boot_timeout: Math.round(lab.settings.bootTimeoutMs / 1000),
    });
    const run = await rollgate([
      'run',
      'playbooks/onboard-passthrough.yml',
      '-i',
      lab.inventoryFile,
      '--limit',
      HOST,
      '-e',
      extra,
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`TASK \\[IOMMU on in pass-through mode\\] \\*+\\nchanged: \\[${HOST}\\]`));
    expect(run.stdout).toMatch(
      new RegExp(`TASK \\[Rebuild the initramfs with the vfio modules in it\\] \\*+\\nchanged: \\[${HOST}\\]`),
    );
    expect(run.stdout).toMatch(
      new RegExp(`TASK \\[IOMMU active in pass-through mode and every device on vfio-pci\\] \\*+\\nok: \\[${HOST}\\]`),
    );
    runId = /^run (\S+): journal /m.exec(run.stdout)?.[1] ?? '';
    expect(runId).not.toBe('');
    expect(await lab.bootId(HOST)).not.toBe(before);
  });

  it('rollgate check shows the passthrough default domain and vfio-pci in use', async () => {
    const { code, stdout, stderr } = await rollgate(['check', '--json', '-i', lab.inventoryFile, '--limit', HOST]);
    expect(stdout, `exit ${code}: ${stderr}`).not.toBe('');
    const { hosts } = JSON.parse(stdout) as { hosts: Array<{ host: string; snapshot: HostSnapshot }> };
    const s = hosts[0]!.snapshot;
    expect(s.iommu.defaultDomain, stderr).toMatchObject({ status: 'ok', value: { value: 'passthrough' } });
    const pci = s.pci.status === 'ok' ? s.pci.value : [];
    expect(pci.find((d) => d.address === NIC.address)).toMatchObject({ id: NIC.id, driver: 'vfio-pci' });
    expect(await onHost(`lspci -nnk -s ${NIC.address}`)).toContain('Kernel driver in use: vfio-pci');
  });

  it('rollgate undo + a reboot bring back the cmdline, the driver and byte-identical files', async () => {
    const undo = await rollgate(['undo', runId, '-i', lab.inventoryFile, '--limit', HOST]);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    await lab.reboot(HOST);
    expect(await onHost('cat /proc/cmdline')).toBe(cmdline);
    expect(await onHost(`lspci -nnk -s ${NIC.address}`)).toContain('Kernel driver in use: e1000e');
    const after = await hashes();
    const changed = Object.keys({ ...baseline, ...after }).filter((f) => baseline[f] !== after[f]);
    expect(changed).toEqual([]);
  });
});
