/**
 * boot_default on real sshd hosts whose roots boot through grub.cfg with the real GRUB user tools: a stock Debian
 * host (GRUB_DEFAULT=0) and an Ubuntu-shaped one (recordfail waiting forever, GRUB_SAVEDEFAULT=true, GRUB_DEFAULT
 * in a grub.d drop-in) are refused by the trial boot's preflight, made ready by the module as a change with an
 * exact preview and a byte-for-byte undo, and then pass the preflight; values computed by the shell are refused.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootDefault } from '../../src/modules/actions/boot-default.js';
import { makeHostRoot } from '../../src/modules/host-root.js';
import { GrubTrialBoot } from '../../src/trial-boot/grub-trial.js';
import { moduleContext, useModuleHost } from './support/module-host.js';
import { DEBIAN_GRUB, put } from './support/fake-root.js';
import { updateGrub, useRealGrubTools } from './support/grub-root.js';
import { runContract } from './support/module-contract.js';

const host = useModuleHost();

/** A Debian-shaped root booted by its grub.cfg, with /etc/default/grub as given (grub.cfg regenerated). */
function grubRoot(defaults: string, extra: (r: string) => void = () => {}): string {
  const r = host.root('bootdefault', 'debian');
  useRealGrubTools(r, { grubenv: 'created' });
  put(r, 'etc/default/grub', defaults);
  extra(r);
  updateGrub(r);
  return r;
}

const preflightChecks = async (r: string) =>
  (await new GrubTrialBoot(host.conn, makeHostRoot(r)).preflight()).problems.map((p) => p.check);

describe('boot_default on real sshd hosts', () => {
  it('stock Debian (GRUB_DEFAULT=0): refused by the preflight, made saved as a previewed change, undone byte for byte', async () => {
    const stock = DEBIAN_GRUB.replace('GRUB_DEFAULT=saved', 'GRUB_DEFAULT=0');
    const r = grubRoot(stock);
    expect(await preflightChecks(r)).toEqual(['grub_default']);
    expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).toContain('set default="0"');
    const { outcome, message } = await runContract(
      host.conn,
      r,
      bootDefault,
      {},
      {
        afterApply: async () => {
          expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).toContain('set default="${saved_entry}"');
          expect(await preflightChecks(r)).toEqual([]);
        },
      },
    );
    expect(outcome.preview.files).toEqual([
      {
        path: join(r, 'etc/default/grub'),
        before: stock,
        after: stock.replace('GRUB_DEFAULT=0', 'GRUB_DEFAULT=saved'),
      },
    ]);
    expect(outcome.preview.commands).toEqual([expect.stringMatching(/update-grub$/)]);
    expect(message).toBe(`GRUB_DEFAULT=saved; ${join(r, 'boot/grub/grub.cfg')} regenerated`);
    // Undone: the stock default again, and grub.cfg regenerated from it (runContract compared every byte).
    expect(await preflightChecks(r)).toEqual(['grub_default']);
  });

  it('Ubuntu-shaped: a drop-in GRUB_DEFAULT, GRUB_SAVEDEFAULT=true and a recordfail that waits forever, all fixed where they are written', async () => {
    const defaults = 'GRUB_DEFAULT=0\nGRUB_SAVEDEFAULT=true\nGRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX=""\n';
    const dropIn = '# the cloud image sets this\nGRUB_DEFAULT="1>2"  # keep\n';
    const r = grubRoot(defaults, (root) => {
      put(root, 'etc/rollgate-test-ubuntu-recordfail', '');
      put(root, 'etc/default/grub.d/50-cloudimg.cfg', dropIn);
    });
    expect(await preflightChecks(r)).toEqual(['grub_default', 'grub_savedefault', 'recordfail']);
    const { outcome } = await runContract(
      host.conn,
      r,
      bootDefault,
      { recordfail_timeout: 7 },
      {
        afterApply: async () => {
          const cfg = readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8');
          expect(cfg).toContain('set timeout=7');
          expect(await preflightChecks(r)).toEqual([]);
        },
      },
    );
    expect(outcome.preview.files).toEqual([
      {
        path: join(r, 'etc/default/grub'),
        before: defaults,
        after:
          'GRUB_DEFAULT=0\nGRUB_SAVEDEFAULT=false\nGRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX=""\nGRUB_RECORDFAIL_TIMEOUT=7\n',
      },
      {
        path: join(r, 'etc/default/grub.d/50-cloudimg.cfg'),
        before: dropIn,
        after: '# the cloud image sets this\nGRUB_DEFAULT=saved  # keep\n',
      },
    ]);
  });

  it('finds nothing to do on a ready host, and regenerates a grub.cfg that lags behind its defaults', async () => {
    const r = grubRoot(DEBIAN_GRUB);
    const ctx = moduleContext(host.conn, { rollgate_root: r });
    expect(await bootDefault.check(ctx, {})).toMatchObject({ status: 'no_change' });
    // Set by hand, update-grub never run: no file to edit, but grub.cfg must be regenerated.
    put(r, 'boot/grub/grub.cfg', readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8').replace('${saved_entry}', '0'));
    const stale = await bootDefault.check(ctx, {});
    expect(stale).toMatchObject({
      status: 'change',
      preview: { files: [], commands: [expect.stringMatching(/update-grub$/)] },
    });
  });

  it('refuses a GRUB_DEFAULT the shell computes, and a host without GRUB defaults', async () => {
    const r = grubRoot(DEBIAN_GRUB.replace('GRUB_DEFAULT=saved', 'GRUB_DEFAULT=$(cat /etc/default-entry)'));
    await expect(bootDefault.check(moduleContext(host.conn, { rollgate_root: r }), {})).rejects.toThrow(
      /etc\/default\/grub: GRUB_DEFAULT=\$\(cat is computed by the shell; rollgate will not rewrite it/,
    );
    const sdboot = host.root('bootdefault-sd', 'systemd-boot');
    await expect(bootDefault.check(moduleContext(host.conn, { rollgate_root: sdboot }), {})).rejects.toThrow(
      /boot_default prepares GRUB's defaults file; this host boots through systemd-boot/,
    );
  });
});
