/**
 * The change modules against a real lab VM (real kernel, emulated Intel IOMMU, its own GRUB, real update-grub and
 * update-initramfs): kernel args + vfio-pci binding + initramfs + reboot take effect, then undo + reboot bring back
 * the original cmdline, driver and byte-identical files. Claims one Intel host of the shared lab for the file.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/connection/connection.js';
import { sh } from '../../src/connection/shell-quote.js';
import { connectLabHost } from '../../src/lab/lab.js';
import type { LabSettings } from '../../src/lab/settings.js';
import type { RollgateEvent } from '../../src/events/events.js';
import type { ActionModule, ModuleContext, UndoRecord } from '../../src/modules/module.js';
import { kernelArgs } from '../../src/modules/actions/kernel-args.js';
import { vfioBind } from '../../src/modules/actions/vfio-bind.js';
import { initramfs } from '../../src/modules/actions/initramfs.js';
import { reboot } from '../../src/modules/actions/reboot.js';
import { applyUndos, undoHasWork } from '../../src/modules/undo.js';
import { BudgetSpent, type Claim } from './lab-claims.js';
import { ensureLab } from './lab-harness.js';

const STEP_MS = 60 * 60_000;
let settings: LabSettings;
let HOST = '';
let claim: Claim | undefined;
const NIC = { addr: '0000:01:00.0', id: '8086:10d3' };
const events: RollgateEvent[] = [];
const undos: UndoRecord[] = [];
let ctx: ModuleContext;
let baseline: Record<string, string> = {};
let release = '';

async function run(cmd: string): Promise<string> {
  const r = await ctx.conn.exec(cmd, { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`${cmd}: exit ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

/** Regenerated at every boot by systemd (the image ships it empty), whatever rollgate does. */
const PER_BOOT = new Set(['/etc/machine-id']);

/** sha256 of every file under /etc and /boot (one line per file). */
async function hashes(): Promise<Record<string, string>> {
  const out = await run('find /etc /boot -xdev -type f -print0 | sort -z | xargs -0 sha256sum');
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(66), l.slice(0, 64)])
      .filter(([f]) => !PER_BOOT.has(f!)),
  );
}

async function change<A>(mod: ActionModule<A, any>, args: A): Promise<string> {
  const preview = await mod.check({ ...ctx, checkMode: true }, args);
  expect(preview.status).toBe('change');
  const out = await mod.check(ctx, args);
  if (out.status !== 'change') throw new Error(`${mod.name}: expected a change`);
  undos.unshift(out.undo); // journaled before apply; newest first for undo
  const applied = await mod.apply(ctx, args, out.change);
  expect((await mod.check(ctx, args)).status).toBe(mod.name === 'reboot' ? 'change' : 'no_change');
  return applied.message;
}

beforeAll(async () => {
  const lab = await ensureLab();
  try {
    claim = await lab.claim({ intel: 1, label: 'modules-lab', estimateMin: 20 });
  } catch (err) {
    if (err instanceof BudgetSpent) {
      budgetSkip = err.message;
      return;
    }
    throw err;
  }
  HOST = claim.hosts[0]!;
  settings = lab.settings;
  ctx = {
    conn: await connectLabHost(settings, HOST),
    host: HOST,
    vars: { rollgate_reboot_poll_seconds: 10 },
    checkMode: false,
    emit: (e) => events.push(e),
    async reconnect(): Promise<Connection> {
      await ctx.conn.close();
      ctx.conn = await connectLabHost(settings, HOST);
      return ctx.conn;
    },
  };
  release = (await run('uname -r')).trim();
  baseline = await hashes();
}, STEP_MS);

afterAll(async () => {
  await ctx?.conn.close();
  claim?.release();
}, STEP_MS);

/** Past the run's e2e budget before this file got its hosts: its tests are skipped (lab-claims.ts). */
let budgetSkip: string | undefined;
beforeEach((t) => {
  if (budgetSkip) t.skip(budgetSkip);
});

describe('change modules on a lab VM', () => {
  it(
    'plans the GPU + audio pair from the real IOMMU groups, and refuses half of it',
    async () => {
      const pair = await vfioBind.check({ ...ctx, checkMode: true }, { ids: ['1234:1111', '8086:293e'] });
      expect(pair.status).toBe('change');
      await expect(vfioBind.check({ ...ctx, checkMode: true }, { ids: ['1234:1111'] })).rejects.toThrow(
        /also holds 0000:00:04.1 \[8086:293e\]/,
      );
    },
    STEP_MS,
  );

  it(
    'sets intel_iommu=on iommu=pt, binds the NIC to vfio-pci, rebuilds the initramfs and reboots into it',
    async () => {
      await change(kernelArgs, { present: ['intel_iommu=on', 'iommu=pt'] });
      expect(await run('grep -c "intel_iommu=on iommu=pt" /boot/grub/grub.cfg')).not.toBe('0\n');
      await change(vfioBind, { ids: [NIC.id] });
      expect(await change(initramfs, {})).toBe(
        `initramfs rebuilt for ${release}; holds vfio, vfio_iommu_type1, vfio_pci`,
      );
      await change(reboot, { boot_timeout: 1800, reason: 'e2e: passthrough on' });
      expect(await run('cat /proc/cmdline')).toMatch(/ intel_iommu=on iommu=pt /);
      expect(await run(sh`lspci -nnk -s ${NIC.addr}`.text)).toContain('Kernel driver in use: vfio-pci');
      expect(await run('cat /sys/kernel/iommu_groups/*/type | sort -u')).toContain('identity');
    },
    STEP_MS,
  );

  it(
    'undo + reboot bring back the cmdline, the driver and byte-identical files',
    async () => {
      const report = await applyUndos(ctx.conn, undos.filter(undoHasWork));
      expect(report.failures).toEqual([]);
      const out = await reboot.check(ctx, { boot_timeout: 1800 });
      if (out.status !== 'change') throw new Error('expected change');
      await reboot.apply(ctx, {}, out.change);
      expect(await run('cat /proc/cmdline')).not.toMatch(/intel_iommu|iommu=pt/);
      expect(await run(sh`lspci -nnk -s ${NIC.addr}`.text)).toContain('Kernel driver in use: e1000e');
      const after = await hashes();
      const changed = Object.keys({ ...baseline, ...after }).filter((f) => baseline[f] !== after[f]);
      expect(changed).toEqual([]);
    },
    STEP_MS,
  );
});
