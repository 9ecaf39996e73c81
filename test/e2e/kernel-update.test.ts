/**
 * The rolling kernel update, rollgate's first job, on lab VMs: the image runs the older of Debian's two newest
 * kernel ABIs and its local repository holds the newer one as a good update (docs/lab.md, "The image"). Side by
 * side, each on a host of its own:
 *   - `kernel-update.yml -e target_kernel=X` installs X, trial-boots it, verifies and commits: the host runs X from
 *     X's own boot entry, the old kernel still installed;
 *   - with X installed but not running (what unattended upgrades leave behind), `kernel-update.yml` without
 *     target_kernel adopts it and does the same;
 *   - the shipped playbooks' read-only invocations the README documents: `health-snapshot.yml --json` and
 *     `enable-iommu-passthrough.yml --check --diff` (a preview that changes nothing).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageManifest } from '../../src/lab/image.js';
import type { ClaimRequest } from './lab-claims.js';
import { ensureLab, type Lab } from './lab-harness.js';
import { cli, FILES_HASH, finishedOf, storyOf, GRUBENV, JOURNAL, onHost, ROOT } from './rollout-support.js';

let lab: Lab;
let manifest: ImageManifest;

beforeAll(async () => {
  lab = await ensureLab();
  manifest = JSON.parse(readFileSync(join(dirname(lab.state.imageBase), 'manifest.json'), 'utf8')) as ImageManifest;
});

async function onClaimed(req: ClaimRequest, fn: (hosts: string[]) => Promise<void>): Promise<void> {
  const claim = await lab.claim(req);
  try {
    await fn(claim.hosts);
  } finally {
    claim.release();
  }
}

function rollgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'rollgate.js'), ...args],
      { cwd: ROOT, timeout: 30 * 60_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const elapsed = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

/** After a committed kernel update: the new kernel runs, from its own entry, and the old one is still there. */
async function expectUpdated(host: string): Promise<void> {
  const { kernel: old, updateKernel: next } = manifest;
  expect(await onHost(lab, host, 'uname -r')).toBe(`${next}\n`);
  const env = await onHost(lab, host, GRUBENV);
  expect(env).toMatch(
    new RegExp(
      `^saved_entry=gnulinux-advanced-[0-9a-f-]+>gnulinux-${next.replace(/\./g, '\\.')}-advanced-[0-9a-f-]+\\n$`,
    ),
  );
  expect(await onHost(lab, host, `dpkg-query -W -f='\${Status}' linux-image-${old}`)).toBe('install ok installed');
  expect(
    await onHost(lab, host, 'ls /boot/grub/rollgate.cfg /etc/grub.d/06_rollgate /boot/rollgate 2>&1 || true'),
  ).not.toMatch(/^\/boot/m);
}

describe.concurrent('kernel updates on lab VMs', () => {
  it('installs the target kernel, trial-boots it, verifies and commits (-e target_kernel)', (t) =>
    onClaimed({ skip: t.skip, any: 1, label: 'kernel-update target', estimateMin: 17, priority: 1 }, async ([h]) => {
      const host = h!;
      const t = Date.now();
      expect(await onHost(lab, host, 'uname -r')).toBe(`${manifest.kernel}\n`);
      const run = cli([
        'rollout',
        'playbooks/kernel-update.yml',
        '-i',
        lab.inventoryFile,
        '--limit',
        host,
        '-e',
        `target_kernel=${manifest.updateKernel}`,
        '--boot-timeout',
        '1200',
      ]);
      const { code, events } = await run.done;
      console.log(`kernel-update target: ${elapsed(t)}`);
      expect(finishedOf(events), storyOf(events, run.stderr())).toEqual({ [host]: 'changed' });
      expect(code).toBe(0);
      const v = events.find((e) => e.type === 'rollout.verification' && e.host === host);
      expect(v).toMatchObject({ against: 'candidate', ok: true });
      await expectUpdated(host);
    }));

  it('adopts a newer kernel that is installed but not running (no target_kernel)', (t) =>
    onClaimed(
      { skip: t.skip, any: 1, label: 'kernel-update adopt newest', estimateMin: 18, priority: 0 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        await onHost(
          lab,
          host,
          `DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-image-${manifest.updateKernel} >/dev/null`,
        );
        expect(await onHost(lab, host, 'uname -r')).toBe(`${manifest.kernel}\n`);
        const run = cli([
          'rollout',
          'playbooks/kernel-update.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
          '--boot-timeout',
          '1200',
        ]);
        const { code, events } = await run.done;
        console.log(`kernel-update adopt newest: ${elapsed(t)}`);
        expect(finishedOf(events), storyOf(events, run.stderr())).toEqual({ [host]: 'changed' });
        expect(code).toBe(0);
        await expectUpdated(host);
      },
    ));

  it('runs the shipped read-only invocations: a health snapshot as JSON lines, a --check --diff preview that changes nothing', (t) =>
    onClaimed(
      { skip: t.skip, intel: 1, readOnly: true, label: 'shipped read-only invocations', estimateMin: 5 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        const files = await onHost(lab, host, FILES_HASH);
        const env = await onHost(lab, host, GRUBENV);
        const boot = await lab.bootId(host);
        const snap = await rollgate([
          'run',
          'playbooks/health-snapshot.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
          '--json',
          '--journal',
          JOURNAL,
        ]);
        expect(snap.code, snap.stderr).toBe(0);
        const events = snap.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; status?: string; host?: string; failed?: boolean });
        expect(events.filter((e) => e.type === 'task.result' && e.host === host).map((e) => e.status)).not.toContain(
          'failed',
        );
        expect(events.find((e) => e.type === 'run.finished')).toMatchObject({ failed: false });
        const preview = await rollgate([
          'run',
          'playbooks/enable-iommu-passthrough.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
          '--check',
          '--diff',
          '--journal',
          JOURNAL,
        ]);
        expect(preview.code, preview.stdout + preview.stderr).toBe(0);
        expect(preview.stdout).toMatch(/^\+.*intel_iommu=on.*iommu=pt/m);
        expect(preview.stdout).toMatch(new RegExp(`changed: \\[${host}\\]`));
        console.log(`shipped read-only invocations: ${elapsed(t)}`);
        expect({
          files: await onHost(lab, host, FILES_HASH),
          env: await onHost(lab, host, GRUBENV),
          boot: await lab.bootId(host),
        }).toEqual({ files, env, boot });
      },
    ));
});
