/**
 * `rollgate check`, `snapshot` and `diff` against a real lab VM (real kernel, emulated IOMMU, its own GRUB): the
 * first test reads an Intel host (claimed read-only), the second changes a host of any kind (iommu=pt + reboot).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '../../src/connection/connection.js';
import { connectLabHost } from '../../src/lab/lab.js';
import type { LabSettings } from '../../src/lab/settings.js';
import { labPaths, readLabState } from '../../src/lab/state.js';
import { labTarget, waitForSsh } from '../../src/lab/ssh-ready.js';
import type { HostSnapshot } from '../../src/modules/facts/snapshot.js';
import type { FindingsReport } from '../../src/modules/findings/evaluate.js';
import { expectValidSnapshot } from '../helpers/snapshot-schema.js';
import { ensureLab, type Lab } from './lab-harness.js';

const CLI = new URL('../../bin/rollgate.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'rg-check-lab-'));
let settings: LabSettings;
let inventory: string;
let lab: Lab;

function rollgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 20 * 60_000, maxBuffer: 64 << 20, env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  lab = await ensureLab();
  settings = lab.settings;
  inventory = lab.inventoryFile;
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface CheckJson {
  hosts: Array<{ host: string; status: string; snapshot: HostSnapshot; report: FindingsReport }>;
}

describe.concurrent('rollgate check on a lab VM', () => {
  it('reports the IOMMU on, its default domain, interrupt remapping, the GPU pair in one group and the host drivers', async (t) => {
    const claim = await lab.claim({ intel: 1, readOnly: true, label: 'check-lab check', estimateMin: 4, skip: t.skip });
    const HOST = claim.hosts[0]!;
    try {
      const { code, stdout, stderr } = await rollgate(['check', '--json', '-i', inventory, '--limit', HOST]);
      // The GPU pair is named for passthrough but still on its host drivers: error findings, exit 1.
      expect(code, stderr).toBe(1);
      const { hosts } = JSON.parse(stdout) as CheckJson;
      expect(hosts.map((h) => [h.host, h.status])).toEqual([[HOST, 'ok']]);
      const { snapshot: s, report } = hosts[0]!;
      expectValidSnapshot(s);
      expect(s.privileged).toEqual({ status: 'ok', value: true });
      expect(s.iommu.vendor).toMatchObject({ status: 'ok', value: { value: 'intel' } });
      expect(s.iommu.active).toMatchObject({ status: 'ok', value: { value: true } });
      expect(s.iommu.defaultDomain).toMatchObject({ status: 'ok', value: { value: 'translated' } });
      expect(s.iommu.interruptRemapping).toMatchObject({ status: 'ok', value: { value: { enabled: true } } });
      const groups = s.iommu.groups.status === 'ok' ? s.iommu.groups.value : [];
      const groupOf = (addr: string) =>
        groups
          .find((g) => g.devices.some((d) => d.address === addr))
          ?.devices.map((d) => d.address)
          .sort();
      expect(groupOf('0000:00:04.0')).toEqual(['0000:00:04.0', '0000:00:04.1']);
      expect(groupOf('0000:01:00.0')).toEqual(['0000:01:00.0']);
      const pci = s.pci.status === 'ok' ? s.pci.value : [];
      const driverOf = (addr: string) => pci.find((d) => d.address === addr);
      expect(driverOf('0000:00:04.0')).toMatchObject({ id: '1234:1111', driver: 'bochs-drm' });
      expect(driverOf('0000:00:04.1')).toMatchObject({ id: '8086:293e', driver: 'snd_hda_intel' });
      expect(driverOf('0000:01:00.0')).toMatchObject({ id: '8086:10d3', driver: 'e1000e' });
      // The lab VMs run no libvirt: no guests, nothing undecided about them.
      expect(s.guests).toMatchObject({ status: 'ok', value: { libvirt: false, domains: [] } });
      // Diagnosis order: the IOMMU layer is fine, so the first thing to fix is the binding of the named pair.
      expect(report.fixFirst).toBe('binding');
      expect(
        report.findings
          .filter((f) => f.severity === 'error')
          .map((f) => f.device)
          .filter(Boolean),
      ).toEqual(expect.arrayContaining(['0000:00:04.0', '0000:00:04.1']));
      // The same host as a picture (rollgate check --html), as headless chromium lays it out: the GPU pair in one
      // IOMMU group, the NIC alone in its own.
      const page = join(work, `check-${HOST}.html`);
      const html = await rollgate(['check', '-i', inventory, '--limit', HOST, '--html', page]);
      expect(html.code, html.stderr).toBe(1);
      const dom = await new Promise<string>((resolve, reject) =>
        execFile(
          'chromium',
          ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${page}`],
          { timeout: 120_000, maxBuffer: 64 << 20 },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      const boxes = dom.split('<g class="iommu-group"').slice(1);
      const boxOf = (addr: string) => boxes.find((b) => b.includes(`data-address="${addr}"`)) ?? '';
      expect(boxOf('0000:00:04.0')).toContain('data-address="0000:00:04.1"');
      expect(boxOf('0000:01:00.0')).not.toContain('data-address="0000:00:04.0"');
    } finally {
      claim.release();
    }
  });

  it('names exactly what iommu=pt changed: rollgate diff of snapshots before and after', async (t) => {
    const claim = await lab.claim({ any: 1, label: 'check-lab diff', estimateMin: 12, skip: t.skip });
    const HOST = claim.hosts[0]!;
    try {
      const before = await rollgate(['snapshot', '-i', inventory, '--limit', HOST, '-o', join(work, `before-${HOST}`)]);
      expect(before.code, before.stderr).toBe(0);
      const root: Connection = await connectLabHost(settings, HOST);
      let bootId: string;
      try {
        bootId = (await root.exec('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
        const r = await root.exec(
          `sed -i 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="iommu=pt"/' /etc/default/grub && update-grub >/dev/null 2>&1 && (nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &)`,
          { timeoutMs: 600_000 },
        );
        expect(r.exitCode, r.stderr).toBe(0);
      } finally {
        await root.close();
      }
      const state = readLabState(labPaths(settings.stateDir))!;
      await waitForSsh(
        labTarget(
          state.hosts[HOST]!,
          { operatorKey: labPaths(settings.stateDir).operatorKey, knownHosts: labPaths(settings.stateDir).knownHosts },
          'root',
          settings.sshConnectTimeoutMs,
        ),
        {
          timeoutMs: settings.bootTimeoutMs,
          pollMs: settings.sshPollMs,
          notBootId: bootId,
          consoleLog: state.hosts[HOST]!.consoleLog,
        },
      );
      const after = await rollgate(['snapshot', '-i', inventory, '--limit', HOST, '-o', join(work, `after-${HOST}`)]);
      expect(after.code, after.stderr).toBe(0);
      const diff = await rollgate([
        'diff',
        join(work, `before-${HOST}`, `${HOST}.json`),
        join(work, `after-${HOST}`, `${HOST}.json`),
        '--json',
      ]);
      expect(diff.code, diff.stdout).toBe(0);
      expect(JSON.parse(diff.stdout)).toEqual({
        host: HOST,
        rebooted: true,
        changes: [
          { kind: 'cmdline-arg-added', impact: 'change', message: 'kernel argument added: iommu=pt' },
          { kind: 'default-domain-changed', impact: 'change', message: 'default domain translated -> passthrough' },
        ],
        regressions: 0,
      });
    } finally {
      claim.release();
    }
  });
});
