import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recipeDir } from '../../src/lab/settings.js';
import { BAD_KERNEL_ABI } from '../../src/lab/faults/faults.js';

const recipe = recipeDir();
const helpers = join(recipe, 'kernel-package.sh');

/** Run `. kernel-package.sh; SCRIPT` under sh, as the chroot scripts do. */
function withHelpers(script: string, args: string[] = []) {
  return spawnSync('sh', ['-c', `. "$0"; ${script}`, helpers, ...args], { encoding: 'utf8' });
}

function names(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
}

describe('the lab kernel packages (lab/image)', () => {
  it('are built by scripts sh and bash accept', () => {
    for (const f of ['kernel-package.sh', 'make-bad-kernel.sh', 'make-update-kernel.sh']) execFileSync('sh', ['-n', join(recipe, f)]);
    execFileSync('bash', ['-n', join(recipe, 'build.sh')]);
  });

  it("give the bad kernel the ABI name the bad-kernel fault installs", () => {
    expect(readFileSync(join(recipe, 'build.sh'), 'utf8')).toMatch(new RegExp(`^BAD_ABI=${BAD_KERNEL_ABI.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('resolve the update kernel module list through modules.dep, "-" and "_" alike', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-moddir-'));
    writeFileSync(join(dir, 'modules.dep'), [
      'kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko',
      'kernel/fs/jbd2/jbd2.ko:',
      'kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko',
      'kernel/drivers/net/e1000e/e1000e.ko:',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/virtio/virtio_mmio.ko\n');
    writeFileSync(join(dir, 'list.txt'), '# comment\next4\n\nvfio_pci  # trailing comment\nvirtio-mmio\njbd2\n');
    const ok = withHelpers('module_files "$1" "$2"', [join(dir, 'list.txt'), dir]);
    expect(ok.status).toBe(0);
    expect(ok.stdout.split('\n').filter(Boolean)).toEqual([
      'kernel/drivers/vfio/pci/vfio-pci-core.ko',
      'kernel/drivers/vfio/pci/vfio-pci.ko',
      'kernel/drivers/vfio/vfio.ko',
      'kernel/fs/ext4/ext4.ko',
      'kernel/fs/jbd2/jbd2.ko',
      'kernel/fs/mbcache.ko',
      'kernel/lib/crc16.ko',
    ]);
    writeFileSync(join(dir, 'list.txt'), 'ext4\nno_such_driver\n');
    const bad = withHelpers('module_files "$1" "$2"', [join(dir, 'list.txt'), dir]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`module no_such_driver of ${join(dir, 'list.txt')} is neither in ${join(dir, 'modules.dep')} nor built in`);
    const missing = withHelpers('module_files "$1" "$2"', [join(dir, 'nothing.txt'), dir]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`cannot read the module list ${join(dir, 'nothing.txt')}`);
  });

  it("rename a real kernel's maintainer scripts and keep the shipped initramfs (INITRD=No before postinst.d)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-maint-'));
    mkdirSync(join(dir, 'out'));
    const postinst = [
      '#!/bin/sh -e', 'version=6.1.0-47-amd64', 'depmod $version',
      'if [ -d /etc/kernel/postinst.d ]; then', '    run-parts --arg=$version /etc/kernel/postinst.d', 'fi', 'exit 0', '',
    ].join('\n');
    writeFileSync(join(dir, 'postinst'), postinst);
    const ok = withHelpers('install_maintainer_script "$1" "$2" 6.1.0-47-amd64 6.1.0-99-amd64', [join(dir, 'postinst'), join(dir, 'out', 'postinst')]);
    expect(ok.status).toBe(0);
    expect(readFileSync(join(dir, 'out', 'postinst'), 'utf8')).toBe(postinst
      .replace('version=6.1.0-47-amd64', 'version=6.1.0-99-amd64')
      .replace('if [ -d /etc/kernel/postinst.d ]', 'export INITRD=No  # the package ships its initramfs\nif [ -d /etc/kernel/postinst.d ]'));
    writeFileSync(join(dir, 'postinst'), '#!/bin/sh\nexit 0\n');
    const bad = withHelpers('install_maintainer_script "$1" "$2" a b', [join(dir, 'postinst'), join(dir, 'out', 'postinst')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('has no /etc/kernel/postinst.d block to put INITRD=No before');
  });

  it('ship in the update every module a lab VM loads (test/fixtures/lab/*/lsmod.txt) unless the image keeps it out', () => {
    const listed = new Set(names(join(recipe, 'update-kernel-modules.txt')));
    const blacklisted = readFileSync(join(recipe, 'files/etc/modprobe.d/rollgate-lab-lean.conf'), 'utf8').match(/^blacklist \S+/gm)!.map((l) => l.slice(10));
    const masked = [...readFileSync(join(recipe, 'build.sh'), 'utf8').matchAll(/modprobe@(\w+)\.service/g)].map((m) => m[1]!);
    const fixtures = join(recipe, '../../test/fixtures/lab');
    const usedBy = new Map<string, string[]>();
    for (const d of readdirSync(fixtures).filter((d) => !d.includes('.'))) {
      for (const line of readFileSync(join(fixtures, d, 'lsmod.txt'), 'utf8').split('\n').slice(1).filter(Boolean)) {
        const [name, , , users] = line.split(/\s+/);
        usedBy.set(name!, [...(usedBy.get(name!) ?? []), ...(users ? users.split(',') : [])]);
      }
    }
    expect(usedBy.size).toBeGreaterThan(60);
    // A module only other modules load comes with them (modules.dep); one the image keeps out needs no shipping.
    const covered = (m: string, seen: string[] = []): boolean =>
      listed.has(m) || blacklisted.includes(m) || masked.includes(m) ||
      (!seen.includes(m) && (usedBy.get(m)?.length ?? 0) > 0 && usedBy.get(m)!.every((u) => covered(u, [...seen, m])));
    expect([...usedBy.keys()].filter((m) => !covered(m))).toEqual([]);
    for (const m of ['virtio_pci', 'virtio_blk', 'ext4', 'vfat', 'e1000e', 'bochs', 'snd_hda_intel', 'vfio_pci', 'kvm_intel', 'kvm_amd', 'qemu_fw_cfg']) {
      expect(listed.has(m), m).toBe(true);
    }
  });
});
